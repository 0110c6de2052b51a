// Mixed spaces (issue #14, item 1): on bench/mixed.ts's hidden-optimizer problem the best
// categorical value looks worst at the first random points and holds the global optimum; on
// shifted-model the category moves the continuous optimum. Fixed seeds 1..10, 50 trials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hiddenOptimizer, MIXED_PROBLEMS, runMixed, shiftedModel, type MixedProblem, type MixedRun } from '../bench/mixed.js';
import { categoryMargin, sampleCategories, uniformCategories, updateCategories } from '../suggestion-algorithms/cmaes/categories.js';
import { sampleAssignment } from '../suggestion-algorithms/space.js';
import type { SuggestResult, TrialView } from '../suggestion-algorithms/model.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { negativeLogPosterior } from '../suggestion-algorithms/bayesianoptimization/gp.js';
import { explorationRate } from '../suggestion-algorithms/bayesianoptimization/categories.js';
import { Rng } from '../suggestion-algorithms/rng.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const BUDGET = 50;
/** bayesianoptimization's default n_initial_points. */
const DESIGN = 10;

const runs = new Map<string, MixedRun[]>();
function runsOf(name: string, problem: MixedProblem = hiddenOptimizer): MixedRun[] {
  const key = `${problem.name}/${name}`;
  let r = runs.get(key);
  if (!r) {
    const algorithm = getAlgorithm(name);
    assert.ok(algorithm, `${name} is registered`);
    r = SEEDS.map((seed) => runMixed(problem, algorithm, seed, BUDGET));
    runs.set(key, r);
  }
  return r;
}
const found = (r: MixedRun, problem: MixedProblem = hiddenOptimizer) => (r.best.at(-1) as number) < problem.found;
const hitsOf = (name: string, problem: MixedProblem = hiddenOptimizer) => runsOf(name, problem).filter((r) => found(r, problem)).length;
const medianBest = (name: string, problem: MixedProblem) => {
  const values = runsOf(name, problem).map((r) => r.best.at(-1) as number).sort((a, b) => a - b);
  return ((values[4] as number) + (values[5] as number)) / 2;
};
/** Proposals of `value` for `parameter` after the first `from` trials. */
const proposalsOf = (run: MixedRun, parameter: string, value: string, from: number) => run.trials.slice(from).filter((t) => t.assignment[parameter] === value).length;

test('the problem needs exploring: the hidden best optimizer looks worst at random points', () => {
  const rng = new Rng(5);
  const mean = (optimizer: string) => {
    let s = 0;
    for (let i = 0; i < 2000; i++) s += hiddenOptimizer.f({ optimizer, lr: rng.next(), wd: rng.next() }) / 2000;
    return s;
  };
  const means = Object.fromEntries(['sgd', 'adam', 'rmsprop', 'adagrad'].map((o) => [o, mean(o)]));
  for (const o of ['sgd', 'adam', 'rmsprop']) assert.ok((means['adagrad'] as number) > 3 * (means[o] as number), JSON.stringify(means));
  assert.equal(hiddenOptimizer.f({ optimizer: 'adagrad', lr: 0.85, wd: 0.15 }), 0);
  // Random search rarely gets there in the same budget.
  const random = runsOf('random').filter((r) => found(r)).length;
  assert.ok(random <= 3, `random found it in ${random} of 10 seeds`);
});

test('bayesianoptimization finds the hidden best category in at least 7 of 10 seeds within 50 trials', () => {
  const hits = runsOf('bayesianoptimization').filter((r) => found(r)).length;
  assert.ok(hits >= 7, `found in ${hits} of 10 seeds`);
});

test('bayesianoptimization proposes every category more than once in the 30 trials after its design', () => {
  runsOf('bayesianoptimization').forEach((run, i) => {
    const counts = new Map<string, number>();
    for (const t of run.trials.slice(DESIGN, DESIGN + 30)) counts.set(String(t.assignment['optimizer']), (counts.get(String(t.assignment['optimizer'])) ?? 0) + 1);
    for (const o of ['sgd', 'adam', 'rmsprop', 'adagrad']) {
      assert.ok((counts.get(o) ?? 0) >= 2, `seed ${SEEDS[i]}: ${o} proposed ${counts.get(o) ?? 0} times (${JSON.stringify([...counts])})`);
    }
  });
});

test('multivariate-tpe finds the hidden best category in at least 7 of 10 seeds within 50 trials', () => {
  const hits = runsOf('multivariate-tpe').filter((r) => found(r)).length;
  assert.ok(hits >= 7, `found in ${hits} of 10 seeds`);
});

test('tpe finds the hidden best category in at least 6 of 10 seeds within 50 trials', () => {
  // Before held-category exploration (tpe/index.ts) it was 4 of 10: adagrad was proposed 3–4
  // times in 40 trials in the seeds it missed.
  const hits = hitsOf('tpe');
  assert.ok(hits >= 6, `found in ${hits} of 10 seeds`);
});

test('tpe keeps proposing a category that looked bad: adagrad, median over seeds, at least 10 of the 40 trials after startup', () => {
  // Greedy over categories (before), the median was 6.5, with 3–4 in the seeds that missed it.
  const counts = runsOf('tpe').map((run) => proposalsOf(run, 'optimizer', 'adagrad', 10)).sort((a, b) => a - b);
  assert.ok(((counts[4] as number) + (counts[5] as number)) / 2 >= 10, `adagrad proposals per seed: ${counts}`);
});

test('cmaes learns categories (CatCMA), explores them and searches each apart: it finds the hidden best category in at least 6 of 10 seeds', () => {
  // With categories drawn at random, as goptuna and Optuna do, it was 1 of 10; CatCMA alone 0
  // of 10 (its single Gaussian settles in sgd's bowl, where adagrad is worst); with held
  // categories probed uniformly 3 of 10. A category's own local search (held.ts) makes it 7.
  const hits = hitsOf('cmaes');
  assert.ok(hits >= 6, `found in ${hits} of 10 seeds`);
});

test('cmaes searches a category other than the incumbent\'s near that category\'s own best trial, not at the Gaussian', () => {
  // After 40 trials of seed 1 the Gaussian sits in another category's bowl; adagrad's
  // proposals must come from adagrad's own local search, around its best point.
  const cmaes = getAlgorithm('cmaes');
  assert.ok(cmaes);
  const run = runsOf('cmaes')[0] as MixedRun;
  const trials = run.trials.slice(0, 40);
  const adagrad = trials.filter((t) => t.assignment['optimizer'] === 'adagrad');
  const bestAdagrad = adagrad.reduce((a, b) => ((a.objectiveValue as number) <= (b.objectiveValue as number) ? a : b));
  const settings = [{ name: 'random_state', value: '1' }];
  const { assignments } = cmaes.suggest({ space: hiddenOptimizer.space, trials, count: 60, seed: 1, settings });
  const near = (a: typeof assignments[number], b: typeof assignments[number], r: number) => Math.hypot((a['lr'] as number) - (b['lr'] as number), (a['wd'] as number) - (b['wd'] as number)) < r;
  const proposed = assignments.filter((a) => a['optimizer'] === 'adagrad');
  assert.ok(proposed.length >= 3, `adagrad proposed ${proposed.length} times of 60`);
  const close = proposed.filter((a) => near(a, bestAdagrad.assignment, 0.3)).length;
  assert.ok(close >= 0.8 * proposed.length, `${close} of ${proposed.length} adagrad proposals within 0.3 of adagrad's best ${JSON.stringify(bestAdagrad.assignment)}`);
});

test('shifted-model: its optimum is where the README says, and the best model looks worse than tree at random points', () => {
  assert.equal(shiftedModel.f({ model: 'net', activation: 'relu', layers: 6, x: 0.8 }), 0);
  assert.ok(Math.abs(shiftedModel.f({ model: 'tree', activation: 'relu', layers: 2, x: 0.5 }) - shiftedModel.runnerUp) < 1e-12);
  assert.ok(shiftedModel.f({ model: 'net', activation: 'tanh', layers: 6, x: 0.8 }) >= shiftedModel.found);
  const rng = new Rng(3);
  const mean = (model: string) => {
    let s = 0;
    for (let i = 0; i < 4000; i++) s += shiftedModel.f({ ...sampleAssignment(shiftedModel.space, rng), model }) / 4000;
    return s;
  };
  assert.ok(mean('net') > mean('tree'), `net ${mean('net')} vs tree ${mean('tree')}`);
});

test('shifted-model: bayesianoptimization finds the optimum in at least 7 of 10 seeds, multivariate-tpe in at least 5, tpe and cmaes in at least 4', () => {
  const hits = Object.fromEntries(['bayesianoptimization', 'multivariate-tpe', 'tpe', 'cmaes', 'random'].map((a) => [a, hitsOf(a, shiftedModel)]));
  assert.ok((hits['bayesianoptimization'] as number) >= 7, JSON.stringify(hits));
  assert.ok((hits['multivariate-tpe'] as number) >= 5, JSON.stringify(hits));
  assert.ok((hits['tpe'] as number) >= 4, JSON.stringify(hits));
  assert.ok((hits['cmaes'] as number) >= 4, JSON.stringify(hits));
  assert.ok((hits['random'] as number) <= 3, JSON.stringify(hits));
});

test('shifted-model: bayesianoptimization and multivariate-tpe end with a lower median best value than random', () => {
  const random = medianBest('random', shiftedModel);
  for (const a of ['bayesianoptimization', 'multivariate-tpe']) {
    const mine = medianBest(a, shiftedModel);
    assert.ok(mine < random, `${a} ${mine} vs random ${random}`);
  }
});

test('hidden-optimizer: bayesianoptimization, tpe and multivariate-tpe end with a lower median best value than random; random rarely finds it', () => {
  const random = medianBest('random', hiddenOptimizer);
  for (const a of ['bayesianoptimization', 'tpe', 'multivariate-tpe']) {
    const mine = medianBest(a, hiddenOptimizer);
    assert.ok(mine < random, `${a} ${mine} vs random ${random}`);
  }
  assert.ok(hitsOf('random') <= 3);
});

test('CatCMA categories: the ranking moves q towards the best members\' values, and the margin keeps every value alive', () => {
  const q0 = uniformCategories([4, 2]);
  let q = q0;
  // Ten generations in which the best members always chose value 2 (of 4) and value 0 (of 2).
  for (let g = 0; g < 10; g++) q = updateCategories(q, [[2, 0], [2, 0], [2, 0]], [0.5, 0.3, 0.2]);
  const [first, second] = q as number[][];
  assert.ok(first && second);
  for (const p of q) assert.ok(Math.abs(p.reduce((a, v) => a + v, 0) - 1) < 1e-12, `sums to 1: ${p}`);
  assert.ok((first[2] as number) > 0.6 && (second[0] as number) > 0.6, JSON.stringify(q));
  const margin4 = categoryMargin(4, 2);
  for (const k of [0, 1, 3]) assert.ok((first[k] as number) >= margin4 - 1e-12, `value ${k}: ${first[k]} below the margin ${margin4}`);
  assert.ok((second[1] as number) >= categoryMargin(2, 2) - 1e-12);
  // Sampling follows q.
  const rng = new Rng(11);
  let twos = 0;
  for (let i = 0; i < 2000; i++) if (sampleCategories(q, rng)[0] === 2) twos++;
  assert.ok(Math.abs(twos / 2000 - (first[2] as number)) < 0.04, `${twos / 2000} vs ${first[2]}`);
});

test('cmaes on a mixed space: a restart (no state) proposes exactly what the carried state proposes', () => {
  const cmaes = getAlgorithm('cmaes');
  assert.ok(cmaes);
  const settings = [{ name: 'random_state', value: '5' }];
  const trials: TrialView[] = [];
  let state: Record<string, string> | undefined;
  for (let k = 0; k < 30; k += 1) {
    const carried: SuggestResult = cmaes.suggest({ space: shiftedModel.space, trials, count: 1, seed: 5, settings, ...(state ? { state } : {}) });
    const scratch: SuggestResult = cmaes.suggest({ space: shiftedModel.space, trials, count: 1, seed: 5, settings });
    assert.deepEqual(carried.assignments, scratch.assignments, `trial ${k}`);
    assert.deepEqual(carried.state, scratch.state, `trial ${k}`);
    state = carried.state;
    const assignment = carried.assignments[0];
    assert.ok(assignment);
    trials.push({ name: `t${k}`, state: 'SUCCEEDED', assignment, objectiveValue: shiftedModel.f(assignment) });
  }
  // The categorical half of the distribution has moved away from uniform by then.
  const stored = JSON.parse(state?.['cmaes'] ?? '{}') as { search?: { categories?: number[][] } };
  const models = stored.search?.categories?.[0] ?? [];
  assert.equal(models.length, 3);
  assert.ok(models.some((p) => Math.abs(p - 1 / 3) > 0.05), JSON.stringify(models));
});

test('bench/mixed_problems.py evaluates the same functions as bench/mixed.ts', () => {
  const rng = new Rng(21);
  const points = MIXED_PROBLEMS.flatMap((p) => Array.from({ length: 40 }, () => ({ problem: p.name, assignment: sampleAssignment(p.space, rng) })));
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'mixed_problems.py');
  const out = spawnSync('/usr/bin/python3', [script], { input: JSON.stringify(points), encoding: 'utf8' });
  assert.equal(out.error, undefined, `/usr/bin/python3 must run: ${out.error?.message}`);
  assert.equal(out.status, 0, out.stderr);
  const values = JSON.parse(out.stdout) as number[];
  assert.equal(values.length, points.length);
  points.forEach((pt, i) => {
    const problem = MIXED_PROBLEMS.find((p) => p.name === pt.problem) as MixedProblem;
    const ts = problem.f(pt.assignment);
    assert.ok(Math.abs(ts - (values[i] as number)) <= 1e-12 * (1 + Math.abs(ts)), `${pt.problem} ${JSON.stringify(pt.assignment)}: ${ts} vs ${values[i]}`);
  });
});

test('category exploration fades with the trials and is off for a single value', () => {
  assert.equal(explorationRate(1, 10), 0);
  assert.ok(explorationRate(4, 10) > explorationRate(4, 40) && explorationRate(4, 40) > explorationRate(4, 100));
  assert.ok(Math.abs(explorationRate(4, 40) - 0.284) < 0.01);
});

test('overlap kernel: a categorical parameter has one lengthscale, and its gradient matches finite differences', () => {
  // Columns: one range, then a 3-value categorical (one-hot) sharing lengthscale group 1.
  const groups = Int32Array.from([0, 1, 1, 1]);
  const rng = new Rng(9);
  const x = Array.from({ length: 7 }, () => {
    const row = new Float64Array(4);
    row[0] = rng.next();
    row[1 + rng.int(3)] = 1;
    return row;
  });
  const y = Float64Array.from(x, (r) => Math.sin(5 * (r[0] as number)) + (r[2] as number));
  const theta = Float64Array.from([Math.log(0.4), Math.log(0.7), Math.log(1.2), Math.log(0.01)]);
  const { gradient } = negativeLogPosterior(x, y, theta, true, groups);
  assert.equal(gradient.length, 4);
  for (let j = 0; j < theta.length; j++) {
    const up = Float64Array.from(theta);
    const down = Float64Array.from(theta);
    up[j] = (up[j] as number) + 1e-6;
    down[j] = (down[j] as number) - 1e-6;
    const numeric = (negativeLogPosterior(x, y, up, false, groups).value - negativeLogPosterior(x, y, down, false, groups).value) / 2e-6;
    assert.ok(Math.abs(numeric - (gradient[j] as number)) < 1e-4 * (1 + Math.abs(numeric)), `θ${j}: analytic ${gradient[j]} vs numeric ${numeric}`);
  }
  // Tied = the per-column model with equal lengthscales on the one-hot columns.
  const untied = Float64Array.from([Math.log(0.4), Math.log(0.7), Math.log(0.7), Math.log(0.7), Math.log(1.2), Math.log(0.01)]);
  const tiedValue = negativeLogPosterior(x, y, theta, false, groups).value;
  const untiedValue = negativeLogPosterior(x, y, untied, false).value;
  // The priors differ by the two extra lengthscale terms only.
  const priorTerm = 2 * (2 * Math.log(0.7) - 6 * 0.7);
  assert.ok(Math.abs(untiedValue + priorTerm - tiedValue) < 1e-9, `${tiedValue} vs ${untiedValue}`);
});

test('bayesianoptimization fits one lengthscale for all one-hot columns of a categorical', () => {
  const run = runsOf('bayesianoptimization')[0] as MixedRun;
  const bo = getAlgorithm('bayesianoptimization');
  assert.ok(bo);
  const settings = [{ name: 'random_state', value: '1' }];
  const { state } = bo.suggest({ space: hiddenOptimizer.space, trials: run.trials.slice(0, 20), count: 1, seed: 1, settings });
  // Columns: 4 one-hot (optimizer), lr, wd, then signal and noise.
  const theta = (state?.['gp_log_hyperparameters'] ?? '').split(',').map(Number);
  assert.equal(theta.length, 8);
  assert.ok(theta.slice(0, 4).every((v) => v === theta[0]), `one-hot lengthscales ${theta.slice(0, 4)}`);
});
