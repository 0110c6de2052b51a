// The mixed problems of `npm run bench:algorithms` (bench/mixed.ts): every Sibyl algorithm
// that can run them, sequentially, over the same seeds, with the simple regret at 25 and 50
// trials; and Optuna's side from bench/optuna_mixed.py on the same problems, seeds and budget.
import { runPythonJson } from './python.js';
import { join } from 'node:path';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { MIXED_PROBLEMS, runMixed, type MixedProblem } from './mixed.js';

export const MIXED_BUDGET = 50;
export const MIXED_CHECKPOINTS = [25, 50];

export interface MixedRunResult {
  readonly problem: string;
  readonly algorithm: string;
  readonly seed: number;
  readonly regret: number[];
  /** Whether the run found the problem's hidden optimum (MixedProblem.found). */
  readonly found: boolean;
}

export const isMixedProblem = (name: string): boolean => MIXED_PROBLEMS.some((p) => p.name === name);

export function mixedProblem(name: string): MixedProblem {
  const p = MIXED_PROBLEMS.find((q) => q.name === name);
  if (!p) throw new Error(`unknown mixed problem ${name}`);
  return p;
}

/** Why `algorithm` cannot run `problem` with only `random_state` set (pbt needs its own settings), or undefined. */
export function mixedRefusal(problem: string, algorithm: string): string | undefined {
  const a = getAlgorithm(algorithm);
  if (!a) return 'not registered';
  try {
    a.validateSettings(mixedProblem(problem).space, [{ name: 'random_state', value: '1' }]);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** One Sibyl run of a mixed problem. */
export function runMixedJob(problem: string, algorithm: string, seed: number): MixedRunResult {
  const p = mixedProblem(problem);
  const a = getAlgorithm(algorithm);
  if (!a) throw new Error(`unknown algorithm ${algorithm}`);
  const { best } = runMixed(p, a, seed, MIXED_BUDGET);
  return {
    problem,
    algorithm,
    seed,
    regret: MIXED_CHECKPOINTS.map((n) => (best[n - 1] as number) - p.optimum),
    found: (best[MIXED_BUDGET - 1] as number) < p.found,
  };
}

/** Optuna's runs of the mixed problems (bench/optuna_mixed.py), `found` judged by the same rule. */
export async function runOptunaMixed(benchSource: string, problems: readonly string[], seeds: number, workers: number): Promise<{ version: string; runs: MixedRunResult[] }> {
  const args = ['--seeds', String(seeds), '--budget', String(MIXED_BUDGET), '--checkpoints', MIXED_CHECKPOINTS.join(','), '--problems', problems.join(','), '--workers', String(workers)];
  const parsed = await runPythonJson<{ optuna_version: string; runs: Omit<MixedRunResult, 'found'>[] }>(join(benchSource, 'optuna_mixed.py'), args, benchSource);
  const runs = parsed.runs.map((r) => ({ ...r, found: (r.regret.at(-1) as number) + mixedProblem(r.problem).optimum < mixedProblem(r.problem).found }));
  return { version: parsed.optuna_version, runs };
}
