// Algorithm benchmark (`npm run bench:algorithms`, not in CI): every registered algorithm except
// grid on branin, hartmann6, ackley5 and rosenbrock4, over seeds 1..N, sequentially (batch 1)
// and in batches of 4; simple regret at 25/50/100 trials of the same trajectory, median [IQR]
// over seeds. Then suggestion latency on hartmann6 histories of 100..2000 random trials, and
// Optuna's samplers side by side when /usr/bin/python3 has optuna (bench/optuna_bench.py).
// The mixed-space problems of bench/mixed.ts (hidden-optimizer, shifted-model) run too:
// sequential, 50 trials, regret at 25 and 50 and how many seeds found the optimum, with
// Optuna's samplers on the same problems and seeds (bench/optuna_mixed.py).
// Jobs run on worker threads, two at a time by default. Everything goes to
// bench/results/algorithms.json. Then the conditional problem of bench/conditional.ts, and the
// multi-objective fronts of bench/multiobjective.ts.
//
//   --seeds N  --budget N  --algorithms a,b  --problems p,q  --quick (3 seeds, budget 50)
//   --workers N (default 2)  --no-optuna  --no-latency
//   (--problems hidden-optimizer,shifted-model runs only the mixed problems)
import { spawnSync } from 'node:child_process';
import { optunaMissing, runPythonJson } from './python.js';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { algorithmNames } from '../suggestion-algorithms/registry.js';
import type { Job, JobResult, LatencyResult, MixedResult, RunResult } from './algorithm-jobs.js';
import { conditionalBench } from './conditional.js';
import { MIXED_BUDGET, MIXED_CHECKPOINTS, isMixedProblem, mixedRefusal, runOptunaMixed, type MixedRunResult } from './mixed-bench.js';
import { MIXED_PROBLEMS } from './mixed.js';
import { BENCHMARK_FUNCTIONS } from './functions.js';
import { quantile } from './simulate.js';
import { MULTI_OBJECTIVE_ALGORITHMS } from './multiobjective-problems.js';
import { parseBenchFlags } from './flags.js';
import { writeResults } from './results.js';

const CHECKPOINTS = [25, 50, 100];
const LATENCY_SIZES = [100, 500, 1000, 2000];
const LATENCY_REPEATS = 5;
const BATCHES = [1, 4];
const here = dirname(fileURLToPath(import.meta.url));
/** The source tree's bench/ directory (this file runs from dist/bench/). */
const benchSource = join(here, '..', '..', 'bench');

interface Options {
  seeds: number;
  budget: number;
  algorithms: string[];
  problems: string[];
  mixedProblems: string[];
  workers: number;
  optuna: boolean;
  latency: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const flags = parseBenchFlags(argv, { switches: ['quick', 'no-optuna', 'no-latency'], values: ['seeds', 'budget', 'algorithms', 'problems', 'workers'] });
  const quick = flags.has('quick');
  const { int } = flags;

  // grid needs steps and hyperband a budget parameter, which the benchmark functions lack.
  // The multi-objective algorithms have their own bench (bench/multiobjective.ts).
  const registered = algorithmNames().filter((a) => a !== 'grid' && a !== 'hyperband' && !MULTI_OBJECTIVE_ALGORITHMS.includes(a));
  const algorithms = flags.items('algorithms') ?? registered;
  for (const a of algorithms) if (!registered.includes(a)) throw new Error(`unknown algorithm ${a} (registered: ${registered.join(', ')})`);
  const known = [...BENCHMARK_FUNCTIONS.map((f) => f.name), ...MIXED_PROBLEMS.map((p) => p.name)];
  // `ackley` finds ackley5 and so on.
  const problems = (flags.items('problems') ?? known).map((p) => {
    const found = known.find((k) => k === p) ?? known.find((k) => k.startsWith(p));
    if (!found) throw new Error(`unknown problem ${p} (known: ${known.join(', ')})`);
    return found;
  });
  return {
    seeds: int('seeds', quick ? 3 : 10),
    budget: int('budget', quick ? 50 : 100),
    algorithms,
    problems: problems.filter((p) => !isMixedProblem(p)),
    mixedProblems: problems.filter(isMixedProblem),
    workers: int('workers', Math.min(2, cpus().length)),
    optuna: !flags.has('no-optuna'),
    latency: !flags.has('no-latency'),
  };
}

// ---------------------------------------------------------------------------- worker pool

/** Runs jobs on `size` worker threads, longest-expected first; results in job order. */
async function runOnWorkers(jobs: readonly Job[], size: number, onDone: (r: JobResult, done: number) => void): Promise<JobResult[]> {
  const results: JobResult[] = new Array<JobResult>(jobs.length);
  const order = jobs.map((job, id) => ({ id, job })).sort((a, b) => expectedCost(b.job) - expectedCost(a.job));
  let next = 0;
  let done = 0;
  const workerFile = new URL('./algorithm-worker.js', import.meta.url);
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = new Worker(workerFile);
      const feed = () => {
        const item = order[next];
        next += 1;
        if (item === undefined) {
          void worker.terminate().then(() => resolve());
          return;
        }
        worker.postMessage(item);
      };
      worker.on('message', (msg: { id: number; result?: JobResult; error?: string }) => {
        if (msg.error !== undefined || msg.result === undefined) {
          void worker.terminate();
          reject(new Error(`job ${JSON.stringify(jobs[msg.id])} failed:\n${msg.error}`));
          return;
        }
        results[msg.id] = msg.result;
        done += 1;
        onDone(msg.result, done);
        feed();
      });
      worker.on('error', reject);
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(size, jobs.length) }, one));
  return results;
}

/** Model-based sequential runs and latency jobs are the long ones: start them first. */
function expectedCost(job: Job): number {
  if (job.kind === 'mixed') return (job.algorithm === 'bayesianoptimization' ? 20 : 1) * MIXED_BUDGET;
  const heavy = job.algorithm === 'bayesianoptimization' ? 20 : ['random', 'sobol'].includes(job.algorithm) ? 0.1 : 1;
  if (job.kind === 'latency') return heavy * 50;
  return (heavy * job.budget) / Math.sqrt(job.batch);
}

// ---------------------------------------------------------------------------- Optuna

interface OptunaOutput {
  readonly optuna_version: string;
  readonly checkpoints: number[];
  readonly runs: { problem: string; algorithm: string; seed: number; regret: number[] }[];
  readonly latency: { algorithm: string; trials: number; ms: number; calls: number }[];
}

function runOptuna(o: Options): Promise<OptunaOutput> {
  return runPythonJson<OptunaOutput>(join(benchSource, 'optuna_bench.py'), [
    '--seeds', String(o.seeds),
    '--budget', String(o.budget),
    '--checkpoints', checkpointsFor(o.budget).join(','),
    '--problems', o.problems.join(','),
    '--latency-sizes', o.latency ? LATENCY_SIZES.join(',') : '',
    '--repeats', String(LATENCY_REPEATS),
    '--workers', String(o.workers),
  ]);
}

// ---------------------------------------------------------------------------- report

interface RegretRow {
  readonly problem: string;
  readonly algorithm: string;
  readonly mode: string;
  readonly budget: number;
  readonly median: number;
  readonly q25: number;
  readonly q75: number;
  readonly values: number[];
}

interface LatencyRow {
  readonly algorithm: string;
  readonly trials: number;
  readonly ms?: number;
  readonly calls: number;
  readonly note?: string;
}

const checkpointsFor = (budget: number) => [...new Set([...CHECKPOINTS.filter((c) => c < budget), budget])];
const modeName = (batch: number) => (batch === 1 ? 'sequential' : `batch ${batch}`);

function regretRows(runs: readonly { problem: string; algorithm: string; mode: string; regret: number[] }[], checkpoints: readonly number[]): RegretRow[] {
  const groups = new Map<string, { problem: string; algorithm: string; mode: string; regrets: number[][] }>();
  for (const r of runs) {
    const key = `${r.problem}\0${r.algorithm}\0${r.mode}`;
    const g = groups.get(key) ?? { problem: r.problem, algorithm: r.algorithm, mode: r.mode, regrets: [] };
    g.regrets.push(r.regret);
    groups.set(key, g);
  }
  return [...groups.values()].flatMap((g) =>
    checkpoints.map((budget, k) => {
      const values = g.regrets.map((r) => r[k] as number);
      return { problem: g.problem, algorithm: g.algorithm, mode: g.mode, budget, median: quantile(values, 0.5), q25: quantile(values, 0.25), q75: quantile(values, 0.75), values };
    }),
  );
}

const num = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 0.01 ? x.toPrecision(3) : x.toExponential(1));

function printRegret(rows: readonly RegretRow[], checkpoints: readonly number[], seeds: number): void {
  console.log(`\nSimple regret (best so far − f*), median [IQR] over ${seeds} seeds; lower is better`);
  const header = ['problem', 'algorithm', 'mode', ...checkpoints.map((c) => `@${c}`)];
  const lines: string[][] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.problem}\0${r.algorithm}\0${r.mode}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const cells = checkpoints.map((c) => {
      const x = rows.find((y) => y.problem === r.problem && y.algorithm === r.algorithm && y.mode === r.mode && y.budget === c);
      return x ? `${num(x.median)} [${num(x.q25)}, ${num(x.q75)}]` : '';
    });
    lines.push([r.problem, r.algorithm, r.mode, ...cells]);
  }
  printTable(header, lines);
}

function printLatency(rows: readonly LatencyRow[]): void {
  console.log('\nSuggestion latency on hartmann6, ms per call (one suggestion; median of calls) by completed trials in the history');
  const algorithms = [...new Set(rows.map((r) => r.algorithm))];
  const lines = algorithms.map((a) => [
    a,
    ...LATENCY_SIZES.map((n) => {
      const r = rows.find((x) => x.algorithm === a && x.trials === n);
      if (!r) return '';
      if (r.ms === undefined) return 'skipped';
      return `${num(r.ms)}${r.calls < LATENCY_REPEATS ? ` (${r.calls} call${r.calls === 1 ? '' : 's'})` : ''}`;
    }),
  ]);
  printTable(['algorithm', ...LATENCY_SIZES.map((n) => `${n}`)], lines);
  for (const r of rows) if (r.note) console.log(`  ${r.algorithm} @${r.trials}: ${r.note}`);
}

interface MixedRow {
  readonly problem: string;
  readonly algorithm: string;
  readonly found: number;
  readonly runs: number;
  /** Median [q25, q75] regret at each of MIXED_CHECKPOINTS. */
  readonly regret: { budget: number; median: number; q25: number; q75: number }[];
}

function mixedRows(runs: readonly MixedRunResult[]): MixedRow[] {
  const groups = new Map<string, MixedRunResult[]>();
  for (const r of runs) groups.set(`${r.problem}\0${r.algorithm}`, [...(groups.get(`${r.problem}\0${r.algorithm}`) ?? []), r]);
  return [...groups.values()].map((g) => ({
    problem: (g[0] as MixedRunResult).problem,
    algorithm: (g[0] as MixedRunResult).algorithm,
    found: g.filter((r) => r.found).length,
    runs: g.length,
    regret: MIXED_CHECKPOINTS.map((budget, k) => {
      const values = g.map((r) => r.regret[k] as number);
      return { budget, median: quantile(values, 0.5), q25: quantile(values, 0.25), q75: quantile(values, 0.75) };
    }),
  }));
}

function printMixed(rows: readonly MixedRow[], seeds: number): void {
  console.log(`\nMixed spaces (bench/mixed.ts): simple regret, median [IQR] over ${seeds} seeds, sequential; found = seeds whose best beat the problem's threshold`);
  const lines = rows.map((r) => [r.problem, r.algorithm, 'sequential', ...r.regret.map((x) => `${num(x.median)} [${num(x.q25)}, ${num(x.q75)}]`), `${r.found}/${r.runs}`]);
  printTable(['problem', 'algorithm', 'mode', ...MIXED_CHECKPOINTS.map((c) => `@${c}`), 'found'], lines);
  for (const problem of [...new Set(rows.map((r) => r.problem))]) {
    const mine = rows.filter((r) => r.problem === problem);
    const best = (side: MixedRow[]) => side.reduce<MixedRow | undefined>((b, r) => (b === undefined || (r.regret.at(-1)?.median ?? Infinity) < (b.regret.at(-1)?.median ?? Infinity) ? r : b), undefined);
    const sibyl = best(mine.filter((r) => !r.algorithm.startsWith('optuna-')));
    const optuna = best(mine.filter((r) => r.algorithm.startsWith('optuna-')));
    if (sibyl && optuna) {
      const s = sibyl.regret.at(-1)?.median as number;
      const q = optuna.regret.at(-1)?.median as number;
      console.log(`  ${problem} @${MIXED_BUDGET}: Sibyl's best ${sibyl.algorithm} ${num(s)} vs Optuna's best ${optuna.algorithm} ${num(q)}: ${s < q ? 'ahead' : s === q ? 'tied' : 'behind'}`);
    }
  }
}

function printTable(header: readonly string[], lines: readonly string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: readonly string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
}

// ---------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const checkpoints = checkpointsFor(o.budget);
  const jobs: Job[] = [];
  for (const problem of o.problems) {
    for (const algorithm of o.algorithms) {
      for (const batch of BATCHES) {
        for (let seed = 1; seed <= o.seeds; seed += 1) jobs.push({ kind: 'run', problem, algorithm, batch, seed, budget: o.budget, checkpoints });
      }
    }
  }
  if (o.latency) for (const algorithm of o.algorithms) jobs.push({ kind: 'latency', algorithm, sizes: LATENCY_SIZES, repeats: LATENCY_REPEATS });
  for (const problem of o.mixedProblems) {
    for (const algorithm of o.algorithms) {
      const refusal = mixedRefusal(problem, algorithm);
      if (refusal !== undefined) {
        console.log(`${algorithm} skipped on ${problem}: ${refusal}`);
        continue;
      }
      for (let seed = 1; seed <= o.seeds; seed += 1) jobs.push({ kind: 'mixed', problem, algorithm, seed });
    }
  }

  console.log(`algorithms: ${o.algorithms.join(', ')}; problems: ${[...o.problems, ...o.mixedProblems].join(', ')}; seeds 1..${o.seeds}; budget ${o.problems.length > 0 ? o.budget : ''}${o.mixedProblems.length > 0 ? `${o.problems.length > 0 ? ', ' : ''}${MIXED_BUDGET} on mixed problems` : ''}; ${jobs.length} jobs on ${o.workers} worker threads`);
  const results = await runOnWorkers(jobs, o.workers, (r, done) => {
    const what =
      r.kind === 'run' ? `${r.job.problem} ${r.job.algorithm} ${modeName(r.job.batch)} seed ${r.job.seed}` : r.kind === 'mixed' ? `${r.job.problem} ${r.job.algorithm} seed ${r.job.seed}` : `latency ${r.job.algorithm}`;
    process.stderr.write(`[${done}/${jobs.length}] ${what}: ${r.seconds.toFixed(1)} s\n`);
  });
  const runs = results.filter((r): r is RunResult => r.kind === 'run');
  const latencies = results.filter((r): r is LatencyResult => r.kind === 'latency');
  const mixedRuns: MixedRunResult[] = results.filter((r): r is MixedResult => r.kind === 'mixed').map((r) => r.run);
  const sibylSeconds = (performance.now() - started) / 1000;

  const allRuns = runs.map((r) => ({ problem: r.job.problem, algorithm: r.job.algorithm, mode: modeName(r.job.batch), seed: r.job.seed, regret: r.regret, medianSuggestMs: r.medianSuggestMs, seconds: r.seconds }));
  const latencyRows: LatencyRow[] = latencies.flatMap((l) => l.points.map((p) => ({ algorithm: l.job.algorithm, ...p })));

  let optuna: { available: boolean; version?: string; note?: string; seconds?: number } = { available: false };
  if (!o.optuna) optuna = { available: false, note: 'skipped (--no-optuna)' };
  else {
    const missing = optunaMissing();
    if (missing !== undefined) {
      optuna = { available: false, note: missing };
      console.log(`\nNote: Optuna comparison skipped: ${missing}.`);
    } else {
      const optunaStarted = performance.now();
      if (o.problems.length > 0) {
        const out = await runOptuna(o);
        optuna = { available: true, version: out.optuna_version };
        for (const r of out.runs) allRuns.push({ ...r, mode: 'sequential', medianSuggestMs: NaN, seconds: NaN });
        for (const l of out.latency) latencyRows.push(l);
      }
      if (o.mixedProblems.length > 0) {
        const out = await runOptunaMixed(benchSource, o.mixedProblems, o.seeds, o.workers);
        mixedRuns.push(...out.runs);
        optuna = { ...optuna, available: true, version: out.version };
      }
      optuna = { ...optuna, seconds: (performance.now() - optunaStarted) / 1000 };
    }
  }

  const regret = regretRows(allRuns, checkpoints);
  if (o.problems.length > 0) printRegret(regret, checkpoints, o.seeds);
  if (latencyRows.length > 0) printLatency(latencyRows);
  const mixed = mixedRows(mixedRuns);
  if (mixed.length > 0) printMixed(mixed, o.seeds);
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nSibyl jobs ${sibylSeconds.toFixed(0)} s${optuna.seconds === undefined ? '' : `, Optuna ${optuna.seconds.toFixed(0)} s (${optuna.version})`}; total ${seconds.toFixed(0)} s`);

  const file = writeResults('algorithms', {
    options: { ...o, checkpoints, batches: BATCHES, latencySizes: LATENCY_SIZES, latencyRepeats: LATENCY_REPEATS },
    optuna,
    regret,
    latency: latencyRows,
    runs: allRuns,
    mixed: { budget: MIXED_BUDGET, checkpoints: MIXED_CHECKPOINTS, rows: mixed, runs: mixedRuns },
    seconds,
  });
  console.log(`wrote ${file}`);
  // The conditional problem, with its own table and results file (bench/conditional.ts).
  await conditionalBench({ seeds: o.seeds, optuna: o.optuna });
  // The multi-objective fronts (bench/multiobjective.ts: its own table, verdict and results
  // file), with its own defaults (10 seeds, 100 trials; 513 s on 2 cores on 2026-12-02, most of
  // it ParEGO's GP over 30 dimensions and Optuna's MOTPE; much longer when the cores are busy).
  // `npm run bench:multiobjective -- --seeds N` runs it alone.
  const mo = spawnSync(process.execPath, [join(here, 'multiobjective.js'), ...(o.optuna ? [] : ['--no-optuna'])], { stdio: 'inherit' });
  if (mo.status !== 0) throw new Error(`bench/multiobjective.ts failed (${mo.status ?? mo.signal})`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
