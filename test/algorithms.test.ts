import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParameterSpec, StudySpec } from '../src/spec/types.js';
import type { Assignment, TrialState, TrialView } from '../src/model/trial.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { assignmentKey, gridPoints, sampleParameter } from '../suggestion-algorithms/space.js';
import { algorithmNames, getAlgorithm } from '../suggestion-algorithms/registry.js';
import type { SuggestionAlgorithm } from '../suggestion-algorithms/model.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';
import { double, int } from './support/parameters.js';
import { throwsSpecError } from './support/spec-errors.js';

function makeSpec(
  parameters: ParameterSpec[],
  algorithmName = 'random',
  settings: Record<string, string> = {},
  maxTrialCount?: number,
): StudySpec {
  return {
    name: 'test-study',
    namespace: 'default',
    parameters,
    objective: {
      type: 'maximize',
      objectiveMetricName: 'accuracy',
      additionalMetricNames: [],
      metricStrategies: [{ name: 'accuracy', value: 'max' }],
    },
    algorithm: {
      algorithmName,
      algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })),
    },
    parallelTrialCount: 3,
    ...(maxTrialCount === undefined ? {} : { maxTrialCount }),
    trialTemplate: { trialParameters: [], retain: false },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

function trialsOf(assignments: readonly Assignment[], state: TrialState = 'SUCCEEDED'): TrialView[] {
  return assignments.map((assignment, i) => ({ name: `t${i}`, state, assignment }));
}

function algorithm(name: string): SuggestionAlgorithm {
  const a = getAlgorithm(name);
  assert.ok(a, `algorithm ${name} registered`);
  return a;
}

function samples(p: ParameterSpec, n: number, seed = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => sampleParameter(p, rng) as number);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

// ---------------------------------------------------------------- rng

test('rng is deterministic per seed and stream, within [0,1)', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  const xs = Array.from({ length: 100 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 100 }, () => b.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const other = new Rng(43);
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => other.next()));
  const s1 = new Rng(42, 1).next();
  assert.notEqual(s1, new Rng(42, 0).next());
  const r = new Rng(7);
  const ints = Array.from({ length: 1000 }, () => r.int(5));
  assert.deepEqual([...new Set(ints)].sort(), [0, 1, 2, 3, 4]);
});

// ---------------------------------------------------------------- random: sampling

test('random: uniform doubles stay in bounds', () => {
  const xs = samples(double('lr', -2, 3), 2000);
  assert.ok(xs.every((x) => x >= -2 && x <= 3));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.15);
});

test('random: ints are integers within [min, max] inclusive', () => {
  const xs = samples(int('n', 1, 4), 1000);
  assert.ok(xs.every((x) => Number.isInteger(x) && x >= 1 && x <= 4));
  assert.deepEqual([...new Set(xs)].sort(), [1, 2, 3, 4]);
  const stepped = samples(int('n', 2, 11, { step: 3 }), 500);
  assert.deepEqual([...new Set(stepped)].sort((a, b) => a - b), [2, 5, 8, 11]);
});

test('random: double step quantises to min + k·step without float artefacts', () => {
  const xs = samples(double('x', 0.1, 1, { step: 0.1 }), 2000);
  const allowed = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
  assert.deepEqual([...new Set(xs)].sort((a, b) => a - b), allowed);
  // max − min not a multiple of step: never above max, never off-grid.
  const ys = samples(double('y', 0, 1, { step: 0.4, distribution: 'normal' }), 2000);
  assert.ok(ys.every((y) => [0, 0.4, 0.8].includes(y)));
});

test('random: logUniform median is near the geometric mean', () => {
  const xs = samples(double('lr', 1e-4, 1, { distribution: 'logUniform' }), 4000);
  assert.ok(xs.every((x) => x >= 1e-4 && x <= 1));
  const m = median(xs);
  assert.ok(m > 10 ** -2.3 && m < 10 ** -1.7, `median ${m}`);
});

test('random: normal has mean (min+max)/2 and sd (max−min)/6, clipped to bounds', () => {
  const xs = samples(double('x', 0, 6, { distribution: 'normal' }), 5000);
  assert.ok(xs.every((x) => x >= 0 && x <= 6));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean - 3) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(sd - 1) < 0.1, `sd ${sd}`);
});

test('random: logNormal is centred on the geometric mean and stays in bounds', () => {
  const xs = samples(double('x', 1e-3, 10, { distribution: 'logNormal' }), 4000);
  assert.ok(xs.every((x) => x >= 1e-3 && x <= 10));
  const m = median(xs);
  assert.ok(m > 0.07 && m < 0.14, `median ${m}`);
});

test('random: discrete and categorical values come from their lists', () => {
  const rng = new Rng(3);
  const discrete: ParameterSpec = { name: 'd', parameterType: 'discrete', list: [1, 10, 100] };
  const categorical: ParameterSpec = { name: 'c', parameterType: 'categorical', list: ['adam', 'sgd'] };
  const ds = new Set(Array.from({ length: 300 }, () => sampleParameter(discrete, rng)));
  const cs = new Set(Array.from({ length: 300 }, () => sampleParameter(categorical, rng)));
  assert.deepEqual([...ds].sort((a, b) => Number(a) - Number(b)), [1, 10, 100]);
  assert.deepEqual([...cs].sort(), ['adam', 'sgd']);
});

// ---------------------------------------------------------------- random: suggest

const mixedSpace = (settings: Record<string, string> = {}): StudySpec =>
  makeSpec(
    [
      double('lr', 1e-4, 1, { distribution: 'logUniform' }),
      int('layers', 1, 5),
      { name: 'opt', parameterType: 'categorical', list: ['adam', 'sgd', 'rmsprop'] },
    ],
    'random',
    settings,
  );

test('random: same random_state gives the same batch, another gives another', () => {
  const random = algorithm('random');
  const a = random.suggest({ ...algorithmInput(mixedSpace({ random_state: '5' })), trials: [], count: 4, seed: 1 });
  const b = random.suggest({ ...algorithmInput(mixedSpace({ random_state: '5' })), trials: [], count: 4, seed: 99 });
  const c = random.suggest({ ...algorithmInput(mixedSpace({ random_state: '6' })), trials: [], count: 4, seed: 1 });
  assert.equal(a.assignments.length, 4);
  assert.deepEqual(a.assignments, b.assignments);
  assert.notDeepEqual(a.assignments, c.assignments);
  // Without random_state the call's seed decides.
  const d = random.suggest({ ...algorithmInput(mixedSpace()), trials: [], count: 4, seed: 5 });
  const e = random.suggest({ ...algorithmInput(mixedSpace()), trials: [], count: 4, seed: 5 });
  assert.deepEqual(d.assignments, e.assignments);
});

test('random: a resumed study continues with new points rather than repeating', () => {
  const random = algorithm('random');
  const spec = mixedSpace({ random_state: '5' });
  const first = random.suggest({ ...algorithmInput(spec), trials: [], count: 3, seed: 0 });
  const next = random.suggest({ ...algorithmInput(spec), trials: trialsOf(first.assignments), count: 3, seed: 0 });
  assert.notDeepEqual(next.assignments, first.assignments);
  assert.equal(first.exhausted, undefined, 'an infinite space is never exhausted');
});

test('random: the n-th trial gets the same draw whether asked for alone or in a batch', () => {
  const random = algorithm('random');
  for (const spec of [mixedSpace({ random_state: '5' }), makeSpec([int('a', 1, 4), int('b', 1, 4)], 'random', { random_state: '5' })]) {
    const batch = random.suggest({ ...algorithmInput(spec), trials: [], count: 4, seed: 0 }).assignments;
    const oneByOne: Assignment[] = [];
    for (let i = 0; i < 4; i += 1) {
      oneByOne.push(...random.suggest({ ...algorithmInput(spec), trials: trialsOf(oneByOne, 'RUNNING'), count: 1, seed: 0 }).assignments);
    }
    assert.deepEqual(oneByOne, batch);
  }
});

test('random: no duplicates in a small finite space, then exhausted', () => {
  const random = algorithm('random');
  const spec = makeSpec([int('a', 0, 2), { name: 'b', parameterType: 'categorical', list: ['x', 'y'] }]);
  const seen: Assignment[] = [];
  const first = random.suggest({ ...algorithmInput(spec), trials: [], count: 4, seed: 11 });
  assert.equal(first.assignments.length, 4);
  assert.equal(first.exhausted, false);
  seen.push(...first.assignments);
  const second = random.suggest({ ...algorithmInput(spec), trials: trialsOf(seen, 'RUNNING'), count: 4, seed: 11 });
  assert.equal(second.assignments.length, 2, 'only two unused points remain');
  assert.equal(second.exhausted, true);
  seen.push(...second.assignments);
  const keys = new Set(seen.map((a) => assignmentKey(algorithmInput(spec).space, a)));
  assert.equal(keys.size, 6, 'all six points, each once');
  const third = random.suggest({ ...algorithmInput(spec), trials: trialsOf(seen), count: 2, seed: 11 });
  assert.deepEqual(third.assignments, []);
  assert.equal(third.exhausted, true);
});

test('random: drawing a whole 10×10 space in one batch gives every point once', () => {
  const random = algorithm('random');
  const spec = makeSpec([int('a', 0, 9), int('b', 0, 9, { distribution: 'normal' })], 'random', { random_state: '1' });
  const r = random.suggest({ ...algorithmInput(spec), trials: [], count: 150, seed: 0 });
  assert.equal(r.assignments.length, 100);
  assert.equal(new Set(r.assignments.map((a) => assignmentKey(algorithmInput(spec).space, a))).size, 100);
  assert.equal(r.exhausted, true);
});

test('random: a batch covering exactly the free points is exhausted', () => {
  const random = algorithm('random');
  const spec = makeSpec([double('x', 0.1, 0.3, { step: 0.1 })]);
  const r = random.suggest({ ...algorithmInput(spec), trials: [], count: 3, seed: 2 });
  assert.deepEqual(r.assignments.map((a) => a['x']).sort(), [0.1, 0.2, 0.3]);
  assert.equal(r.exhausted, true);
});

test('random: trials off the grid do not count against the space', () => {
  const random = algorithm('random');
  const spec = makeSpec([int('a', 0, 1)]);
  const r = random.suggest({ ...algorithmInput(spec), trials: trialsOf([{ a: 7 }, { a: 0 }]), count: 5, seed: 2 });
  assert.deepEqual(r.assignments, [{ a: 1 }]);
  assert.equal(r.exhausted, true);
});

test('random: settings are validated with field names', () => {
  throwsSpecError(
    () => validateAlgorithm(mixedSpace({ random_state: 'abc' })),
    'spec.algorithm.algorithmSettings[random_state]',
    /must be an integer ≥ 0 \(got "abc"\)/,
  );
  throwsSpecError(() => validateAlgorithm(mixedSpace({ random_state: '-1' })), 'spec.algorithm.algorithmSettings[random_state]');
  throwsSpecError(
    () => validateAlgorithm(mixedSpace({ gamma: '0.2' })),
    'spec.algorithm.algorithmSettings[gamma]',
    /unknown setting for algorithm "random" \(known: random_state\)/,
  );
  validateAlgorithm(mixedSpace({ random_state: '0' }));
});

// ---------------------------------------------------------------- grid

const grid3x3 = (settings: Record<string, string> = {}): StudySpec =>
  makeSpec([int('a', 1, 3), { name: 'b', parameterType: 'categorical', list: ['x', 'y', 'z'] }], 'grid', settings);

const FULL_3X3 = [1, 2, 3].flatMap((a) => ['x', 'y', 'z'].map((b) => ({ a, b })));

test('grid: enumerates a 3×3 space in a stable order, last parameter fastest', () => {
  const r = algorithm('grid').suggest({ ...algorithmInput(grid3x3()), trials: [], count: 100, seed: 0 });
  assert.deepEqual(r.assignments, FULL_3X3);
  assert.equal(r.exhausted, true);
});

test('grid: double steps keep the last point and have no 0.1 artefacts', () => {
  assert.deepEqual(gridPoints(double('x', 0.1, 0.3, { step: 0.1 })), [0.1, 0.2, 0.3]);
  assert.deepEqual(gridPoints(double('x', 0, 1, { step: 0.1 })), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
  assert.deepEqual(gridPoints(double('x', 0, 1, { step: 0.4 })), [0, 0.4, 0.8]);
  assert.deepEqual(gridPoints(int('n', 2, 6)), [2, 3, 4, 5, 6]);
  assert.deepEqual(gridPoints(int('n', 2, 7, { step: 2 })), [2, 4, 6]);
  assert.equal(gridPoints(double('x', 0, 1)), undefined);
  const spec = makeSpec([double('x', 0.1, 0.3, { step: 0.1 })], 'grid');
  const r = algorithm('grid').suggest({ ...algorithmInput(spec), trials: [], count: 10, seed: 0 });
  assert.deepEqual(r.assignments, [{ x: 0.1 }, { x: 0.2 }, { x: 0.3 }]);
});

test('grid: skips points among trials in any state, including active ones', () => {
  const trials = [
    ...trialsOf([{ a: 1, b: 'x' }], 'RUNNING'),
    ...trialsOf([{ a: 1, b: 'y' }], 'CREATED'),
    ...trialsOf([{ a: 2, b: 'x' }], 'FAILED'),
  ];
  const r = algorithm('grid').suggest({ ...algorithmInput(grid3x3()), trials, count: 3, seed: 0 });
  assert.deepEqual(r.assignments, [
    { a: 1, b: 'z' },
    { a: 2, b: 'y' },
    { a: 2, b: 'z' },
  ]);
  assert.equal(r.exhausted, false);
});

test('grid: batches never overlap and the last one is exhausted', () => {
  const grid = algorithm('grid');
  const spec = grid3x3();
  const all: Assignment[] = [];
  const flags: (boolean | undefined)[] = [];
  for (let i = 0; i < 5; i++) {
    const r = grid.suggest({ ...algorithmInput(spec), trials: trialsOf(all, 'RUNNING'), count: 4, seed: 0 });
    all.push(...r.assignments);
    flags.push(r.exhausted);
    if (r.exhausted) break;
  }
  assert.deepEqual(all, FULL_3X3);
  assert.deepEqual(flags, [false, false, true]);
  const after = grid.suggest({ ...algorithmInput(spec), trials: trialsOf(all), count: 4, seed: 0 });
  assert.deepEqual(after.assignments, []);
  assert.equal(after.exhausted, true);
  // A batch that takes exactly the remaining points is exhausted too.
  const exact = grid.suggest({ ...algorithmInput(spec), trials: trialsOf(all.slice(0, 5)), count: 4, seed: 0 });
  assert.equal(exact.assignments.length, 4);
  assert.equal(exact.exhausted, true);
});

test('grid: huge grids are enumerated lazily and many trials are handled', () => {
  const spec = makeSpec(
    [int('a', 0, 999_999), int('b', 0, 999_999), double('c', 0, 1, { step: 0.001 })],
    'grid',
  );
  const grid = algorithm('grid');
  const first = grid.suggest({ ...algorithmInput(spec), trials: [], count: 5000, seed: 0 });
  assert.equal(first.assignments.length, 5000);
  assert.deepEqual(first.assignments[1001], { a: 0, b: 1, c: 0 });
  const second = grid.suggest({ ...algorithmInput(spec), trials: trialsOf(first.assignments), count: 2, seed: 0 });
  assert.deepEqual(second.assignments, [
    { a: 0, b: 4, c: 0.996 },
    { a: 0, b: 4, c: 0.997 },
  ]);
  assert.equal(second.exhausted, false);
});

test('grid: a double without step is rejected; maxTrialCount above the grid size is not', () => {
  throwsSpecError(
    () => validateAlgorithm(makeSpec([int('a', 0, 3), double('x', 0, 1)], 'grid')),
    'spec.parameters[1].feasibleSpace.step',
    /required by algorithm "grid" for double parameters/,
  );
  validateAlgorithm(makeSpec([int('a', 0, 3)], 'grid', {}, 1000));
});

test('grid: settings are validated with field names', () => {
  validateAlgorithm(grid3x3({ random_state: '3' }));
  throwsSpecError(
    () => validateAlgorithm(grid3x3({ random_state: '1.5' })),
    'spec.algorithm.algorithmSettings[random_state]',
    /must be an integer ≥ 0 \(got "1.5"\)/,
  );
  throwsSpecError(
    () => validateAlgorithm(grid3x3({ foo: '1' })),
    'spec.algorithm.algorithmSettings[foo]',
    /^unknown setting for algorithm "grid" \(known: random_state\)$/,
  );
});

// ---------------------------------------------------------------- registry

test('registry: known names and unknown algorithm error', () => {
  assert.deepEqual(algorithmNames(), ['bayesianoptimization', 'cmaes', 'grid', 'hyperband', 'motpe', 'multivariate-tpe', 'nsga2', 'parego', 'pbt', 'random', 'sobol', 'tpe']);
  assert.equal(getAlgorithm('tpe-nope'), undefined);
  throwsSpecError(
    () => validateAlgorithm(makeSpec([int('a', 0, 3)], 'foo')),
    'spec.algorithm.algorithmName',
    /^unknown algorithm "foo" \(known: bayesianoptimization, cmaes, grid, hyperband, motpe, multivariate-tpe, nsga2, parego, pbt, random, sobol, tpe\)$/
  );
  throwsSpecError(() => validateAlgorithm(makeSpec([double('x', 0, 1)], 'grid')), 'spec.parameters[0].feasibleSpace.step');
  validateAlgorithm(makeSpec([double('x', 0, 1)], 'random'));
});

test('assignmentKey follows spec order and normalises numeric strings', () => {
  const spec = makeSpec([int('a', 0, 3), double('x', 0, 1)]);
  assert.equal(assignmentKey(algorithmInput(spec).space, { x: 0.5, a: 1 }), assignmentKey(algorithmInput(spec).space, { a: 1, x: 0.5 }));
  assert.equal(assignmentKey(algorithmInput(spec).space, { a: '1', x: '0.5' }), assignmentKey(algorithmInput(spec).space, { a: 1, x: 0.5 }));
  assert.equal(assignmentKey(algorithmInput(spec).space, { a: 1, x: 0.1 + 0.2 }), assignmentKey(algorithmInput(spec).space, { a: 1, x: 0.3 }));
  assert.notEqual(assignmentKey(algorithmInput(spec).space, { a: 1, x: 0.5 }), assignmentKey(algorithmInput(spec).space, { a: 2, x: 0.5 }));
});
