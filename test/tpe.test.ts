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
import type { SuggestionAlgorithm } from '../suggestion-algorithms/types.js';
import { observationWeights } from '../suggestion-algorithms/tpe/observations.js';
import { ParzenEstimator } from '../suggestion-algorithms/tpe/parzen.js';
import { Rng } from '../suggestion-algorithms/rng.js';

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

const double = (name: string, min: number, max: number, extra: Partial<ParameterSpec> = {}): ParameterSpec =>
  ({ name, parameterType: 'double', min, max, distribution: 'uniform', ...extra }) as ParameterSpec;
const int = (name: string, min: number, max: number, extra: Partial<ParameterSpec> = {}): ParameterSpec =>
  ({ name, parameterType: 'int', min, max, distribution: 'uniform', ...extra }) as ParameterSpec;

function algorithm(name: string): SuggestionAlgorithm {
  const a = getAlgorithm(name);
  assert.ok(a, `${name} is registered`);
  return a;
}

/** Runs a sequential study, one suggestion per call, and returns every trial. */
function runStudy(spec: StudySpec, objective: (a: Assignment) => number, budget: number, seed = 1): TrialView[] {
  const alg = algorithm(spec.algorithm.algorithmName);
  alg.validate(spec);
  const trials: TrialView[] = [];
  while (trials.length < budget) {
    const { assignments } = alg.suggest({ spec, trials, count: 1, seed });
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
    const first = algorithm(name).suggest({ spec, trials, count: 3, seed: 1 });
    const again = algorithm(name).suggest({ spec, trials, count: 3, seed: 999 }); // random_state wins over seed
    assert.deepEqual(again.assignments, first.assignments);
    const other = algorithm(name).suggest({ spec: makeSpec(braninSpace(), name, { random_state: '43' }), trials, count: 3, seed: 1 });
    assert.notDeepEqual(other.assignments, first.assignments);
  }
});

test('startup trials are the random algorithm’s draws, then the model takes over', () => {
  for (const name of VARIANTS) {
    const spec = makeSpec(braninSpace(), name, { random_state: '5', n_startup_trials: '4' });
    const randomSpec = makeSpec(braninSpace(), 'random', { random_state: '5' });
    const startup = algorithm(name).suggest({ spec, trials: [], count: 4, seed: 0 }).assignments;
    assert.deepEqual(startup, algorithm('random').suggest({ spec: randomSpec, trials: [], count: 4, seed: 0 }).assignments);
    const trials = completedBranin(spec, 4);
    const modelled = algorithm(name).suggest({ spec, trials, count: 1, seed: 0 }).assignments;
    assert.notDeepEqual(modelled, algorithm('random').suggest({ spec: randomSpec, trials, count: 1, seed: 0 }).assignments);
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
        () => algorithm(name).validate(makeSpec(braninSpace(), name, settings)),
        (e: unknown) => e instanceof SpecError && e.field === `spec.algorithm.algorithmSettings[${field}]`,
        `${name} ${JSON.stringify(settings)}`,
      );
    }
    // Every documented setting, including Katib's hyperopt spelling, is accepted.
    algorithm(name).validate(
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
    const cube = unitCube(spec);
    const done = completedBranin(spec, 30);
    // Trials that failed count for the trial index (hence the random stream) but teach nothing:
    // they give the proposal a trial would get if nothing were pending.
    const failedAt = (assignment: Assignment, n: number): TrialView[] =>
      Array.from({ length: n }, (_, i) => ({ name: `f${i}`, state: 'FAILED', assignment }));
    const somewhere = { x: 0, y: 0 };
    const [free] = algorithm(name).suggest({ spec, trials: [...done, ...failedAt(somewhere, 3)], count: 1, seed: 1 }).assignments;
    assert.ok(free);
    // Constant liar: the same trial with three trials RUNNING exactly there goes elsewhere.
    const running: TrialView[] = failedAt(free, 3).map((t) => ({ ...t, state: 'RUNNING' }));
    const [dodged] = algorithm(name).suggest({ spec, trials: [...done, ...running], count: 1, seed: 1 }).assignments;
    assert.notDeepEqual(dodged, free, `${name}: a pending point repels the next proposal`);

    // Within a batch, earlier proposals are pending for the later ones: the batch differs from
    // what independent single asks (same streams, nothing pending) would propose.
    const base = [...done, ...failedAt(somewhere, 3)];
    const { assignments } = algorithm(name).suggest({ spec, trials: base, count: 8, seed: 1 });
    assert.equal(assignments.length, 8);
    const independent = assignments.map((_, i) => algorithm(name).suggest({ spec, trials: [...base, ...failedAt(somewhere, i)], count: 1, seed: 1 }).assignments[0]);
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
    const last = algorithm(name).suggest({ spec, trials, count: 1, seed: 1 });
    assert.equal(last.exhausted, true);
    const keys = new Set([...trials.map((t) => t.assignment), ...last.assignments].map((a) => assignmentKey(spec, a)));
    assert.equal(keys.size, 9, `${name}: 9 distinct points`);
    // A batch in a partly used space: distinct and new.
    const batch = algorithm(name).suggest({ spec, trials: trials.slice(0, 3), count: 6, seed: 1 });
    const batchKeys = new Set([...trials.slice(0, 3).map((t) => t.assignment), ...batch.assignments].map((a) => assignmentKey(spec, a)));
    assert.equal(batchKeys.size, 9);
    assert.equal(batch.exhausted, true);
  }
});

test('the Parzen estimator is a normalised density and samples follow it', () => {
  const kinds = [{ kind: 'numeric' as const }, { kind: 'categorical' as const, size: 3 }];
  const group = { rows: new Float64Array([0.1, 0, 0.15, 2, 0.9, 1, 0.02, 0]), n: 4, weights: observationWeights(4) };
  for (const bandwidth of ['neighbours', 'scott'] as const) {
    const parzen = new ParzenEstimator(kinds, [0, 1], group, { priorWeight: 1, bandwidth });
    const steps = 4000;
    const grid = new Float64Array(3 * steps * 2);
    for (let c = 0; c < 3; c++) for (let j = 0; j < steps; j++) grid.set([(j + 0.5) / steps, c], (c * steps + j) * 2);
    const logDensity = new Float64Array(3 * steps);
    parzen.logPdf(grid, 3 * steps, logDensity);
    const mass = (from: number, to: number, below = 1) => {
      let m = 0;
      for (let i = from; i < to; i++) if ((grid[i * 2] as number) < below) m += Math.exp(logDensity[i] as number) / steps;
      return m;
    };
    assert.ok(Math.abs(mass(0, 3 * steps) - 1) < 1e-4, `${bandwidth}: integrates to 1`);
    const rng = new Rng(1);
    const draw = new Float64Array(2);
    const draws = 20000;
    let choice0 = 0;
    let low = 0;
    for (let i = 0; i < draws; i++) {
      parzen.sample(rng, draw, 0);
      if (draw[1] === 0) choice0 += 1;
      if ((draw[0] as number) < 0.2) low += 1;
    }
    assert.ok(Math.abs(choice0 / draws - mass(0, steps)) < 0.015, `${bandwidth}: categorical frequency matches`);
    assert.ok(Math.abs(low / draws - mass(0, 3 * steps, 0.2)) < 0.015, `${bandwidth}: numeric frequency matches`);
  }
});

test('Optuna weights: the 25 newest observations weigh 1, older ones ramp down', () => {
  assert.deepEqual([...observationWeights(3)], [1, 1, 1]);
  const w = observationWeights(30);
  assert.ok(Math.abs((w[0] as number) - 1 / 30) < 1e-12);
  assert.equal(w[4], 1);
  assert.ok((w[1] as number) < (w[2] as number) && (w[2] as number) < (w[3] as number));
  assert.deepEqual([...w.subarray(5)], new Array(25).fill(1));
});
