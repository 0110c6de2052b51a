// The units of work of the algorithm benchmark, run inside worker threads: one optimisation run
// (problem × algorithm × mode × seed), or one algorithm's suggestion latency on synthetic
// histories of growing size.
import type { TrialView } from '../src/model/trial.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { BENCHMARK_FUNCTIONS, hartmann6, type BenchmarkFunction } from './functions.js';
import { runMixedJob, type MixedRunResult } from './mixed-bench.js';
import { benchmarkStudy, median, simulate } from './simulate.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';

export interface RunJob {
  readonly kind: 'run';
  readonly problem: string;
  readonly algorithm: string;
  readonly batch: number;
  readonly seed: number;
  readonly budget: number;
  /** Trial counts at which the simple regret is reported. */
  readonly checkpoints: readonly number[];
}

export interface LatencyJob {
  readonly kind: 'latency';
  readonly algorithm: string;
  /** Completed trials in the synthetic history, ascending. */
  readonly sizes: readonly number[];
  readonly repeats: number;
}

/** One run of a mixed-space problem (bench/mixed-bench.ts), sequential, 50 trials. */
export interface MixedJob {
  readonly kind: 'mixed';
  readonly problem: string;
  readonly algorithm: string;
  readonly seed: number;
}

export type Job = RunJob | LatencyJob | MixedJob;

export interface RunResult {
  readonly kind: 'run';
  readonly job: RunJob;
  /** Simple regret at each checkpoint, in the order of `job.checkpoints`. */
  readonly regret: number[];
  readonly medianSuggestMs: number;
  readonly seconds: number;
}

export interface LatencyPoint {
  readonly trials: number;
  /** Median ms per suggest call; undefined when skipped. */
  readonly ms?: number;
  readonly calls: number;
  readonly note?: string;
}

export interface LatencyResult {
  readonly kind: 'latency';
  readonly job: LatencyJob;
  readonly points: LatencyPoint[];
  readonly seconds: number;
}

export interface MixedResult {
  readonly kind: 'mixed';
  readonly job: MixedJob;
  readonly run: MixedRunResult;
  readonly seconds: number;
}

export type JobResult = RunResult | LatencyResult | MixedResult;

/** After a call slower than this, no more calls are made at that history size. */
const SLOW_CALL_MS = 10_000;
/** After this much time on one algorithm's latency, larger histories are skipped. */
const LATENCY_BUDGET_MS = 180_000;
const LATENCY_HISTORY_SEED = 20_240_601;

export function problemByName(name: string): BenchmarkFunction {
  const fn = BENCHMARK_FUNCTIONS.find((f) => f.name === name);
  if (!fn) throw new Error(`unknown problem ${name}`);
  return fn;
}

export function runJob(job: Job): JobResult {
  const started = performance.now();
  if (job.kind === 'mixed') return { kind: 'mixed', job, run: runMixedJob(job.problem, job.algorithm, job.seed), seconds: (performance.now() - started) / 1000 };
  if (job.kind === 'run') {
    const { regret, latencies } = simulate({ fn: problemByName(job.problem), algorithm: job.algorithm, budget: job.budget, batch: job.batch, seed: job.seed });
    return {
      kind: 'run',
      job,
      regret: job.checkpoints.map((n) => regret[n - 1] as number),
      medianSuggestMs: median(latencies),
      seconds: (performance.now() - started) / 1000,
    };
  }
  return { kind: 'latency', job, points: measureLatency(job), seconds: (performance.now() - started) / 1000 };
}

/** Uniform random trials on hartmann6 with their true values: the history a suggest call sees. */
export function syntheticHistory(size: number): TrialView[] {
  const rng = new Rng(LATENCY_HISTORY_SEED, size);
  return Array.from({ length: size }, (_, i) => {
    const x = hartmann6.bounds.map(([lo, hi]) => lo + (hi - lo) * rng.next());
    const assignment = Object.fromEntries(x.map((v, j) => [`x${j}`, v]));
    return { name: `t${i}`, state: 'SUCCEEDED', assignment, objectiveValue: hartmann6.f(x) };
  });
}

function measureLatency(job: LatencyJob): LatencyPoint[] {
  const algorithm = getAlgorithm(job.algorithm);
  if (!algorithm) throw new Error(`unknown algorithm ${job.algorithm}`);
  const spec = benchmarkStudy(hartmann6, job.algorithm, { random_state: '1' });
  validateAlgorithm(spec);
  // One small call first so that the first measured size does not pay for JIT compilation.
  algorithm.suggest({ ...algorithmInput(spec), trials: syntheticHistory(20), count: 1, seed: 1 });
  const points: LatencyPoint[] = [];
  let spent = 0;
  for (const size of job.sizes) {
    if (spent > LATENCY_BUDGET_MS) {
      points.push({ trials: size, calls: 0, note: `skipped: ${(spent / 1000).toFixed(0)} s already spent on smaller histories` });
      continue;
    }
    const trials = syntheticHistory(size);
    // As the scheduler calls it in a running study: with the state the algorithm returned on
    // the previous call (one trial fewer). That call itself is not timed.
    const previous = algorithm.suggest({ ...algorithmInput(spec), trials: trials.slice(0, -1), count: 1, seed: 1 });
    const times: number[] = [];
    for (let call = 0; call < job.repeats; call += 1) {
      const started = performance.now();
      algorithm.suggest({ ...algorithmInput(spec), trials, count: 1, seed: call + 1, ...(previous.state ? { state: previous.state } : {}) });
      const ms = performance.now() - started;
      times.push(ms);
      spent += ms;
      if (ms > SLOW_CALL_MS) break;
    }
    points.push({ trials: size, ms: median(times), calls: times.length, ...(times.length < job.repeats ? { note: `slow: ${times.length} of ${job.repeats} calls made` } : {}) });
  }
  return points;
}
