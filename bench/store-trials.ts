// What the store costs through its interface, on whichever backend it is given:
//
// perTrial   the store calls one trial costs the scheduler, trial after trial in one study:
//   create        addTrials (one assignment, with algorithm state)
//   running       transitionTrial start
//   observations  10 output lines, each its own addObservations call with 2 metrics
//   complete      strategyValue of the objective, then transitionTrial succeed
//   reads         the scheduler's reads per pass: trialCounts, activeTrials, bestTrial
// and listTrials (the whole history handed to the algorithm each pass) at a few history sizes.
//
// ingest     observation rows/s written the way ObservationBatcher writes them: one
//            addObservations per tick carrying a batch for every trial that printed, awaited
//            before the next (the batcher keeps one write in flight).
import { tmpdir } from 'node:os';
import type { StudySpec } from '../src/spec/types.js';
import type { Store } from '../src/store/store.js';
import { nowMs, stats, type Stats } from './stats.js';

export const LINES_PER_TRIAL = 10;
const LIST_REPEATS = 20;
export const PHASES = ['create', 'running', 'observations', 'complete', 'reads'] as const;
export type Phase = (typeof PHASES)[number];
export const READS = ['trialCounts', 'activeTrials', 'bestTrial'] as const;
type ReadCall = (typeof READS)[number];

export function benchSpec(name: string, maxTrialCount: number): StudySpec {
  return {
    name,
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
    maxTrialCount,
    trialTemplate: { trialParameters: [{ name: 'lr', reference: 'lr' }], retain: false, command: ['true'] },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

export interface PerTrialResult {
  trials: number;
  perTrial: Stats;
  perPhase: Record<Phase, Stats>;
  /** Medians over the `window` trials before each checkpoint: flat if nothing grows with history. */
  windows: { trial: number; window: number; median: number; phasesMedian: Record<Phase, number>; readsMedian: Record<ReadCall, number> }[];
  listTrials: ({ trials: number; rows: number; repeats: number } & Stats)[];
}

const line = (quality: number, step: number, time: string) => {
  const p = step / LINES_PER_TRIAL;
  return [
    { metric: 'accuracy', value: quality * p + 0.01 * Math.random(), step, time },
    { metric: 'loss', value: (1 - quality) / p + 0.01 * Math.random(), step, time },
  ];
};

/** One trial's life through the store; the time of each phase in ms. */
async function oneTrial(store: Store, studyId: number, i: number): Promise<{ phases: Record<Phase, number>; reads: Record<ReadCall, number> }> {
  const assignment = { lr: 10 ** (-4 + 3 * Math.random()), optimizer: i % 2 === 0 ? 'sgd' : 'adam' };
  const quality = Math.random();
  const t0 = nowMs();
  const [trial] = await store.addTrials(studyId, [assignment], { seed: '1', drawn: String(i) });
  const t1 = nowMs();
  await store.transitionTrial(trial!.id, 'start', { runtimeRef: `pgid:${100_000 + i}` });
  const t2 = nowMs();
  for (let step = 1; step <= LINES_PER_TRIAL; step += 1) {
    await store.addObservations([{ trialId: trial!.id, observations: line(quality, step, new Date().toISOString()) }]);
  }
  const t3 = nowMs();
  const value = await store.strategyValue(trial!.id, 'accuracy', 'max');
  await store.transitionTrial(trial!.id, 'succeed', { reason: 'TrialSucceeded', message: 'completed', objectiveValue: value });
  const t4 = nowMs();
  const counts = await store.trialCounts(studyId);
  const r1 = nowMs();
  const active = await store.activeTrials(studyId);
  const r2 = nowMs();
  const best = await store.bestTrial(studyId, 'maximize');
  const t5 = nowMs();
  if (counts.SUCCEEDED < 1 || active.length !== 0 || !best) throw new Error(`trial ${i}: the reads disagree with what was written`);
  return {
    phases: { create: t1 - t0, running: t2 - t1, observations: t3 - t2, complete: t4 - t3, reads: t5 - t4 },
    reads: { trialCounts: r1 - t4, activeTrials: r2 - r1, bestTrial: t5 - r2 },
  };
}

export async function perTrial(store: Store, studyName: string, trials: number, warmup: number): Promise<PerTrialResult> {
  // Warm-up on another study so the first measured trials do not pay for JIT and cold caches.
  const warm = await store.createStudy(benchSpec(`${studyName}-warmup`, warmup), tmpdir(), 1);
  await store.transitionStudy(warm.id, 'start');
  for (let i = 0; i < warmup; i += 1) await oneTrial(store, warm.id, i);

  const study = await store.createStudy(benchSpec(studyName, trials), tmpdir(), 1);
  await store.transitionStudy(study.id, 'start');
  const window = Math.max(1, Math.floor(trials / 10));
  const checkpoints = [window, Math.floor(trials / 2), trials];
  const total: number[] = [];
  const phase = Object.fromEntries(PHASES.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  const reads = Object.fromEntries(READS.map((r) => [r, [] as number[]])) as Record<ReadCall, number[]>;
  const listTrials: PerTrialResult['listTrials'] = [];
  for (let i = 1; i <= trials; i += 1) {
    const t = await oneTrial(store, study.id, i);
    total.push(PHASES.reduce((sum, p) => sum + t.phases[p], 0));
    for (const p of PHASES) phase[p].push(t.phases[p]);
    for (const r of READS) reads[r].push(t.reads[r]);
    if (checkpoints.includes(i)) {
      const times: number[] = [];
      let rows = 0;
      for (let r = 0; r < LIST_REPEATS; r += 1) {
        const a = nowMs();
        rows = (await store.listTrials(study.id)).length;
        times.push(nowMs() - a);
      }
      if (rows !== i) throw new Error(`listTrials gave ${rows} trials after ${i}`);
      listTrials.push({ trials: i, rows, repeats: LIST_REPEATS, ...stats(times) });
    }
  }
  const median = (xs: number[], c: number) => stats(xs.slice(c - window, c)).median;
  return {
    trials,
    perTrial: stats(total),
    perPhase: Object.fromEntries(PHASES.map((p) => [p, stats(phase[p])])) as Record<Phase, Stats>,
    windows: checkpoints.map((c) => ({
      trial: c, window, median: median(total, c),
      phasesMedian: Object.fromEntries(PHASES.map((p) => [p, median(phase[p], c)])) as Record<Phase, number>,
      readsMedian: Object.fromEntries(READS.map((r) => [r, median(reads[r], c)])) as Record<ReadCall, number>,
    })),
    listTrials,
  };
}

export interface IngestShape { readonly trials: number; readonly linesPerTick: number }
export interface IngestResult extends IngestShape { rowsPerWrite: number; seconds: number; writes: number; rows: number; rowsPerSecond: number; writeMs: Stats }

/**
 * `shape.trials` running trials each print `linesPerTick` lines (2 metrics each) per tick; each
 * tick is one addObservations, awaited before the next. Measured for `seconds` after a warm-up.
 */
export async function ingest(store: Store, studyName: string, shape: IngestShape, seconds: number, warmupSeconds = 1): Promise<IngestResult> {
  const study = await store.createStudy(benchSpec(studyName, shape.trials), tmpdir(), 1);
  await store.transitionStudy(study.id, 'start');
  const created = await store.addTrials(study.id, Array.from({ length: shape.trials }, (_, i) => ({ lr: 0.001 * (i + 1), optimizer: 'adam' })));
  for (const t of created) await store.transitionTrial(t.id, 'start', { runtimeRef: `pgid:${t.id}` });
  const quality = created.map(() => Math.random());
  let step = 0;
  const tick = () => {
    const time = new Date().toISOString();
    const first = step;
    step += shape.linesPerTick;
    return created.map((t, k) => ({
      trialId: t.id,
      observations: Array.from({ length: shape.linesPerTick }, (_, l) => line(quality[k]!, first + l + 1, time)).flat(),
    }));
  };
  const rowsPerWrite = shape.trials * shape.linesPerTick * 2;
  const warmEnd = nowMs() + warmupSeconds * 1000;
  while (nowMs() < warmEnd) await store.addObservations(tick());
  const times: number[] = [];
  const start = nowMs();
  const end = start + seconds * 1000;
  while (nowMs() < end) {
    const batches = tick();
    const a = nowMs();
    await store.addObservations(batches);
    times.push(nowMs() - a);
  }
  const elapsed = (nowMs() - start) / 1000;
  // The rows are there: every trial has all the steps written, warm-up included.
  const stored = await store.observations(created[0]!.id);
  if (stored.length !== step * 2) throw new Error(`ingest: trial ${created[0]!.name} holds ${stored.length} observations, ${step * 2} were written`);
  const rows = times.length * rowsPerWrite;
  return { ...shape, rowsPerWrite, seconds: elapsed, writes: times.length, rows, rowsPerSecond: rows / elapsed, writeMs: stats(times) };
}
