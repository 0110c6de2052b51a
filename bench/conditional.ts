// A conditional (tree-shaped) problem with a known optimum, and the bench of Sibyl's algorithms
// on it beside Optuna 3.1 (define-by-run: its objective suggests only the active parameters).
// Run by `npm run bench:algorithms` (after the continuous problems) and alone by
// `npm run bench:conditional`; writes bench/results/conditional.json. The Python twin of `f` is
// bench/conditional_problem.py (test/conditional-bench.test.ts checks that both agree).
//
// `optimizer-tree`: the shape of a network-training search. With u = (log10 lr + 4) / 4 in [0, 1]:
//   sgd:     6 (u − 0.8)² + 8 (momentum − 0.9)² + 0.1 unless nesterov = on
//            (nesterov exists only when momentum ≥ 0.5: a chain below momentum)
//   adam:    0.08 + 2 (u − 0.3)² + 4 (beta1 − 0.9)²
//   rmsprop: 0.12 + 2 (u − 0.45)² + 3 (rho − 0.9)²
//   plus the architecture: layers 1 → 0.3, 2 → 0.15, 3 or 4 → 0.05 (layers − 3) + 0.5 ((log2 width3 − 6) / 5)²
//            (width3, an int on a log scale in [8, 256], exists only when layers ≥ 3)
// f* = 0 at sgd, lr = 10^−0.8, momentum 0.9, nesterov on, layers 3, width3 64. adam's broad bowl
// (floor 0.08, the best value outside sgd; random sgd points average ≈1.6, adam's ≈0.6) is the
// trap: the optimum needs the narrower sgd branch, and within it the chain. "Found" counts the
// seeds whose best value is below 0.08, which only the sgd branch reaches.
import { optunaMissing, runPythonJson } from './python.js';
import { writeResults } from './results.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Assignment, Parameter, SearchSpace, TrialView } from '../suggestion-algorithms/model.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { quantile } from './simulate.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchSource = join(here, '..', '..', 'bench');

const parameters: Parameter[] = [
  { name: 'optimizer', parameterType: 'categorical', list: ['sgd', 'adam', 'rmsprop'] },
  { name: 'lr', parameterType: 'double', min: 1e-4, max: 1, distribution: 'logUniform' },
  { name: 'momentum', parameterType: 'double', min: 0, max: 0.99, distribution: 'uniform', condition: { parent: 'optimizer', values: ['sgd'] } },
  { name: 'nesterov', parameterType: 'categorical', list: ['on', 'off'], condition: { parent: 'momentum', min: 0.5 } },
  { name: 'beta1', parameterType: 'double', min: 0.5, max: 0.999, distribution: 'uniform', condition: { parent: 'optimizer', values: ['adam'] } },
  { name: 'rho', parameterType: 'double', min: 0.5, max: 0.99, distribution: 'uniform', condition: { parent: 'optimizer', values: ['rmsprop'] } },
  { name: 'layers', parameterType: 'int', min: 1, max: 4, distribution: 'uniform' },
  { name: 'width3', parameterType: 'int', min: 8, max: 256, distribution: 'logUniform', condition: { parent: 'layers', min: 3 } },
];

export const CONDITIONAL_SPACE: SearchSpace = { parameters, direction: 'minimize' };
export const CONDITIONAL_OPTIMUM = 0;
export const CONDITIONAL_ARGMIN: Assignment = { optimizer: 'sgd', lr: 10 ** -0.8, momentum: 0.9, nesterov: 'on', layers: 3, width3: 64 };

const num = (a: Assignment, k: string): number => a[k] as number;

/** The objective over an assignment of the active subtree. */
export function optimizerTree(a: Assignment): number {
  const u = (Math.log10(num(a, 'lr')) + 4) / 4;
  let f: number;
  if (a['optimizer'] === 'sgd') f = 6 * (u - 0.8) ** 2 + 8 * (num(a, 'momentum') - 0.9) ** 2 + (a['nesterov'] === 'on' ? 0 : 0.1);
  else if (a['optimizer'] === 'adam') f = 0.08 + 2 * (u - 0.3) ** 2 + 4 * (num(a, 'beta1') - 0.9) ** 2;
  else f = 0.12 + 2 * (u - 0.45) ** 2 + 3 * (num(a, 'rho') - 0.9) ** 2;
  const layers = num(a, 'layers');
  f += layers === 1 ? 0.3 : layers === 2 ? 0.15 : 0.05 * (layers - 3) + 0.5 * ((Math.log2(num(a, 'width3')) - 6) / 5) ** 2;
  return f;
}

export const CONDITIONAL_ALGORITHMS = ['random', 'sobol', 'tpe', 'multivariate-tpe', 'bayesianoptimization', 'cmaes'];
const CHECKPOINTS = [25, 50];
/** The best value outside the sgd branch: below it, a run has found the optimum's branch. */
export const CONDITIONAL_FOUND = 0.08;

/** One sequential run: the best value after each trial. */
export function runConditional(algorithmName: string, seed: number, budget: number): number[] {
  const algorithm = getAlgorithm(algorithmName);
  if (!algorithm) throw new Error(`unknown algorithm ${algorithmName}`);
  const settings = [{ name: 'random_state', value: String(seed) }];
  algorithm.validateSettings(CONDITIONAL_SPACE, settings);
  const trials: TrialView[] = [];
  const best: number[] = [];
  let state: Record<string, string> | undefined;
  let incumbent = Infinity;
  while (trials.length < budget) {
    const r = algorithm.suggest({ space: CONDITIONAL_SPACE, trials, count: 1, seed, settings, ...(state ? { state } : {}) });
    state = r.state;
    const a = r.assignments[0];
    if (!a) throw new Error(`${algorithmName} proposed nothing at trial ${trials.length}`);
    const value = optimizerTree(a);
    trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment: a, objectiveValue: value });
    incumbent = Math.min(incumbent, value);
    best.push(incumbent);
  }
  return best;
}

interface Row {
  readonly algorithm: string;
  readonly budget: number;
  readonly median: number;
  readonly q25: number;
  readonly q75: number;
  readonly values: number[];
}

async function optunaRuns(seeds: number, budget: number): Promise<{ version: string; runs: { algorithm: string; seed: number; regret: number[] }[] } | { note: string }> {
  const missing = optunaMissing();
  if (missing !== undefined) return { note: missing };
  const args = ['--seeds', String(seeds), '--budget', String(budget), '--checkpoints', CHECKPOINTS.join(',')];
  const parsed = await runPythonJson<{ optuna_version: string; runs: { algorithm: string; seed: number; regret: number[] }[] }>(join(benchSource, 'optuna_conditional.py'), args);
  return { version: parsed.optuna_version, runs: parsed.runs };
}

const fmt = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 0.01 ? x.toPrecision(3) : x.toExponential(1));

/** Runs every algorithm over seeds 1..seeds (and Optuna), prints the table, writes the JSON. */
export async function conditionalBench(options: { seeds: number; optuna: boolean; algorithms?: readonly string[] }): Promise<void> {
  const started = performance.now();
  const budget = Math.max(...CHECKPOINTS);
  const runs: { algorithm: string; seed: number; regret: number[] }[] = [];
  for (const algorithm of options.algorithms ?? CONDITIONAL_ALGORITHMS) {
    for (let seed = 1; seed <= options.seeds; seed++) {
      const t0 = performance.now();
      const best = runConditional(algorithm, seed, budget);
      runs.push({ algorithm, seed, regret: CHECKPOINTS.map((n) => (best[n - 1] as number) - CONDITIONAL_OPTIMUM) });
      process.stderr.write(`[conditional] ${algorithm} seed ${seed}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  }
  let optuna: { available: boolean; version?: string; note?: string } = { available: false, note: 'skipped (--no-optuna)' };
  if (options.optuna) {
    const out = await optunaRuns(options.seeds, budget);
    if ('note' in out) optuna = { available: false, note: out.note };
    else {
      optuna = { available: true, version: out.version };
      runs.push(...out.runs);
    }
  }
  const rows: Row[] = [];
  for (const algorithm of [...new Set(runs.map((r) => r.algorithm))]) {
    CHECKPOINTS.forEach((n, k) => {
      const values = runs.filter((r) => r.algorithm === algorithm).map((r) => r.regret[k] as number);
      rows.push({ algorithm, budget: n, median: quantile(values, 0.5), q25: quantile(values, 0.25), q75: quantile(values, 0.75), values });
    });
  }
  console.log(`\nConditional problem optimizer-tree (8 parameters, 4-6 active; f* = 0): simple regret, median [IQR] over ${options.seeds} seeds, sequential; lower is better`);
  if (!optuna.available) console.log(`Note: Optuna comparison skipped: ${optuna.note}.`);
  const algorithms = [...new Set(rows.map((r) => r.algorithm))];
  const cell = (a: string, n: number) => {
    const r = rows.find((x) => x.algorithm === a && x.budget === n)!;
    return `${fmt(r.median)} [${fmt(r.q25)}, ${fmt(r.q75)}]`;
  };
  const width = Math.max(...algorithms.map((a) => a.length));
  const found = (a: string) => {
    const last = rows.find((x) => x.algorithm === a && x.budget === budget)!;
    return `${last.values.filter((v) => v < CONDITIONAL_FOUND).length}/${last.values.length}`;
  };
  console.log(`${'algorithm'.padEnd(width)}  ${CHECKPOINTS.map((n) => `@${n}`.padStart(26)).join('  ')}  found@${budget}`);
  for (const a of algorithms) console.log(`${a.padEnd(width)}  ${CHECKPOINTS.map((n) => cell(a, n).padStart(26)).join('  ')}  ${found(a).padStart(8)}`);
  const file = writeResults('conditional', { problem: 'optimizer-tree', optimum: CONDITIONAL_OPTIMUM, seeds: options.seeds, checkpoints: CHECKPOINTS, optuna, rows, runs, seconds: (performance.now() - started) / 1000 });
  console.log(`wrote ${file}`);
}

// `node dist/bench/conditional.js [--seeds N] [--no-optuna]`
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--seeds');
  const seeds = at >= 0 ? Number(argv[at + 1]) : 10;
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error('--seeds must be a positive integer');
  conditionalBench({ seeds, optuna: !argv.includes('--no-optuna') }).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
