// Mixed spaces (issue #14, item 1): on bench/mixed.ts's hidden-optimizer problem the best
// categorical value looks worst at the first random points and holds the global optimum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hiddenOptimizer, runMixed, type MixedRun } from '../bench/mixed.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { negativeLogPosterior } from '../suggestion-algorithms/bayesianoptimization/gp.js';
import { explorationRate } from '../suggestion-algorithms/bayesianoptimization/categories.js';
import { Rng } from '../suggestion-algorithms/rng.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const BUDGET = 50;
/** bayesianoptimization's default n_initial_points. */
const DESIGN = 10;

const runs = new Map<string, MixedRun[]>();
function runsOf(name: string): MixedRun[] {
  let r = runs.get(name);
  if (!r) {
    const algorithm = getAlgorithm(name);
    assert.ok(algorithm, `${name} is registered`);
    r = SEEDS.map((seed) => runMixed(hiddenOptimizer, algorithm, seed, BUDGET));
    runs.set(name, r);
  }
  return r;
}
const found = (r: MixedRun) => (r.best.at(-1) as number) < hiddenOptimizer.found;

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
  const random = runsOf('random').filter(found).length;
  assert.ok(random <= 3, `random found it in ${random} of 10 seeds`);
});

test('bayesianoptimization finds the hidden best category in at least 7 of 10 seeds within 50 trials', () => {
  const hits = runsOf('bayesianoptimization').filter(found).length;
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
  const hits = runsOf('multivariate-tpe').filter(found).length;
  assert.ok(hits >= 7, `found in ${hits} of 10 seeds`);
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
