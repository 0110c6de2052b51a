// Mixed-space problems (a categorical parameter next to continuous ones) and an in-process
// simulation loop over them, shared by the algorithm tests and `bench:algorithms`.
//
// `hidden-optimizer`: which optimiser, and where in (log learning rate, weight decay), both
// scaled to [0,1]. sgd, adam and rmsprop are gentle bowls with floors 0.30, 0.40 and 0.45 and
// averages over the box of ≈0.45–0.55. adagrad is a steep bowl, 7·‖x − (0.85, 0.15)‖², with
// the global minimum 0 in a corner and an average of ≈2.9: its first random points are nearly
// always the worst of the study, and only ≈4.5% of its area gets below 0.1 (a third of the
// next-best value, 0.30). An algorithm finds the optimum only if it keeps proposing adagrad
// while adagrad looks bad, and models adagrad's points apart from the others' (the four bowls
// sit in different places). "Found" means a best value below 0.1 (only adagrad goes there).
//
// `shifted-model`: two categoricals and an int next to a double, where the category moves the
// continuous optimum. model ∈ {linear, tree, net} sets a floor (0.2, 0.1, 0), the centre of x
// (0.2, 0.5, 0.8) and the best layer count (2, 2, 6); activation ∈ {relu, tanh, gelu} adds
// 0, 0.05 or 0.1 everywhere; f = floor + offset + 4·(x − centre)² + 0.02·(layers − best)².
// The optimum 0 is (net, relu, 6 layers, x = 0.8); at random points net averages ≈0.84 and
// tree ≈0.66, so the best model looks second-best until x and layers are right for it, and x
// must move to where the other models are poor. "Found" means below 0.03: net with relu (tanh
// costs 0.05), |x − 0.8| < 0.087 at 6 layers (< 0.05 at 5 or 7).
//
// The same functions in Python, for Optuna's side of the bench: bench/mixed_problems.py
// (test/mixed-space.test.ts checks that both agree).
import type { Assignment, Parameter, SearchSpace, SuggestionAlgorithm, TrialView } from '../suggestion-algorithms/model.js';

export interface MixedProblem {
  readonly name: string;
  readonly space: SearchSpace;
  /** The global minimum. */
  readonly optimum: number;
  /** The categorical parameter and the value that holds the optimum. */
  readonly categorical: string;
  readonly bestCategory: string;
  /** Best value reachable outside bestCategory. */
  readonly runnerUp: number;
  /** A best value below this means the run found the hidden optimum. */
  readonly found: number;
  readonly f: (a: Assignment) => number;
}

const OPTIMIZERS = ['sgd', 'adam', 'rmsprop', 'adagrad'] as const;

/** Floor, scale and centre of each bowl. */
const BOWLS: Readonly<Record<string, { floor: number; scale: number; at: readonly [number, number] }>> = {
  sgd: { floor: 0.3, scale: 0.6, at: [0.3, 0.7] },
  adam: { floor: 0.4, scale: 0.5, at: [0.5, 0.5] },
  rmsprop: { floor: 0.45, scale: 0.5, at: [0.6, 0.35] },
};
const STEEP = { scale: 7, at: [0.85, 0.15] as const };

const parameters: Parameter[] = [
  { name: 'optimizer', parameterType: 'categorical', list: [...OPTIMIZERS] },
  { name: 'lr', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
  { name: 'wd', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
];

export const hiddenOptimizer: MixedProblem = {
  name: 'hidden-optimizer',
  space: { parameters, direction: 'minimize' },
  optimum: 0,
  categorical: 'optimizer',
  bestCategory: 'adagrad',
  runnerUp: 0.3,
  found: 0.1,
  f: (a) => {
    const x = [a['lr'] as number, a['wd'] as number];
    const bowl = BOWLS[String(a['optimizer'])];
    if (bowl) return bowl.floor + bowl.scale * ((x[0]! - bowl.at[0]) ** 2 + (x[1]! - bowl.at[1]) ** 2);
    return STEEP.scale * ((x[0]! - STEEP.at[0]) ** 2 + (x[1]! - STEEP.at[1]) ** 2);
  },
};

const MODELS = {
  linear: { floor: 0.2, centre: 0.2, layers: 2 },
  tree: { floor: 0.1, centre: 0.5, layers: 2 },
  net: { floor: 0, centre: 0.8, layers: 6 },
} as const;
const ACTIVATIONS = { relu: 0, tanh: 0.05, gelu: 0.1 } as const;

export const shiftedModel: MixedProblem = {
  name: 'shifted-model',
  space: {
    parameters: [
      { name: 'model', parameterType: 'categorical', list: Object.keys(MODELS) },
      { name: 'activation', parameterType: 'categorical', list: Object.keys(ACTIVATIONS) },
      { name: 'layers', parameterType: 'int', min: 1, max: 8, distribution: 'uniform' },
      { name: 'x', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
    ],
    direction: 'minimize',
  },
  optimum: 0,
  categorical: 'model',
  bestCategory: 'net',
  runnerUp: 0.1,
  found: 0.03,
  f: (a) => {
    const m = MODELS[String(a['model']) as keyof typeof MODELS];
    const offset = ACTIVATIONS[String(a['activation']) as keyof typeof ACTIVATIONS];
    if (!m || offset === undefined) throw new Error(`shifted-model: not in the space: ${JSON.stringify(a)}`);
    return m.floor + offset + 4 * ((a['x'] as number) - m.centre) ** 2 + 0.02 * ((a['layers'] as number) - m.layers) ** 2;
  },
};

export const MIXED_PROBLEMS: readonly MixedProblem[] = [hiddenOptimizer, shiftedModel];

export interface MixedRun {
  readonly trials: TrialView[];
  /** Best value after each trial. */
  readonly best: number[];
}

/** Runs `algorithm` sequentially (or in batches) for `budget` trials, as the scheduler calls it. */
export function runMixed(problem: MixedProblem, algorithm: SuggestionAlgorithm, seed: number, budget: number, batch = 1): MixedRun {
  const settings = [{ name: 'random_state', value: String(seed) }];
  algorithm.validateSettings(problem.space, settings);
  const trials: TrialView[] = [];
  const best: number[] = [];
  let state: Record<string, string> | undefined;
  let incumbent = Infinity;
  while (trials.length < budget) {
    const count = Math.min(batch, budget - trials.length);
    const result = algorithm.suggest({ space: problem.space, trials, count, seed, settings, ...(state ? { state } : {}) });
    state = result.state;
    if (result.assignments.length === 0) throw new Error(`${algorithm.name} proposed nothing at trial ${trials.length}`);
    for (const assignment of result.assignments) {
      const value = problem.f(assignment);
      trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment, objectiveValue: value });
      incumbent = Math.min(incumbent, value);
      best.push(incumbent);
    }
  }
  return { trials, best };
}
