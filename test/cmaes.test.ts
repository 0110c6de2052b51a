import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpecError } from '../src/spec/errors.js';
import type { ParameterSpec, StudySpec } from '../src/spec/types.js';
import type { Assignment, TrialView } from '../src/model/trial.js';
import { benchmarkStudy, median, simulate } from '../bench/simulate.js';
import { branin, rosenbrock, type BenchmarkFunction } from '../bench/functions.js';
import { cmaesAlgorithm } from '../suggestion-algorithms/cmaes/index.js';
import { defaultPopulationSize } from '../suggestion-algorithms/cmaes/distribution.js';
import { initialSearch, replay, type ReplayContext, type Slot } from '../suggestion-algorithms/cmaes/replay.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { assignmentKey } from '../suggestion-algorithms/space.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';
import { double, int } from './support/parameters.js';

function spec(parameters: ParameterSpec[], settings: Record<string, string> = {}): StudySpec {
  return {
    ...benchmarkStudy(branin, 'cmaes', settings),
    parameters,
  };
}

const twoDoubles = [double('a', 0, 1), double('b', -5, 5)];

const sphere: BenchmarkFunction = {
  name: 'sphere2',
  bounds: [[-5, 5], [-5, 5]],
  optimum: 0,
  // Off-centre, so that the initial mean (the box's centre) is not already the answer.
  f: (x) => ((x[0] as number) - 1.3) ** 2 + ((x[1] as number) + 2.1) ** 2,
};

function finished(s: StudySpec, assignments: readonly Assignment[], f: (a: Assignment) => number): TrialView[] {
  return assignments.map((assignment, i) => ({ name: `t${i}`, state: 'SUCCEEDED', assignment, objectiveValue: f(assignment) }));
}

function validationError(s: StudySpec): SpecError {
  try {
    validateAlgorithm(s);
  } catch (e) {
    assert.ok(e instanceof SpecError, `expected SpecError, got ${String(e)}`);
    return e;
  }
  assert.fail('validation passed');
}

test('cmaes is registered under its Katib name', () => {
  assert.equal(getAlgorithm('cmaes'), cmaesAlgorithm);
});

test('beats random search on Branin at 30 trials (median over seeds 1..5)', () => {
  const seeds = [1, 2, 3, 4, 5];
  const at30 = (algorithm: string) => median(seeds.map((seed) => simulate({ fn: branin, algorithm, budget: 30, seed }).regret[29] as number));
  const cmaes = at30('cmaes');
  const random = at30('random');
  assert.ok(cmaes < random, `cmaes ${cmaes} vs random ${random}`);
});

test('converges on a 2-d sphere: regret < 1e-3 after 300 trials', () => {
  for (const seed of [1, 2]) {
    const regret = simulate({ fn: sphere, algorithm: 'cmaes', budget: 300, seed }).regret[299] as number;
    assert.ok(regret < 1e-3, `seed ${seed}: regret ${regret}`);
  }
});

test('deterministic: same random_state and history give the same proposals; another random_state does not', () => {
  const s = spec(twoDoubles, { random_state: '7' });
  const history = finished(s, cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: [], count: 4, seed: 1 }).assignments, (a) => (a.a as number) + (a.b as number));
  const first = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: history, count: 3, seed: 1 });
  const again = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: history, count: 3, seed: 99 }); // random_state wins over seed
  assert.deepEqual(again.assignments, first.assignments);
  const other = cmaesAlgorithm.suggest({ ...algorithmInput(spec(twoDoubles, { random_state: '8' })), trials: history, count: 3, seed: 1 });
  assert.notDeepEqual(other.assignments, first.assignments);
});

test('replay equivalence: from-scratch calls give what incremental calls with carried state give', () => {
  const fn = rosenbrock(4);
  const s = benchmarkStudy(fn, 'cmaes', { random_state: '3', restart_strategy: 'ipop' });
  const f = (a: Assignment) => fn.f([0, 1, 2, 3].map((i) => a[`x${i}`] as number));
  const trials: TrialView[] = [];
  let state: Record<string, string> | undefined;
  while (trials.length < 120) {
    const count = 1 + (trials.length % 3); // batches of 1, 2, 3 cross generation boundaries
    const carried = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count, seed: 0, ...(state ? { state } : {}) });
    const scratch = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count, seed: 0 });
    assert.deepEqual(carried.assignments, scratch.assignments, `at trial ${trials.length}`);
    assert.deepEqual(carried.state, scratch.state);
    state = carried.state;
    for (const assignment of carried.assignments) trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment, objectiveValue: f(assignment) });
  }
  // A snapshot that does not describe this history (here: other outcomes) is ignored.
  const altered = trials.map((t) => ({ ...t, objectiveValue: -(t.objectiveValue as number) }));
  const misled = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: altered, count: 2, seed: 0, ...(state ? { state } : {}) });
  assert.deepEqual(misled.assignments, cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: altered, count: 2, seed: 0 }).assignments);
  assert.notDeepEqual(misled.assignments, cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count: 2, seed: 0 }).assignments);
  // A garbled state is ignored too.
  const garbled = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count: 2, seed: 0, state: { cmaes: '{not json' } });
  assert.deepEqual(garbled.assignments, cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count: 2, seed: 0 }).assignments);
});

test('batches and pending trials: the i-th point of a generation is proposed once, whoever asks', () => {
  const s = spec(twoDoubles, { random_state: '5' });
  const lambda = defaultPopulationSize(2); // 6
  const whole = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: [], count: lambda, seed: 0 }).assignments;
  // Asked in pieces while earlier points are still running: the same six points, in order.
  const pending: TrialView[] = [];
  for (const count of [2, 1, 3]) {
    const part = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: pending, count, seed: 0 }).assignments;
    assert.equal(part.length, count);
    part.forEach((assignment) => pending.push({ name: `p${pending.length}`, state: 'RUNNING', assignment }));
  }
  assert.deepEqual(pending.map((t) => t.assignment), whole);
  // The generation is all pending: more asks get extra points, distinct from everything so far.
  const extra = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: pending, count: 4, seed: 0 }).assignments;
  assert.equal(extra.length, 4);
  const keys = new Set([...whole, ...extra].map((a) => assignmentKey(algorithmInput(s).space, a)));
  assert.equal(keys.size, lambda + 4);
  for (const a of extra) {
    assert.ok((a.a as number) >= 0 && (a.a as number) <= 1 && (a.b as number) >= -5 && (a.b as number) <= 5);
  }
});

test('a small finite space is not repeated while unused points remain', () => {
  const s = spec([int('i', 0, 2), int('j', 0, 2)], { random_state: '1' });
  const trials: TrialView[] = [];
  for (let k = 0; k < 9; k += 1) {
    const result = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count: 1, seed: 0 });
    const assignment = result.assignments[0];
    assert.ok(assignment);
    trials.push({ name: `t${k}`, state: 'SUCCEEDED', assignment, objectiveValue: (assignment.i as number) + (assignment.j as number) });
  }
  assert.equal(new Set(trials.map((t) => assignmentKey(algorithmInput(s).space, t.assignment))).size, 9);
  assert.equal(cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count: 1, seed: 0 }).exhausted, true);
});

test('categorical and discrete parameters get valid values; CatCMA learns to avoid a bad value but its margin keeps proposing it', () => {
  const colors = ['red', 'green', 'blue'];
  const sizes = [8, 16, 32, 64];
  const s = spec([
    double('lr', 1e-4, 1e-1),
    { name: 'color', parameterType: 'categorical', list: colors },
    int('layers', 1, 8),
    { name: 'size', parameterType: 'discrete', list: sizes },
  ]);
  const trials: TrialView[] = [];
  for (let k = 0; k < 60; k += 1) {
    const [assignment] = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials, count: 1, seed: 4 }).assignments;
    assert.ok(assignment);
    assert.ok(colors.includes(assignment.color as string));
    assert.ok(sizes.includes(assignment.size as number));
    assert.ok(Number.isInteger(assignment.layers) && (assignment.layers as number) >= 1 && (assignment.layers as number) <= 8);
    // The objective penalises red: the categorical half of the distribution (categories.ts) learns it.
    trials.push({ name: `t${k}`, state: 'SUCCEEDED', assignment, objectiveValue: (assignment.color === 'red' ? 1 : 0) + (assignment.lr as number) });
  }
  const seen = new Set(trials.map((t) => t.assignment.color));
  assert.equal(seen.size, 3);
  const late = trials.slice(30).map((t) => t.assignment.color);
  const reds = late.filter((c) => c === 'red').length;
  assert.ok(reds < 10 && reds < late.length / 3, `red in ${reds} of the last ${late.length} trials`);
  assert.ok(reds >= 1, 'the margin keeps red proposed now and then');
  assert.equal(new Set(trials.map((t) => t.assignment.size)).size, 4);
  assert.equal(Object.keys(trials[0]!.assignment).join(','), 'lr,color,layers,size');
});

test('validation: settings and the space are checked with field names', () => {
  assert.doesNotThrow(() => validateAlgorithm(spec(twoDoubles, { sigma: '0.001', restart_strategy: 'None', random_state: '0' })));
  assert.doesNotThrow(() => validateAlgorithm(spec(twoDoubles, { restart_strategy: 'BIPOP' })));
  let e = validationError(spec(twoDoubles, { sigma: '0' }));
  assert.equal(e.field, 'spec.algorithm.algorithmSettings[sigma]');
  e = validationError(spec(twoDoubles, { sigma: 'wide' }));
  assert.equal(e.field, 'spec.algorithm.algorithmSettings[sigma]');
  e = validationError(spec(twoDoubles, { restart_strategy: 'sometimes' }));
  assert.equal(e.field, 'spec.algorithm.algorithmSettings[restart_strategy]');
  assert.match(e.reason, /none, ipop, bipop/);
  e = validationError(spec(twoDoubles, { random_state: '-1' }));
  assert.equal(e.field, 'spec.algorithm.algorithmSettings[random_state]');
  // Names goptuna does not read are ignored, as Katib's goptuna service ignores them (test/katib-quirks.test.ts).
  assert.doesNotThrow(() => validateAlgorithm(spec(twoDoubles, { popsize: '10' })));
  e = validationError(spec([double('a', 0, 1), { name: 'c', parameterType: 'categorical', list: ['x', 'y'] }]));
  assert.equal(e.field, 'spec.parameters');
  assert.equal(e.reason, 'cmaes needs at least 2 double or int parameters (got 1)');
});

test('restart strategies run 400 trials on rosenbrock(4) and keep improving', () => {
  for (const restart_strategy of ['none', 'ipop', 'bipop']) {
    const { regret } = simulate({ fn: rosenbrock(4), algorithm: 'cmaes', settings: { restart_strategy }, budget: 400, batch: 4, seed: 2 });
    assert.equal(regret.length, 400);
    assert.ok((regret[399] as number) < (regret[19] as number), `${restart_strategy}: ${regret[19]} → ${regret[399]}`);
  }
});

test('restarts: a flat objective makes ipop double the population and bipop alternate regimes', () => {
  const n = 2;
  const lambda0 = defaultPopulationSize(n);
  const flat: Slot[] = Array.from({ length: 600 }, (_, i) => ({ x: Float64Array.of((i % 7) / 7, (i % 5) / 5), loss: 1, active: false, choices: [] }));
  const ctx = (strategy: ReplayContext['strategy']): ReplayContext => ({ seed: 1, n, lambda0, sigma0: 1 / 6, strategy, choiceSizes: [] });
  const ipop = replay(flat, ctx('ipop'), initialSearch(ctx('ipop')));
  assert.ok(ipop.book.restarts >= 1);
  assert.equal(ipop.run.lambda, lambda0 * 2 ** ipop.book.restarts);
  const bipop = replay(flat, ctx('bipop'), initialSearch(ctx('bipop')));
  assert.ok(bipop.book.restarts >= 2);
  assert.ok(bipop.book.smallEvaluations > 0 && bipop.book.largeEvaluations > 0);
  const none = replay(flat, ctx('none'), initialSearch(ctx('none')));
  assert.equal(none.book.restarts, 0);
  assert.equal(none.run.lambda, lambda0);
});

test('failed trials count as worst and a generation of failures leaves the distribution unchanged', () => {
  const s = spec(twoDoubles, { random_state: '2' });
  const first = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: [], count: 6, seed: 0 }).assignments;
  const failed: TrialView[] = first.map((assignment, i) => ({ name: `t${i}`, state: 'FAILED', assignment }));
  const next = cmaesAlgorithm.suggest({ ...algorithmInput(s), trials: failed, count: 6, seed: 0 }).assignments;
  assert.equal(next.length, 6);
  assert.equal(new Set([...first, ...next].map((a) => assignmentKey(algorithmInput(s).space, a))).size, 12);
  const ctx: ReplayContext = { seed: 2, n: 2, lambda0: 6, sigma0: 1 / 6, strategy: 'none', choiceSizes: [] };
  const start = initialSearch(ctx);
  const slots: Slot[] = Array.from({ length: 6 }, (_, i) => ({ x: Float64Array.of(i / 6, 1 - i / 6), loss: i < 2 ? i : Infinity, active: false, choices: [] }));
  const afterFailures = replay(slots, ctx, start);
  assert.equal(afterFailures.generation, 1);
  assert.deepEqual(afterFailures.run.dist, start.run.dist); // 2 successes < μ = 3
  const withResults = replay(slots.map((sl, i) => ({ ...sl, loss: i })), ctx, start);
  assert.notDeepEqual(withResults.run.dist.mean, start.run.dist.mean);
});
