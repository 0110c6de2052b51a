import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SpecError } from '../src/spec/errors.js';
import type { Assignment, TrialView } from '../src/model/trial.js';
import type { ParameterSpec, StudySpec } from '../src/spec/types.js';
import { branin } from '../bench/functions.js';
import { median, simulate } from '../bench/simulate.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { assignmentKey, gridPoints } from '../suggestion-algorithms/space.js';
import { unitCube } from '../suggestion-algorithms/transform.js';
import type { SuggestionAlgorithm } from '../suggestion-algorithms/model.js';
import { observationWeights, parameterSpace } from '../suggestion-algorithms/tpe/observations.js';
import { logGaussMass, ParzenEstimator } from '../suggestion-algorithms/tpe/parzen.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';
import { double, int } from './support/parameters.js';

const VARIANTS = ['tpe', 'multivariate-tpe'] as const;

function makeSpec(parameters: ParameterSpec[], algorithmName: string, settings: Record<string, string> = {}): StudySpec {
  return {
    name: 'tpe-test',
    namespace: 'default',
    parameters,
    objective: { type: 'minimize', objectiveMetricName: 'loss', additionalMetricNames: [], metricStrategies: [{ name: 'loss', value: 'min' }] },
    algorithm: { algorithmName, algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })) },
    parallelTrialCount: 1,
    trialTemplate: { trialParameters: [], retain: false },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

function algorithm(name: string): SuggestionAlgorithm {
  const a = getAlgorithm(name);
  assert.ok(a, `${name} is registered`);
  return a;
}

/** Runs a sequential study, one suggestion per call, and returns every trial. */
function runStudy(spec: StudySpec, objective: (a: Assignment) => number, budget: number, seed = 1): TrialView[] {
  const alg = algorithm(spec.algorithm.algorithmName);
  validateAlgorithm(spec);
  const trials: TrialView[] = [];
  while (trials.length < budget) {
    const { assignments } = alg.suggest({ ...algorithmInput(spec), trials, count: 1, seed });
    assert.equal(assignments.length, 1);
    const assignment = assignments[0]!;
    trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment, objectiveValue: objective(assignment) });
  }
  return trials;
}

const braninOf = (a: Assignment) => branin.f([a.x as number, a.y as number]);
const braninSpace = () => [double('x', -5, 10), double('y', 0, 15)];

function completedBranin(spec: StudySpec, n: number, seed = 3): TrialView[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const assignment = { x: -5 + 15 * rng.next(), y: 15 * rng.next() };
    return { name: `t${i}`, state: 'SUCCEEDED' as const, assignment, objectiveValue: braninOf(assignment) };
  });
}

test('tpe and multivariate-tpe beat random on Branin (median regret over seeds 1..5 at 30 trials)', () => {
  const seeds = [1, 2, 3, 4, 5];
  const medianRegret = (algorithmName: string) =>
    median(seeds.map((seed) => simulate({ fn: branin, algorithm: algorithmName, budget: 30, seed }).regret.at(-1) as number));
  const random = medianRegret('random');
  for (const name of VARIANTS) {
    const regret = medianRegret(name);
    assert.ok(regret < random, `${name}: median regret ${regret} should be below random's ${random}`);
  }
});

test('same random_state and history give the same proposals; another random_state differs', () => {
  for (const name of VARIANTS) {
    const spec = makeSpec(braninSpace(), name, { random_state: '42' });
    const trials = completedBranin(spec, 25);
    const first = algorithm(name).suggest({ ...algorithmInput(spec), trials, count: 3, seed: 1 });
    const again = algorithm(name).suggest({ ...algorithmInput(spec), trials, count: 3, seed: 999 }); // random_state wins over seed
    assert.deepEqual(again.assignments, first.assignments);
    const other = algorithm(name).suggest({ ...algorithmInput(makeSpec(braninSpace(), name, { random_state: '43' })), trials, count: 3, seed: 1 });
    assert.notDeepEqual(other.assignments, first.assignments);
  }
});

test('startup trials are the random algorithm’s draws, then the model takes over', () => {
  for (const name of VARIANTS) {
    const spec = makeSpec(braninSpace(), name, { random_state: '5', n_startup_trials: '4' });
    const randomSpec = makeSpec(braninSpace(), 'random', { random_state: '5' });
    const startup = algorithm(name).suggest({ ...algorithmInput(spec), trials: [], count: 4, seed: 0 }).assignments;
    assert.deepEqual(startup, algorithm('random').suggest({ ...algorithmInput(randomSpec), trials: [], count: 4, seed: 0 }).assignments);
    const trials = completedBranin(spec, 4);
    const modelled = algorithm(name).suggest({ ...algorithmInput(spec), trials, count: 1, seed: 0 }).assignments;
    assert.notDeepEqual(modelled, algorithm('random').suggest({ ...algorithmInput(randomSpec), trials, count: 1, seed: 0 }).assignments);
  }
});

test('settings are validated with field-named errors', () => {
  const cases: [Record<string, string>, string][] = [
    [{ n_startup_trials: '-1' }, 'n_startup_trials'],
    [{ n_ei_candidates: '0' }, 'n_ei_candidates'],
    [{ n_EI_candidates: '0' }, 'n_EI_candidates'],
    [{ gamma: '1.5' }, 'gamma'],
    [{ gamma: '0' }, 'gamma'],
    [{ prior_weight: '0' }, 'prior_weight'],
    [{ random_state: '-3' }, 'random_state'],
    [{ n_ei_candidates: '10', n_EI_candidates: '10' }, 'n_EI_candidates'],
    [{ n_initial_points: '5' }, 'n_initial_points'],
  ];
  for (const name of VARIANTS) {
    for (const [settings, field] of cases) {
      assert.throws(
        () => validateAlgorithm(makeSpec(braninSpace(), name, settings)),
        (e: unknown) => e instanceof SpecError && e.field === `spec.algorithm.algorithmSettings[${field}]`,
        `${name} ${JSON.stringify(settings)}`,
      );
    }
    // Every documented setting, including Katib's hyperopt spelling, is accepted.
    validateAlgorithm(
      makeSpec(braninSpace(), name, { n_startup_trials: '0', n_EI_candidates: '48', gamma: '0.25', prior_weight: '2', random_state: '7' }),
    );
  }
});

test('a categorical parameter with one good choice: after startup, TPE mostly picks it', () => {
  const parameters: ParameterSpec[] = [
    { name: 'opt', parameterType: 'categorical', list: ['sgd', 'adam', 'rmsprop', 'lbfgs', 'adagrad'] },
    double('lr', 0, 1),
  ];
  for (const name of VARIANTS) {
    // Random search would pick it 1 time in 5 (18 of 90); the model should pick it most of the time.
    let picks = 0;
    for (const seed of ['11', '12', '13']) {
      const spec = makeSpec(parameters, name, { random_state: seed, n_startup_trials: '10' });
      const trials = runStudy(spec, (a) => (a.opt === 'adam' ? 0 : 1) + 0.1 * (a.lr as number), 40);
      picks += trials.slice(10).filter((t) => t.assignment.opt === 'adam').length;
    }
    assert.ok(picks > 45, `${name}: picked the good choice ${picks}/90 times after startup`);
  }
});

test('int, log, stepped and discrete parameters always get valid values', () => {
  const parameters: ParameterSpec[] = [
    int('layers', 1, 8),
    double('lr', 1e-5, 1e-1, { distribution: 'logUniform' }),
    int('batch', 16, 512, { distribution: 'logUniform' }),
    double('dropout', 0, 0.5, { step: 0.05 }),
    { name: 'width', parameterType: 'discrete', list: [32, 64, 128] },
    { name: 'act', parameterType: 'categorical', list: ['relu', 'tanh'] },
  ];
  const dropoutGrid = new Set(gridPoints(parameters[3]!) as number[]);
  for (const name of VARIANTS) {
    const spec = makeSpec(parameters, name, { random_state: '3', n_startup_trials: '5' });
    const objective = (a: Assignment) => Math.abs(Math.log10(a.lr as number) + 3) + (a.layers as number) / 8 + (a.dropout as number);
    const trials = runStudy(spec, objective, 30);
    const lrs: number[] = [];
    for (const { assignment: a } of trials) {
      assert.ok(Number.isInteger(a.layers) && (a.layers as number) >= 1 && (a.layers as number) <= 8, `layers ${a.layers}`);
      assert.ok(Number.isInteger(a.batch) && (a.batch as number) >= 16 && (a.batch as number) <= 512, `batch ${a.batch}`);
      assert.ok(typeof a.lr === 'number' && a.lr >= 1e-5 && a.lr <= 1e-1, `lr ${a.lr}`);
      assert.ok(dropoutGrid.has(a.dropout as number), `dropout ${a.dropout} on its grid`);
      assert.ok([32, 64, 128].includes(a.width as number), `width ${a.width}`);
      assert.ok(a.act === 'relu' || a.act === 'tanh', `act ${a.act}`);
      lrs.push(a.lr as number);
    }
    // The log scale is modelled: proposals concentrate around the optimum 1e-3 (random: median 1).
    const modelled = lrs.slice(5).map((lr) => Math.abs(Math.log10(lr) + 3));
    assert.ok(median(modelled) < 0.7, `${name}: median |log10 lr + 3| = ${median(modelled)}`);
  }
});

test('a batch with pending trials gives distinct points that keep away from the pending ones', () => {
  for (const name of VARIANTS) {
    const spec = makeSpec(braninSpace(), name, { random_state: '8' });
    const cube = unitCube(algorithmInput(spec).space);
    const done = completedBranin(spec, 30);
    // Trials that failed count for the trial index (hence the random stream) but teach nothing:
    // they give the proposal a trial would get if nothing were pending.
    const failedAt = (assignment: Assignment, n: number): TrialView[] =>
      Array.from({ length: n }, (_, i) => ({ name: `f${i}`, state: 'FAILED', assignment }));
    const somewhere = { x: 0, y: 0 };
    const [free] = algorithm(name).suggest({ ...algorithmInput(spec), trials: [...done, ...failedAt(somewhere, 3)], count: 1, seed: 1 }).assignments;
    assert.ok(free);
    // Constant liar: the same trial with three trials RUNNING exactly there goes elsewhere.
    const running: TrialView[] = failedAt(free, 3).map((t) => ({ ...t, state: 'RUNNING' }));
    const [dodged] = algorithm(name).suggest({ ...algorithmInput(spec), trials: [...done, ...running], count: 1, seed: 1 }).assignments;
    assert.notDeepEqual(dodged, free, `${name}: a pending point repels the next proposal`);

    // Within a batch, earlier proposals are pending for the later ones: the batch differs from
    // what independent single asks (same streams, nothing pending) would propose.
    const base = [...done, ...failedAt(somewhere, 3)];
    const { assignments } = algorithm(name).suggest({ ...algorithmInput(spec), trials: base, count: 8, seed: 1 });
    assert.equal(assignments.length, 8);
    const independent = assignments.map((_, i) => algorithm(name).suggest({ ...algorithmInput(spec), trials: [...base, ...failedAt(somewhere, i)], count: 1, seed: 1 }).assignments[0]);
    assert.notDeepEqual(assignments, independent, `${name}: batch members account for each other`);
    const points = assignments.map((a) => cube.encode(a)!);
    let closest = Infinity;
    for (let i = 0; i < points.length; i++) {
      for (let j = i + 1; j < points.length; j++) closest = Math.min(closest, Math.hypot(points[i]![0]! - points[j]![0]!, points[i]![1]! - points[j]![1]!));
    }
    assert.ok(closest > 0.005, `${name}: closest pair in the batch at ${closest} in the unit square`);
  }
});

test('a finite space is never repeated while unused points remain, then reports exhaustion', () => {
  const parameters = [int('a', 0, 2), { name: 'c', parameterType: 'categorical', list: ['x', 'y', 'z'] } as ParameterSpec];
  for (const name of VARIANTS) {
    const spec = makeSpec(parameters, name, { random_state: '2', n_startup_trials: '2' });
    const trials = runStudy(spec, (a) => (a.a as number) + (a.c === 'y' ? 0 : 1), 8);
    const last = algorithm(name).suggest({ ...algorithmInput(spec), trials, count: 1, seed: 1 });
    assert.equal(last.exhausted, true);
    const keys = new Set([...trials.map((t) => t.assignment), ...last.assignments].map((a) => assignmentKey(algorithmInput(spec).space, a)));
    assert.equal(keys.size, 9, `${name}: 9 distinct points`);
    // A batch in a partly used space: distinct and new.
    const batch = algorithm(name).suggest({ ...algorithmInput(spec), trials: trials.slice(0, 3), count: 6, seed: 1 });
    const batchKeys = new Set([...trials.slice(0, 3).map((t) => t.assignment), ...batch.assignments].map((a) => assignmentKey(algorithmInput(spec).space, a)));
    assert.equal(batchKeys.size, 9);
    assert.equal(batch.exhausted, true);
  }
});

test('the Parzen estimator scores points exactly as Optuna 3.1’s _ParzenEstimator.log_pdf', () => {
  // Reference values from Optuna 3.1.0 (consider_prior, prior_weight 1, magic clip, no
  // endpoints, default_weights) for x ~ FloatDistribution(0, 1), y ~ IntDistribution(0, 9) and
  // c ~ CategoricalDistribution of 3, univariate per parameter and multivariate over all three.
  // The continuous values include 3.1's truncnorm.logpdf without the −log(sigma) Jacobian;
  // y is scored by the mass of its cell (q-bounds). On the [0,1] scale y = v stands at (v + 0.5)/10.
  const kinds = [{ kind: 'numeric' as const }, { kind: 'numeric' as const, halfCell: 0.05 }, { kind: 'categorical' as const, size: 3 }];
  const xs = [0.12, 0.5, 0.33, 0.91, 0.05, 0.62, 0.47, 0.78];
  const ys = [2, 9, 0, 4, 4, 7, 1, 3];
  const cs = [0, 2, 1, 1, 0, 2, 0, 1];
  const group = { rows: new Float64Array(xs.flatMap((x, i) => [x, ((ys[i] as number) + 0.5) / 10, cs[i] as number])), n: 8, weights: observationWeights(8) };
  const px = [0.02, 0.3, 0.55, 0.97];
  const py = [0, 3, 6, 9];
  const pc = [0, 1, 2, 0];
  const points = new Float64Array(px.flatMap((x, i) => [x, ((py[i] as number) + 0.5) / 10, pc[i] as number]));
  const expected: Record<string, number[]> = {
    x: [-1.444579, -1.428889, -1.250533, -1.687687],
    y: [-2.219147, -1.901834, -2.862118, -2.77441],
    c: [-1.01857, -1.01857, -1.280934, -1.01857],
    joint: [-4.79482, -4.939768, -4.306617, -5.71549],
  };
  const out = new Float64Array(4);
  const check = (name: string, params: number[], bandwidth: 'neighbours' | 'scott') => {
    new ParzenEstimator(kinds, params, group, { priorWeight: 1, bandwidth }).logPdf(points, 4, out);
    (expected[name] as number[]).forEach((want, i) => assert.ok(Math.abs((out[i] as number) - want) < 2e-6, `${name}[${i}]: ${out[i]} vs Optuna's ${want}`));
  };
  check('x', [0], 'neighbours');
  check('y', [1], 'neighbours');
  check('c', [2], 'neighbours');
  check('joint', [0, 1, 2], 'scott');
});

test('on a grid the Parzen estimator is a normalised distribution and samples follow it', () => {
  // A 10-point grid parameter (cell masses, like Optuna's q-bounds) and a categorical one: the
  // probabilities of all 30 points sum to 1, and snapped samples land with those frequencies.
  const kinds = [{ kind: 'numeric' as const, halfCell: 0.05 }, { kind: 'categorical' as const, size: 3 }];
  const group = { rows: new Float64Array([0.15, 0, 0.15, 2, 0.95, 1, 0.05, 0]), n: 4, weights: observationWeights(4) };
  for (const bandwidth of ['neighbours', 'scott'] as const) {
    const parzen = new ParzenEstimator(kinds, [0, 1], group, { priorWeight: 1, bandwidth });
    const points = new Float64Array(30 * 2);
    for (let c = 0; c < 3; c++) for (let j = 0; j < 10; j++) points.set([(j + 0.5) / 10, c], (c * 10 + j) * 2);
    const logP = new Float64Array(30);
    parzen.logPdf(points, 30, logP);
    const p = [...logP].map(Math.exp);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6, `${bandwidth}: probabilities sum to 1`);
    const rng = new Rng(1);
    const draw = new Float64Array(2);
    const draws = 20000;
    const seen = new Array<number>(30).fill(0);
    for (let i = 0; i < draws; i++) {
      parzen.sample(rng, draw, 0);
      const cell = Math.min(9, Math.floor((draw[0] as number) * 10));
      const at = (draw[1] as number) * 10 + cell;
      seen[at] = (seen[at] as number) + 1;
    }
    seen.forEach((count, i) => assert.ok(Math.abs(count / draws - (p[i] as number)) < 0.01, `${bandwidth}: frequency of point ${i}`));
  }
});

test('Gaussian interval masses match Optuna’s _log_gauss_mass, tails and narrow cells included', () => {
  const cases: [number, number, number][] = [
    [0, 1, -1.0748623268620714],
    [5, 6, -15.06844609652945],
    [-6, -5, -15.06844609652945],
    [30, 31, -454.3212439563432],
    [-1, 2, -0.20016629432446262],
    [0.2, 0.2001, -10.149288906830852],
    [-40, -39.9, -800.6294741601215],
    [2, 2.05, -5.964660392718818],
  ];
  for (const [a, b, want] of cases) {
    const got = logGaussMass(a, b);
    assert.ok(Math.abs(got - want) < 1e-6 * Math.max(1, Math.abs(want)), `[${a}, ${b}]: ${got} vs ${want}`);
  }
});

test('candidates of int and stepped parameters are snapped to their grid before scoring; others are left alone', () => {
  const spec = makeSpec([int('n', 0, 9), double('d', 0, 1, { step: 0.25 }), double('c', 0, 1), int('b', 16, 512, { distribution: 'logUniform' })], 'tpe');
  const space = parameterSpace(unitCube(algorithmInput(spec).space));
  assert.deepEqual(space.kinds.map((k) => (k.kind === 'numeric' ? k.halfCell : undefined)), [0.05, 0.1, undefined, undefined]);
  const row = new Float64Array([0.123, 0.71, 0.333, 0.5]);
  for (let p = 0; p < 4; p++) space.snap(row, 0, p);
  assert.ok(Math.abs((row[0] as number) - 0.15) < 1e-12, 'n: 0.123 → the cell of 1, centred at 0.15');
  assert.ok(Math.abs((row[1] as number) - 0.7) < 1e-12, 'd: 0.71 → the cell of 0.75, centred at 0.7');
  assert.equal(row[2], 0.333);
  assert.deepEqual(space.decodeRow(row, 0), { n: 1, d: 0.75, c: 0.333, b: space.decodeRow(row, 0).b });
  assert.ok(Number.isInteger(space.decodeRow(row, 0).b));
  const b = row[3] as number;
  space.snap(row, 0, 3);
  assert.equal(row[3], b, 'snapping is idempotent');
});

test('Optuna weights: the 25 newest observations weigh 1, older ones ramp down', () => {
  assert.deepEqual([...observationWeights(3)], [1, 1, 1]);
  const w = observationWeights(30);
  assert.ok(Math.abs((w[0] as number) - 1 / 30) < 1e-12);
  assert.equal(w[4], 1);
  assert.ok((w[1] as number) < (w[2] as number) && (w[2] as number) < (w[3] as number));
  assert.deepEqual([...w.subarray(5)], new Array(25).fill(1));
});
