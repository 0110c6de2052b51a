import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpecError } from '../src/spec/errors.js';
import type { ParameterSpec, StudySpec } from '../src/spec/types.js';
import type { Assignment, TrialState, TrialView } from '../src/model/trial.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { assignmentKey } from '../suggestion-algorithms/space.js';
import { JOE_KUO_TABLE } from '../suggestion-algorithms/sobol/directions.js';
import { scrambledSobol, unscrambledSobol } from '../suggestion-algorithms/sobol/sequence.js';
import type { SuggestionAlgorithm } from '../suggestion-algorithms/model.js';
import { branin } from '../bench/functions.js';
import { median, simulate } from '../bench/simulate.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';

function makeSpec(parameters: ParameterSpec[], settings: Record<string, string> = {}): StudySpec {
  return {
    name: 'sobol-test',
    namespace: 'default',
    parameters,
    objective: { type: 'minimize', objectiveMetricName: 'loss', additionalMetricNames: [], metricStrategies: [{ name: 'loss', value: 'min' }] },
    algorithm: { algorithmName: 'sobol', algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })) },
    parallelTrialCount: 4,
    trialTemplate: { trialParameters: [], retain: false },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

const unit = (name: string): ParameterSpec => ({ name, parameterType: 'double', min: 0, max: 1, distribution: 'uniform' });
const trialsOf = (assignments: readonly Assignment[], state: TrialState = 'SUCCEEDED'): TrialView[] =>
  assignments.map((assignment, i) => ({ name: `t${i}`, state, assignment, ...(state === 'SUCCEEDED' ? { objectiveValue: i } : {}) }));

function sobol(): SuggestionAlgorithm {
  const a = getAlgorithm('sobol');
  assert.ok(a, 'sobol is registered');
  return a;
}

const firstPoints = (dims: number, n: number) => {
  const g = unscrambledSobol(dims);
  return Array.from({ length: n }, (_, i) => Array.from(g.point(i)));
};

test('the unscrambled sequence starts with the published Joe–Kuo points', () => {
  const points = firstPoints(3, 8);
  assert.deepEqual(points.map((p) => p[0]), [0, 0.5, 0.75, 0.25, 0.375, 0.875, 0.625, 0.125]); // van der Corput, Gray order
  assert.deepEqual(points.map((p) => p[1]), [0, 0.5, 0.25, 0.75, 0.375, 0.875, 0.125, 0.625]);
  assert.deepEqual(points.map((p) => p[2]), [0, 0.5, 0.25, 0.75, 0.625, 0.125, 0.875, 0.375]);
});

test('deep points match SciPy’s Sobol(scramble=False) in high dimensions', () => {
  // Reference values from scipy.stats.qmc.Sobol(256, scramble=False, bits=32), times 1024.
  const g = unscrambledSobol(256);
  const pick = (n: number) => [0, 10, 63, 100, 255].map((d) => (g.point(n)[d] as number) * 1024);
  assert.deepEqual(pick(1000), [225, 87, 457, 787, 255]);
  assert.deepEqual(pick(1023), [1, 695, 41, 243, 863]);
  const far = unscrambledSobol(64).point(2 ** 20 + 12345);
  assert.deepEqual([far[0], far[1], far[2], far[30], far[63]], [0.6409316062927246, 0.657172679901123, 0.519355297088623, 0.20943498611450195, 0.2510685920715332]);
});

test('the direction-number table holds the published rows and well-formed m values', () => {
  const rows = JOE_KUO_TABLE.split('\n').map((line) => line.split(' ').map(Number));
  assert.ok(rows.length >= 63, 'at least 64 dimensions');
  assert.deepEqual(rows.slice(0, 8).map((r) => r.join(' ')), ['2 1 0 1', '3 2 1 1 3', '4 3 1 1 3 1', '5 3 2 1 1 1', '6 4 1 1 1 3 3', '7 4 4 1 3 5 13', '8 5 2 1 1 5 5 17', '9 5 4 1 1 5 5 5']);
  assert.equal(rows[62]?.join(' '), '64 9 62 1 1 3 13 25 47 39 87 257');
  rows.forEach(([d, s, a, ...m], i) => {
    assert.equal(d, i + 2);
    assert.equal(m.length, s, `dimension ${d} has s initial values`);
    assert.ok((a as number) < 2 ** ((s as number) - 1), `dimension ${d}: a has s−1 bits`);
    m.forEach((mk, k) => assert.ok(mk % 2 === 1 && mk < 2 ** (k + 1), `dimension ${d}: m_${k + 1} odd and < 2^${k + 1}`));
  });
});

/** Index of the elementary interval [j/2^k, (j+1)/2^k) holding u. */
const cell = (u: number, k: number) => Math.floor(u * 2 ** k);

test('scrambled points stay stratified: the first 2^k points split every axis and the first plane evenly', () => {
  for (const seed of [1, 2, 3]) {
    const g = scrambledSobol(8, seed);
    const points = Array.from({ length: 64 }, (_, i) => g.point(i));
    for (let k = 1; k <= 6; k += 1) {
      const first = points.slice(0, 2 ** k);
      for (let d = 0; d < 8; d += 1) {
        assert.equal(new Set(first.map((p) => cell(p[d] as number, k))).size, 2 ** k, `seed ${seed}, dim ${d + 1}, k=${k}`);
      }
      // Dimensions 1–2 form a (0, k, 2)-net: one point per 2^-j × 2^-(k-j) box.
      for (let j = 0; j <= k; j += 1) {
        assert.equal(new Set(first.map((p) => `${cell(p[0] as number, j)},${cell(p[1] as number, k - j)}`)).size, 2 ** k, `seed ${seed}, boxes ${j}/${k - j}`);
      }
    }
    assert.notDeepEqual(Array.from(points[0] as Float64Array), new Array(8).fill(0), 'scrambled point 0 is not the origin');
  }
});

test('scrambling depends on the seed and only on it', () => {
  const a = Array.from(scrambledSobol(4, 7).point(5));
  assert.deepEqual(Array.from(scrambledSobol(4, 7).point(5)), a);
  assert.notDeepEqual(Array.from(scrambledSobol(4, 8).point(5)), a);
  assert.notDeepEqual(Array.from(unscrambledSobol(4).point(5)), a);
});

test('suggestions through the algorithm are stratified from the first trial on', () => {
  const spec = makeSpec([unit('x')], { random_state: '11' });
  const xs = sobol().suggest({ ...algorithmInput(spec), trials: [], count: 64, seed: 0 }).assignments.map((a) => a.x as number);
  for (let k = 1; k <= 6; k += 1) assert.equal(new Set(xs.slice(0, 2 ** k).map((x) => cell(x, k))).size, 2 ** k, `k=${k}`);
});

test('deterministic per random_state; the call seed is used when random_state is absent', () => {
  const parameters = [unit('a'), unit('b'), unit('c')];
  const trials = trialsOf([{ a: 0.1, b: 0.2, c: 0.3 }, { a: 0.4, b: 0.5, c: 0.6 }]);
  const ask = (settings: Record<string, string>, seed: number) => sobol().suggest({ ...algorithmInput(makeSpec(parameters, settings)), trials, count: 3, seed }).assignments;
  assert.deepEqual(ask({ random_state: '5' }, 1), ask({ random_state: '5' }, 2));
  assert.notDeepEqual(ask({ random_state: '5' }, 1), ask({ random_state: '6' }, 1));
  assert.deepEqual(ask({}, 9), ask({}, 9));
  assert.notDeepEqual(ask({}, 9), ask({}, 10));
});

test('a resumed study continues the sequence, active trials included', () => {
  const spec = makeSpec([unit('a'), unit('b')], { random_state: '3' });
  const all = sobol().suggest({ ...algorithmInput(spec), trials: [], count: 8, seed: 0 }).assignments;
  const firstFive = sobol().suggest({ ...algorithmInput(spec), trials: [], count: 5, seed: 0 }).assignments;
  assert.deepEqual(firstFive, all.slice(0, 5));
  // Three finished, two still running: the next three are points 5..7.
  const trials = [...trialsOf(firstFive.slice(0, 3)), ...trialsOf(firstFive.slice(3), 'RUNNING')];
  const nextThree = sobol().suggest({ ...algorithmInput(spec), trials, count: 3, seed: 0 }).assignments;
  assert.deepEqual(nextThree, all.slice(5));
});

test('batches with pending trials return count new, distinct points', () => {
  const spec = makeSpec([unit('a'), { name: 'lr', parameterType: 'double', min: 1e-5, max: 1e-1, distribution: 'logUniform' }]);
  const pending = sobol().suggest({ ...algorithmInput(spec), trials: [], count: 4, seed: 4 }).assignments;
  const trials = trialsOf(pending, 'CREATED');
  const batch = sobol().suggest({ ...algorithmInput(spec), trials, count: 4, seed: 4 }).assignments;
  assert.equal(batch.length, 4);
  const keys = new Set([...pending, ...batch].map((a) => assignmentKey(algorithmInput(spec).space, a)));
  assert.equal(keys.size, 8, 'no repeats within the batch or onto pending trials');
  for (const a of batch) assert.ok((a.lr as number) >= 1e-5 && (a.lr as number) <= 1e-1);
});

test('a finite mixed space is covered without repeats and then reports exhaustion', () => {
  const spec = makeSpec([
    { name: 'n', parameterType: 'int', min: 1, max: 3, distribution: 'uniform' },
    { name: 'opt', parameterType: 'categorical', list: ['sgd', 'adam'] },
    { name: 'd', parameterType: 'discrete', list: [0.1, 0.5] },
  ]);
  const first = sobol().suggest({ ...algorithmInput(spec), trials: [], count: 5, seed: 1 });
  assert.equal(first.exhausted, false);
  const rest = sobol().suggest({ ...algorithmInput(spec), trials: trialsOf(first.assignments), count: 20, seed: 1 });
  const all = [...first.assignments, ...rest.assignments];
  assert.equal(all.length, 12);
  assert.equal(new Set(all.map((a) => assignmentKey(algorithmInput(spec).space, a))).size, 12);
  assert.equal(rest.exhausted, true);
  for (const a of all) {
    assert.ok([1, 2, 3].includes(a.n as number));
    assert.ok(['sgd', 'adam'].includes(a.opt as string));
    assert.ok([0.1, 0.5].includes(a.d as number));
  }
});

test('settings: unknown names are ignored (as goptuna does), a bad random_state is rejected by field; huge spaces too', () => {
  const fieldOf = (spec: StudySpec) => {
    try {
      validateAlgorithm(spec);
    } catch (e) {
      assert.ok(e instanceof SpecError);
      return e.field;
    }
    return undefined;
  };
  assert.equal(fieldOf(makeSpec([unit('x')], { random_state: '3' })), undefined);
  assert.equal(fieldOf(makeSpec([unit('x')], { n_initial_points: '3' })), undefined);
  assert.equal(fieldOf(makeSpec([unit('x')], { random_state: '-1' })), 'spec.algorithm.algorithmSettings[random_state]');
  const wide = makeSpec([{ name: 'c', parameterType: 'categorical', list: Array.from({ length: 300 }, (_, i) => `v${i}`) }]);
  assert.equal(fieldOf(wide), 'spec.parameters');
});

test('acceptance: beats random search on Branin at 30 trials (median over seeds 1..5)', () => {
  const finalRegret = (algorithm: string) => median([1, 2, 3, 4, 5].map((seed) => simulate({ fn: branin, algorithm, budget: 30, seed }).regret[29] as number));
  const sobolMedian = finalRegret('sobol');
  const randomMedian = finalRegret('random');
  assert.ok(sobolMedian < randomMedian, `sobol ${sobolMedian} vs random ${randomMedian}`);
});
