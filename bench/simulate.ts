// Runs a suggestion algorithm against a benchmark function in-process: no store, no processes,
// the way the scheduler would call it (every trial so far, a batch at a time).
import * as ss from 'simple-statistics';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import type { TrialView } from '../src/model/trial.js';
import type { StudySpec } from '../src/spec/types.js';
import type { BenchmarkFunction } from './functions.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';

export function benchmarkStudy(fn: BenchmarkFunction, algorithm: string, settings: Record<string, string> = {}): StudySpec {
  const parameters = fn.bounds.map(([min, max], i) => ({ name: `x${i}`, parameterType: 'double' as const, min, max, distribution: 'uniform' as const }));
  return {
    name: `${fn.name}-${algorithm}`,
    namespace: 'default',
    parameters,
    objective: { type: 'minimize', objectiveMetricName: 'f', additionalMetricNames: [], metricStrategies: [{ name: 'f', value: 'min' }] },
    algorithm: { algorithmName: algorithm, algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })) },
    parallelTrialCount: 1,
    trialTemplate: { trialParameters: parameters.map((p) => ({ name: p.name, reference: p.name })), retain: false, command: ['true'] },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

export interface SimulationOptions {
  readonly fn: BenchmarkFunction;
  readonly algorithm: string;
  readonly settings?: Record<string, string>;
  readonly budget: number;
  /** Trials asked for per call (and evaluated together). */
  readonly batch?: number;
  readonly seed: number;
}

export interface SimulationResult {
  /** Simple regret (best so far − f*) after each trial. */
  readonly regret: number[];
  /** Milliseconds per suggest call. */
  readonly latencies: number[];
}

export function simulate(o: SimulationOptions): SimulationResult {
  const algorithm = getAlgorithm(o.algorithm);
  if (!algorithm) throw new Error(`unknown algorithm ${o.algorithm}`);
  const spec = benchmarkStudy(o.fn, o.algorithm, { random_state: String(o.seed), ...o.settings });
  validateAlgorithm(spec);
  const trials: TrialView[] = [];
  const regret: number[] = [];
  const latencies: number[] = [];
  let state: Record<string, string> | undefined;
  let best = Infinity;
  while (trials.length < o.budget) {
    const count = Math.min(o.batch ?? 1, o.budget - trials.length);
    const started = performance.now();
    const result = algorithm.suggest({ ...algorithmInput(spec), trials, count, seed: o.seed, ...(state ? { state } : {}) });
    latencies.push(performance.now() - started);
    state = result.state;
    if (result.assignments.length === 0) throw new Error(`${o.algorithm} proposed nothing at trial ${trials.length}`);
    for (const assignment of result.assignments) {
      const value = o.fn.f(o.fn.bounds.map((_, i) => assignment[`x${i}`] as number));
      trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment, objectiveValue: value });
      best = Math.min(best, value);
      regret.push(best - o.fn.optimum);
    }
  }
  return { regret, latencies };
}

// Order statistics from simple-statistics (empty input is NaN: no runs, no figure).
export const median = (xs: readonly number[]): number => (xs.length === 0 ? NaN : ss.median([...xs]));

export const quantile = (xs: readonly number[], q: number): number => (xs.length === 0 ? NaN : ss.quantile([...xs], q));
