// Per-trial store overhead: the store calls one trial costs the scheduler, over 10,000 trials of
// one study, against a real SQLite file in a temp data dir. No processes are started.
//
//   create        addTrials (one assignment, with algorithm state)
//   running       markTrialRunning
//   observations  10 output lines, each its own addObservations call with 2 metrics
//   complete      strategyValue of the objective, then completeTrial
//   reads         the scheduler's reads per pass: trialCounts, activeTrials, bestTrial
//
// Separately: listTrials (the whole history the scheduler hands the algorithm each pass) at
// 1k/5k/10k trials, since it grows with the history by design.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StudySpec } from '../src/spec/types.js';
import type { Store } from '../src/store/store.js';
import { SqliteStore } from '../src/store/sqlite.js';

const TRIALS = 10_000;
const LINES_PER_TRIAL = 10;
const WINDOW = 1000;
const CHECKPOINTS = [1000, 5000, 10_000];
const LIST_REPEATS = 20;
const PHASES = ['create', 'running', 'observations', 'complete', 'reads'] as const;
type Phase = (typeof PHASES)[number];
const READS = ['trialCounts', 'activeTrials', 'bestTrial'] as const;
type ReadCall = (typeof READS)[number];

const spec: StudySpec = {
  name: 'bench',
  namespace: 'default',
  parameters: [
    { name: 'lr', parameterType: 'double', min: 0.0001, max: 0.1, distribution: 'logUniform' },
    { name: 'optimizer', parameterType: 'categorical', list: ['sgd', 'adam'] },
  ],
  objective: {
    type: 'maximize',
    objectiveMetricName: 'accuracy',
    additionalMetricNames: ['loss'],
    metricStrategies: [
      { name: 'accuracy', value: 'max' },
      { name: 'loss', value: 'min' },
    ],
  },
  algorithm: { algorithmName: 'random', algorithmSettings: [] },
  parallelTrialCount: 1,
  maxTrialCount: TRIALS,
  trialTemplate: { trialParameters: [{ name: 'lr', reference: 'lr' }], retain: false, command: ['true'] },
  metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
};

const ns = () => process.hrtime.bigint();
const ms = (n: bigint) => Number(n) / 1e6;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}
interface Stats { median: number; p90: number; p99: number; max: number }
function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), max: s[s.length - 1] ?? Number.NaN };
}
const f = (x: number) => x.toFixed(3).padStart(8);

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-store-'));
  const store = SqliteStore.open(dataDir);
  try {
    const study = await store.createStudy(spec, dataDir, 1);
    await store.transitionStudy(study.id, 'start');
    const objective = spec.objective.metricStrategies[0]!;

    const total: number[] = [];
    const phase: Record<Phase, number[]> = { create: [], running: [], observations: [], complete: [], reads: [] };
    const readSplit: Record<ReadCall, number[]> = { trialCounts: [], activeTrials: [], bestTrial: [] };
    const listTrials: { trials: number; stats: Stats; rows: number }[] = [];

    // A little warm-up on another study so the first measured trials do not pay for JIT.
    const warm = await store.createStudy({ ...spec, name: 'warmup' }, dataDir, 1);
    for (let i = 0; i < 200; i += 1) {
      const [tr] = await store.addTrials(warm.id, [{ lr: 0.01, optimizer: 'sgd' }], { n: String(i) });
      await store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:1' });
      await store.addObservations([{ trialId: tr!.id, observations: [
        { metric: 'accuracy', value: 0.5, step: 1, time: new Date().toISOString() },
        { metric: 'loss', value: 0.5, step: 1, time: new Date().toISOString() },
      ] }]);
      await store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: await store.strategyValue(tr!.id, 'accuracy', 'max') });
      await store.trialCounts(warm.id);
      await store.activeTrials(warm.id);
      await store.bestTrial(warm.id, 'maximize');
    }

    let sink = 0;
    for (let i = 1; i <= TRIALS; i += 1) {
      const assignment = { lr: 10 ** (-4 + 3 * Math.random()), optimizer: i % 2 === 0 ? 'sgd' : 'adam' };
      const algorithmState = { seed: '1', drawn: String(i) };
      // Values as a training run prints them: accuracy rising, loss falling, with noise.
      const quality = Math.random();

      const t0 = ns();
      const [trial] = await store.addTrials(study.id, [assignment], algorithmState);
      const t1 = ns();
      await store.transitionTrial(trial!.id, 'start', { runtimeRef: `pgid:${100_000 + i}` });
      const t2 = ns();
      for (let step = 1; step <= LINES_PER_TRIAL; step += 1) {
        const time = new Date().toISOString();
        const p = step / LINES_PER_TRIAL;
        await store.addObservations([{ trialId: trial!.id, observations: [
          { metric: 'accuracy', value: quality * p + 0.01 * Math.random(), step, time },
          { metric: 'loss', value: (1 - quality) / p + 0.01 * Math.random(), step, time },
        ] }]);
      }
      const t3 = ns();
      const value = await store.strategyValue(trial!.id, objective.name, objective.value);
      await store.transitionTrial(trial!.id, 'succeed', { reason: 'TrialSucceeded', message: 'completed', objectiveValue: value });
      const t4 = ns();
      const counts = await store.trialCounts(study.id);
      const r1 = ns();
      const active = await store.activeTrials(study.id);
      const r2 = ns();
      const best = await store.bestTrial(study.id, spec.objective.type);
      const t5 = ns();
      readSplit.trialCounts.push(ms(r1 - t4));
      readSplit.activeTrials.push(ms(r2 - r1));
      readSplit.bestTrial.push(ms(t5 - r2));
      sink += counts.SUCCEEDED + active.length + (best?.seq ?? 0);

      total.push(ms(t5 - t0));
      phase.create.push(ms(t1 - t0));
      phase.running.push(ms(t2 - t1));
      phase.observations.push(ms(t3 - t2));
      phase.complete.push(ms(t4 - t3));
      phase.reads.push(ms(t5 - t4));

      if (CHECKPOINTS.includes(i)) {
        const times: number[] = [];
        let rows = 0;
        for (let r = 0; r < LIST_REPEATS; r += 1) {
          const a = ns();
          rows = (await store.listTrials(study.id)).length;
          times.push(ms(ns() - a));
        }
        listTrials.push({ trials: i, rows, stats: stats(times) });
      }
    }
    if (sink === 42) console.log(''); // keep the reads observable

    // ---- report ----
    const overall = stats(total);
    const byPhase = Object.fromEntries(PHASES.map((p) => [p, stats(phase[p])])) as Record<Phase, Stats>;
    const windows = CHECKPOINTS.map((c) => ({
      trial: c,
      total: stats(total.slice(c - WINDOW, c)),
      phases: Object.fromEntries(PHASES.map((p) => [p, stats(phase[p].slice(c - WINDOW, c))])) as Record<Phase, Stats>,
      reads: Object.fromEntries(READS.map((r) => [r, stats(readSplit[r].slice(c - WINDOW, c))])) as Record<ReadCall, Stats>,
    }));

    const cpu = cpus();
    const machine = `${cpu.length} cores, ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}, ${process.platform}/${process.arch}`;
    console.log(`Store overhead per trial — ${TRIALS} trials of one study, ${LINES_PER_TRIAL} observation lines × 2 metrics each`);
    console.log(`machine: ${machine}`);
    console.log(`data dir: ${dataDir} (WAL, synchronous=NORMAL)\n`);
    console.log(`${'ms per trial'.padEnd(14)}${'median'.padStart(8)}${'p90'.padStart(9)}${'p99'.padStart(9)}${'max'.padStart(9)}`);
    const line = (label: string, s: Stats) => console.log(`${label.padEnd(14)}${f(s.median)} ${f(s.p90)} ${f(s.p99)} ${f(s.max)}`);
    line('whole trial', overall);
    for (const p of PHASES) line(`  ${p}`, byPhase[p]);

    console.log(`\nmedian of the ${WINDOW} trials before trial N (ms)`);
    console.log(`${'N'.padEnd(8)}${['whole', ...PHASES].map((h) => h.padStart(13)).join('')}`);
    for (const w of windows) {
      console.log(`${String(w.trial).padEnd(8)}${[w.total, ...PHASES.map((p) => w.phases[p])].map((s) => s.median.toFixed(3).padStart(13)).join('')}`);
    }

    console.log(`\nthe reads, split (median of the ${WINDOW} trials before trial N, ms)`);
    console.log(`${'N'.padEnd(8)}${READS.map((h) => h.padStart(13)).join('')}`);
    for (const w of windows) console.log(`${String(w.trial).padEnd(8)}${READS.map((r) => w.reads[r].median.toFixed(3).padStart(13)).join('')}`);

    console.log(`\nlistTrials (full history read, ${LIST_REPEATS} reads each; grows with history by design)`);
    console.log(`${'trials'.padEnd(8)}${'median'.padStart(9)}${'p90'.padStart(9)}${'max'.padStart(9)}`);
    for (const l of listTrials) console.log(`${String(l.trials).padEnd(8)}${f(l.stats.median)} ${f(l.stats.p90)} ${f(l.stats.max)}`);

    const target = 1;
    console.log(`\ntarget ≤ ${target} ms median per trial: ${overall.median <= target ? 'met' : 'MISSED'} (${overall.median.toFixed(3)} ms)`);

    const resultsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const out = join(resultsDir, 'store.json');
    writeFileSync(
      out,
      `${JSON.stringify(
        {
          benchmark: 'store-overhead',
          date: new Date().toISOString(),
          machine: { cores: cpu.length, cpu: cpu[0]?.model.trim(), node: process.version, platform: process.platform, arch: process.arch },
          trials: TRIALS,
          linesPerTrial: LINES_PER_TRIAL,
          metricsPerLine: 2,
          unit: 'ms',
          perTrial: overall,
          perPhase: byPhase,
          windows: windows.map((w) => ({ trial: w.trial, window: WINDOW, median: w.total.median, p90: w.total.p90, phasesMedian: Object.fromEntries(PHASES.map((p) => [p, w.phases[p].median])), readsMedian: Object.fromEntries(READS.map((r) => [r, w.reads[r].median])) })),
          listTrials: listTrials.map((l) => ({ trials: l.trials, rows: l.rows, repeats: LIST_REPEATS, ...l.stats })),
          targetMedianMs: target,
          targetMet: overall.median <= target,
        },
        null,
        2,
      )}\n`,
    );
    console.log(`results: ${out}`);
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
