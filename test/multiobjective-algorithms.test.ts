// The multi-objective rules (dominance, fronts, crowding, hypervolume) against hand-computed
// cases, and nsga2, motpe and parego on ZDT1 (a known front): the front they return is
// non-dominated and its hypervolume grows; batches and restarts change nothing; bad settings
// are refused by name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MULTI_OBJECTIVE_PROBLEMS } from '../bench/multiobjective-problems.js';
import { SettingsError, type Assignment, type SearchSpace, type Settings, type TrialView } from '../suggestion-algorithms/model.js';
import { crowdingDistances, dominates, hypervolume, hypervolumeContributions, nonDominatedRanks, paretoFront } from '../suggestion-algorithms/pareto.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { contributionWeights, motpeOrder } from '../suggestion-algorithms/motpe/index.js';
import { elite } from '../suggestion-algorithms/nsga2/index.js';
import { goodCount, readTpeSettings } from '../suggestion-algorithms/tpe/settings.js';
import { parseStudyDocument } from '../src/spec/parse.js';
import { SpecError } from '../src/spec/errors.js';

test('hypervolume, 2 objectives: a staircase, dominated and outside points add nothing', () => {
  assert.equal(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]), 6);
  assert.equal(hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [5, 0], [2, 2]], [4, 4]), 6);
  assert.equal(hypervolume([], [4, 4]), 0);
  assert.equal(hypervolume([[4, 0]], [4, 4]), 0, 'on the reference: no volume');
});

test('hypervolume, 3 objectives: boxes and their overlaps by inclusion–exclusion', () => {
  assert.equal(hypervolume([[1, 1, 1]], [2, 2, 2]), 1);
  assert.equal(hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2]), 4 + 2 - 1);
  assert.equal(hypervolume([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [2, 2, 2]), 12 - 6 + 1);
  assert.equal(hypervolume([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0.5, 0.5, 3]], [2, 2, 2]), 7);
  // 4 objectives: one box.
  assert.equal(hypervolume([[1, 1, 1, 1]], [3, 2, 2, 2]), 2);
  assert.deepEqual(hypervolumeContributions([[1, 3], [2, 2], [3, 1]], [4, 4]), [1, 1, 1]);
});

test('dominance, ranks and crowding distance', () => {
  assert.ok(dominates([1, 2], [1, 3]));
  assert.ok(!dominates([1, 2], [1, 2]), 'equal points dominate none of each other');
  assert.ok(!dominates([1, 3], [2, 2]));
  assert.deepEqual(nonDominatedRanks([[1, 3], [2, 2], [3, 1], [2, 3], [3, 3], [1, 3]]), [0, 0, 0, 1, 2, 0]);
  const d = crowdingDistances([[0, 4], [1, 2], [2, 1], [4, 0]]);
  assert.equal(d[0], Infinity);
  assert.equal(d[3], Infinity);
  assert.equal(d[1], (2 - 0) / 4 + (4 - 1) / 4);
  assert.equal(d[2], (4 - 1) / 4 + (2 - 0) / 4);
  // NSGA-II's survivors: the first front whole, then the second cut by crowding (its ends first).
  const survivors = elite([[0, 4], [4, 0], [1, 5], [2, 4.5], [3, 4.2], [5, 1]], 4).map((m) => m.index);
  assert.deepEqual(survivors.slice(0, 2), [0, 1]);
  assert.equal(survivors.length, 4);
  // MOTPE's order: the front first, its overflow cut by hypervolume contribution.
  assert.deepEqual(motpeOrder([[0, 1], [1, 0], [0.5, 0.5], [2, 2]], 4), [0, 1, 2, 3]);
  // Normalised, reference 1.1: [0.5,0.5] adds 0.36 alone; then [0.1,0.9] adds 0.08, more than either end (0.05).
  assert.deepEqual(motpeOrder([[0, 1], [1, 0], [0.5, 0.5], [0.1, 0.9], [2, 2]], 2).slice(0, 2), [2, 3]);
});

test('MOTPE weighs its good points by hypervolume contribution, relative to the largest', () => {
  // Normalised as they are, reference (1.1, 1.1): each end adds 0.5 × 0.1, the knee 0.5 × 0.5
  // less the 0.1 × 0.1 that (0.9, 0.9) also covers; (0.9, 0.9) is dominated by the knee and
  // adds nothing (the floor only).
  const w = contributionWeights([[0, 1], [1, 0], [0.5, 0.5], [0.9, 0.9]]);
  for (const [i, want] of [0.05 / 0.24, 0.05 / 0.24, 1].entries()) assert.ok(Math.abs(w[i]! - want) < 1e-9, `weight ${i}: ${w[i]} ≠ ${want}`);
  assert.ok(w[3]! > 0 && w[3]! < 1e-9, `a dominated good point all but drops out (${w[3]})`);
  assert.deepEqual([...contributionWeights([[3, 4]])], [1]);
  // Units do not matter: the same set scaled per objective gets the same weights.
  const scaled = contributionWeights([[0, 100], [10, 0], [5, 50], [9, 90]]);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(scaled[i]! - w[i]!) < 1e-9);
});

test('motpe proposes near its heaviest good point: l(x) uses the contribution weights, not equal ones', () => {
  // One parameter, 30 finished trials, gamma 0.1, so 3 good ones: two ends of the front at x 0.2 and 0.25
  // (weight 0.2 each) and the knee at x 0.8 (weight 1); the 27 bad ones sit in the middle.
  // With equal weights the two ends make the left bump twice the right one.
  const one: SearchSpace = { parameters: [{ name: 'x', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' }], direction: 'minimize', directions: ['minimize', 'minimize'] };
  const good: [number, number[]][] = [[0.2, [0, 1]], [0.25, [1, 0]], [0.8, [0.5, 0.5]]];
  const bad: [number, number[]][] = Array.from({ length: 27 }, (_, i) => [0.4 + (0.2 * i) / 26, [2, 2 + i]]);
  const trials: TrialView[] = [...good, ...bad].map(([x, v], i) => ({ name: `t${i}`, state: 'SUCCEEDED', assignment: { x }, objectiveValue: v[0]!, objectiveValues: v }));
  // The control: plain TPE on the same good group (values in the same order), equally weighted.
  const control = trials.map((t, i) => ({ name: t.name, state: t.state, assignment: t.assignment, objectiveValue: i }));
  const right = (name: string, ts: readonly TrialView[], s: SearchSpace) =>
    Array.from({ length: 30 }, (_, seed) => getAlgorithm(name)!.suggest({ space: s, trials: ts, count: 1, seed, settings: [{ name: 'gamma', value: '0.1' }] }).assignments[0]!)
      .filter((a) => (a['x'] as number) > 0.5).length;
  const weighted = right('motpe', trials, one);
  const equal = right('tpe', control, { parameters: one.parameters, direction: 'minimize' });
  assert.ok(weighted > 20, `motpe: ${weighted} of 30 proposals near the knee`);
  assert.ok(equal < 15, `equal weights: ${equal} of 30 near the knee (the control)`);
});

test('the good group: 10% of the trials for TPE by default, the fraction a caller asks for (motpe: 20%), at most 25; gamma overrides', () => {
  const settings = readTpeSettings([], 'motpe');
  assert.equal(goodCount(settings, 100), 10);
  assert.equal(goodCount(settings, 100, 0.2), 20);
  assert.equal(goodCount(settings, 300, 0.2), 25);
  assert.equal(goodCount(readTpeSettings([{ name: 'gamma', value: '0.3' }], 'motpe'), 100, 0.2), 30);
});

test('paretoFront: completed trials only, per direction, duplicates kept', () => {
  const view = (name: string, values: number[] | undefined, state: TrialView['state'] = 'SUCCEEDED'): TrialView => ({ name, state, assignment: {}, ...(values ? { objectiveValues: values } : {}) });
  const trials = [view('a', [1, 1]), view('b', [2, 2]), view('c', [1, 1]), view('d', [3, 0]), view('e', [0, 0], 'RUNNING'), view('f', [0, 0], 'FAILED'), view('g', undefined)];
  assert.deepEqual(paretoFront(trials, ['minimize', 'minimize']).map((t) => t.name), ['a', 'c', 'd']);
  assert.deepEqual(paretoFront(trials, ['maximize', 'maximize']).map((t) => t.name), ['b', 'd']);
  assert.deepEqual(paretoFront(trials, ['minimize', 'maximize']).map((t) => t.name), ['a', 'b', 'c']);
});

// ZDT1 with 5 variables (the bench runs the standard 30): quick, and its front is known.
const zdt1 = MULTI_OBJECTIVE_PROBLEMS.find((p) => p.name === 'zdt1')!;
const DIMS = 5;
const space: SearchSpace = {
  parameters: Array.from({ length: DIMS }, (_, i) => ({ name: `x${i}`, parameterType: 'double' as const, min: 0, max: 1, distribution: 'uniform' as const })),
  direction: 'minimize',
  directions: ['minimize', 'minimize'],
};
const evaluate = (a: Assignment) => zdt1.evaluate(space.parameters.map((p) => a[p.name] as number));

function run(name: string, budget: number, settings: Settings, seed: number): TrialView[] {
  const algorithm = getAlgorithm(name)!;
  algorithm.validateSettings(space, settings);
  const trials: TrialView[] = [];
  let state: Record<string, string> | undefined;
  while (trials.length < budget) {
    const result = algorithm.suggest({ space, trials, count: 1, seed, settings, ...(state ? { state } : {}) });
    state = result.state;
    for (const assignment of result.assignments) {
      const values = evaluate(assignment);
      trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment, objectiveValue: values[0]!, objectiveValues: values });
    }
  }
  return trials;
}

const hvOf = (trials: readonly TrialView[]) => hypervolume(paretoFront(trials, space.directions!).map((t) => t.objectiveValues!), zdt1.reference);

for (const [name, settings, budget, early] of [
  ['nsga2', [{ name: 'population_size', value: '10' }], 60, 10],
  ['motpe', [], 50, 10],
  ['parego', [{ name: 'n_initial_points', value: '8' }], 24, 8],
] as const) {
  test(`${name} on ZDT1: a non-dominated front whose hypervolume grows past the initial design's`, () => {
    for (const seed of [1, 2]) {
      const trials = run(name, budget, settings, seed);
      const front = paretoFront(trials, space.directions!);
      for (const a of front) for (const b of trials) assert.ok(!dominates(b.objectiveValues!, a.objectiveValues!), `${b.name} dominates front member ${a.name}`);
      for (const t of trials) for (const p of space.parameters) assert.ok((t.assignment[p.name] as number) >= 0 && (t.assignment[p.name] as number) <= 1);
      const start = hvOf(trials.slice(0, early));
      const end = hvOf(trials);
      assert.ok(end > start, `seed ${seed}: hypervolume ${start.toFixed(3)} after ${early} trials, ${end.toFixed(3)} after ${budget}`);
    }
  });
}

test('nsga2: a batch proposes what single asks would, and the same input gives the same output (restarts change nothing)', () => {
  const settings = [{ name: 'population_size', value: '8' }];
  const done = run('nsga2', 12, settings, 3); // generation 1 under way
  const nsga2 = getAlgorithm('nsga2')!;
  const batch = nsga2.suggest({ space, trials: done, count: 3, seed: 3, settings }).assignments;
  const singles: Assignment[] = [];
  const trials = [...done];
  for (let i = 0; i < 3; i++) {
    const [a] = nsga2.suggest({ space, trials, count: 1, seed: 3, settings }).assignments;
    singles.push(a!);
    trials.push({ name: `p${i}`, state: 'RUNNING', assignment: a! });
  }
  assert.deepEqual(batch, singles);
  assert.deepEqual(nsga2.suggest({ space, trials: done, count: 3, seed: 3, settings }).assignments, batch);
  assert.deepEqual(run('nsga2', 20, settings, 3), run('nsga2', 20, settings, 3));
});

test('motpe and parego are deterministic for a seed', () => {
  assert.deepEqual(run('motpe', 15, [], 4), run('motpe', 15, [], 4));
  assert.deepEqual(run('parego', 10, [{ name: 'n_initial_points', value: '5' }], 4), run('parego', 10, [{ name: 'n_initial_points', value: '5' }], 4));
});

test('bad settings are refused naming the setting', () => {
  const cases: [string, string, string, RegExp][] = [
    ['nsga2', 'population_size', '1', /integer ≥ 2/],
    ['nsga2', 'mutation_prob', '1.5', /≤ 1/],
    ['nsga2', 'crossover_prob', '-0.1', /≥ 0/],
    ['nsga2', 'crossover', 'blend', /sbx or uniform/],
    ['nsga2', 'n_startup_trials', '3', /unknown setting/],
    ['motpe', 'multivariate', 'yes', /true or false/],
    ['motpe', 'gamma', '2', /< 1/],
    ['parego', 'acq_func', 'magic', /must be one of/],
  ];
  for (const [name, setting, value, reason] of cases) {
    assert.throws(() => getAlgorithm(name)!.validateSettings(space, [{ name: setting, value }]), (err: unknown) => {
      assert.ok(err instanceof SettingsError, `${name} ${setting}: ${String(err)}`);
      assert.deepEqual(err.target, { setting });
      assert.match(err.reason, reason);
      return true;
    });
  }
});

test('a study names the setting at fault: spec.algorithm.algorithmSettings[population_size]', () => {
  const study = {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'mo' },
    spec: {
      objective: { objectives: [{ type: 'minimize', objectiveMetricName: 'f1' }, { type: 'minimize', objectiveMetricName: 'f2' }] },
      algorithm: { algorithmName: 'nsga2', algorithmSettings: [{ name: 'population_size', value: '1' }] },
      parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: 0, max: 1 } }],
    },
  };
  assert.throws(() => parseStudyDocument(study), (err: unknown) => err instanceof SpecError && err.field === 'spec.algorithm.algorithmSettings[population_size]');
  study.spec.algorithm.algorithmSettings = [];
  for (const name of ['nsga2', 'motpe', 'parego']) {
    study.spec.algorithm.algorithmName = name;
    assert.equal(parseStudyDocument(study).algorithm.algorithmName, name);
  }
});
