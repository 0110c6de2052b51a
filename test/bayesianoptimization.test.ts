import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ParameterSpec, StudySpec } from '../src/spec/types.js';
import type { Assignment, TrialView } from '../src/model/trial.js';
import { branin, hartmann6 } from '../bench/functions.js';
import { benchmarkStudy, median, simulate } from '../bench/simulate.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { unitCube } from '../suggestion-algorithms/transform.js';
import { conditionGp, negativeLogPosterior, predict } from '../suggestion-algorithms/bayesianoptimization/gp.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';
import {
  erfcx,
  logExpectedImprovement,
  logH,
  logNormalCdf,
  logNormalPdf,
  logProbabilityOfImprovement,
} from '../suggestion-algorithms/bayesianoptimization/acquisition.js';
import { throwsSpecError } from './support/spec-errors.js';

const NAME = 'bayesianoptimization';
const bo = () => {
  const a = getAlgorithm(NAME);
  assert.ok(a, 'bayesianoptimization is registered');
  return a;
};

function spec(parameters: ParameterSpec[], settings: Record<string, string> = {}): StudySpec {
  return {
    name: 'bo-test',
    namespace: 'default',
    parameters,
    objective: { type: 'minimize', objectiveMetricName: 'loss', additionalMetricNames: [], metricStrategies: [{ name: 'loss', value: 'min' }] },
    algorithm: { algorithmName: NAME, algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })) },
    parallelTrialCount: 4,
    trialTemplate: { trialParameters: [], retain: false },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

/** n completed hartmann6 trials at random points of its benchmark study. */
function hartmannTrials(n: number, seed = 11): TrialView[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const x = Array.from({ length: 6 }, () => rng.next());
    return { name: `t${i}`, state: 'SUCCEEDED', assignment: Object.fromEntries(x.map((v, j) => [`x${j}`, v])), objectiveValue: hartmann6.f(x) };
  });
}

const distance = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.hypot(...Array.from(a, (v, i) => v - (b[i] as number)));

// ---------------------------------------------------------------- GP by hand

test('GP posterior mean and variance match a hand computation (1-D, two points)', () => {
  // Matérn-5/2: k(r) = s²(1 + √5 r + 5r²/3) e^{−√5 r}, r = |x − x'|/ℓ. Take ℓ = 0.5, s² = 1,
  // noise 0.01, training x = (0, 0.5), y = (1, 2).
  //   r(0, 0.5) = 1:  k(1) = (1 + 2.2360679775 + 1.6666666667)·e^{−2.2360679775}
  //                        = 4.9027346442 · 0.1068779257 = 0.5239941088318203
  //   K = [[1.01, k1], [k1, 1.01]],  det = 1.01² − k1² = 0.7455301739095465
  //   K⁻¹ = [[1.01, −k1], [−k1, 1.01]] / det = [[1.3547406065452436, −0.702847620618767], [·, ·]]
  //   α = K⁻¹y = (1.3547406065·1 − 0.7028476206·2, −0.7028476206·1 + 1.3547406065·2)
  //     = (−0.050954634692290446, 2.0066335924717205)
  // Test point x* = 0.25: r = 0.5 to both, k(0.5) = (1 + 1.1180339887 + 0.4166666667)·e^{−1.1180339887}
  //   = 0.8286491424181253, so k* = (kh, kh):
  //   mean = kh(α₁ + α₂) = 0.8286491424 · 1.9556789578 = 1.6205716912090977
  //   var  = 1 − k*ᵀK⁻¹k* = 1 − kh²(2·1.3547406065 − 2·0.7028476206) = 0.10474310523499375
  // Test point x* = 0.1: r = 0.2 and 0.8, k* = (0.9679861199640714, 0.64445632646425):
  //   mean = 0.9679861200·(−0.0509546347) + 0.6444563265·2.0066335925 = 1.243864334434109
  //   var  = 1 − k*ᵀK⁻¹k* = 0.04486323596511621
  const gp = conditionGp([[0], [0.5]], [1, 2], { lengthscales: Float64Array.of(0.5), signal: 1, noise: 0.01 });
  assert.ok(Math.abs((gp.alpha[0] as number) - -0.050954634692290446) < 1e-9);
  assert.ok(Math.abs((gp.alpha[1] as number) - 2.0066335924717205) < 1e-9);
  const p = predict(gp, [[0.25], [0.1]]);
  assert.ok(Math.abs((p.mean[0] as number) - 1.6205716912090977) < 1e-9, `mean ${p.mean[0]}`);
  assert.ok(Math.abs((p.variance[0] as number) - 0.10474310523499375) < 1e-9, `var ${p.variance[0]}`);
  assert.ok(Math.abs((p.mean[1] as number) - 1.243864334434109) < 1e-9, `mean ${p.mean[1]}`);
  assert.ok(Math.abs((p.variance[1] as number) - 0.04486323596511621) < 1e-9, `var ${p.variance[1]}`);
});

test('analytic gradient of the negative log posterior matches finite differences', () => {
  const rng = new Rng(3);
  const x = Array.from({ length: 15 }, () => Float64Array.from({ length: 3 }, () => rng.next()));
  const y = Float64Array.from(x, (p) => Math.sin(5 * (p[0] as number)) + (p[1] as number) ** 2 + 0.1 * rng.normal());
  const theta = Float64Array.from([0.3, 0.7, 2, 1.3, 0.01].map(Math.log));
  const { gradient } = negativeLogPosterior(x, y, theta);
  for (let j = 0; j < theta.length; j++) {
    const up = Float64Array.from(theta);
    const down = Float64Array.from(theta);
    up[j] = (up[j] as number) + 1e-6;
    down[j] = (down[j] as number) - 1e-6;
    const numeric = (negativeLogPosterior(x, y, up, false).value - negativeLogPosterior(x, y, down, false).value) / 2e-6;
    assert.ok(Math.abs(numeric - (gradient[j] as number)) < 1e-5 * (1 + Math.abs(numeric)), `θ${j}: ${gradient[j]} vs ${numeric}`);
  }
});

// ---------------------------------------------------------------- acquisitions

test('erfcx matches reference values across its two branches', () => {
  // exp(x²)·erfc(x) to 30 digits (mpmath).
  const reference: [number, number][] = [
    [0.5, 0.615690344192925874870793422684],
    [1.9, 0.266509373661672716762389754254],
    [2, 0.255395676310505743865088580909],
    [3, 0.179001151181389950419294815314],
    [10, 0.0561409927438225858575173872205],
  ];
  for (const [x, ref] of reference) assert.ok(Math.abs(erfcx(x) - ref) / ref < 1e-13, `erfcx(${x}) = ${erfcx(x)}`);
});

test('EI and log EI match the closed form σ(zΦ(z) + φ(z))', () => {
  // σ = 1, incumbent 0. mean = 1 → z = −1: φ(−1) − Φ(−1) = 0.24197072451914337 − 0.15865525393145707;
  // mean = 0 → z = 0: φ(0) = 1/√(2π); mean = −1 → z = 1: φ(1) + Φ(1) = 0.24197072451914337 + 0.8413447460685429.
  const cases: [number, number][] = [
    [1, 0.08331547058768629],
    [0, 0.3989422804014327],
    [-1, 1.0833154705876864],
  ];
  for (const [mean, ei] of cases) {
    const logEi = logExpectedImprovement(mean, 1, 0);
    assert.ok(Math.abs(Math.exp(logEi) - ei) < 1e-12, `EI(mean ${mean}) = ${Math.exp(logEi)}`);
  }
  // σ scales EI linearly: σ = 2, mean = 2 (z = −1) → 2·0.0833154705876863.
  assert.ok(Math.abs(Math.exp(logExpectedImprovement(2, 2, 0)) - 2 * 0.08331547058768629) < 1e-12);
  // PI = Φ(z).
  assert.ok(Math.abs(Math.exp(logProbabilityOfImprovement(1, 1, 0)) - 0.15865525393145707) < 1e-12);
});

test('log EI and log PI stay finite and accurate far in the tail', () => {
  // h(z) = φ(z)·(1/z² − 3/z⁴ + 15/z⁶ − …) for z → −∞. The leading term log φ(z) − 2 log|z|
  // is within 1e-3 relative at z = −40 (it differs by log(1 − 3/1600 + …) ≈ −0.00188 in
  // absolute terms, exactly the next correction), and with the correction within 1e-6.
  const z = -40;
  const leading = logNormalPdf(z) - 2 * Math.log(40);
  const corrected = leading + Math.log(1 - 3 / 1600 + 15 / 1600 ** 2);
  const value = logH(z);
  assert.ok(Number.isFinite(value));
  assert.ok(Math.abs(value - leading) / Math.abs(leading) < 1e-3, `logH(−40) = ${value}, leading ${leading}`);
  assert.ok(Math.abs(value - corrected) < 1e-6, `logH(−40) = ${value}, corrected ${corrected}`);
  // Through the public form: mean 40 above the incumbent with σ = 1 (EI itself would underflow: e^{−808}).
  assert.equal(Math.exp(logExpectedImprovement(40, 1, 0)), 0);
  assert.ok(Math.abs(logExpectedImprovement(40, 1, 0) - corrected) < 1e-6);
  // Very far: the asymptotic branch.
  for (const far of [-1e3, -1e5, -1e8]) assert.ok(Number.isFinite(logH(far)) && logH(far) < logH(far / 2));
  // No jump across the branch points (−1 and −1e4).
  for (const at of [-1, -1e4]) {
    const below = logH(at * (1 + 1e-9));
    const above = logH(at * (1 - 1e-9));
    assert.ok(Math.abs(below - above) < 1e-6 * Math.max(1, Math.abs(above)), `jump at ${at}: ${below} vs ${above}`);
  }
  // log Φ(−40) = log φ(40) − log 40 + log(1 − 1/1600 + 3/1600² …).
  const logPi = logProbabilityOfImprovement(40, 1, 0);
  assert.ok(Number.isFinite(logPi));
  assert.ok(Math.abs(logPi - (logNormalPdf(40) - Math.log(40) + Math.log(1 - 1 / 1600 + 3 / 1600 ** 2))) < 1e-6);
  assert.ok(Math.abs(logNormalCdf(0) - Math.log(0.5)) < 1e-15);
});

// ---------------------------------------------------------------- the algorithm

test('beats random search on Branin at 30 trials (median over seeds 1..5)', () => {
  const finals = (algorithm: string) => [1, 2, 3, 4, 5].map((seed) => simulate({ fn: branin, algorithm, budget: 30, seed }).regret[29] as number);
  const boMedian = median(finals(NAME));
  const randomMedian = median(finals('random'));
  assert.ok(boMedian < randomMedian, `bayesianoptimization ${boMedian} vs random ${randomMedian}`);
  // Random's median there is about 1.48; a working GP should be far below.
  assert.ok(boMedian < 0.2, `bayesianoptimization median regret ${boMedian}`);
});

test('is deterministic for the same random_state and history, and depends on the random_state', () => {
  const trials = hartmannTrials(14);
  const run = (randomState: string) =>
    bo().suggest({ ...algorithmInput(benchmarkStudy(hartmann6, NAME, { random_state: randomState })), trials, count: 2, seed: 99 }).assignments;
  assert.deepEqual(run('5'), run('5'));
  assert.notDeepEqual(run('5'), run('6'));
  // The seed is used when random_state is absent.
  const bySeed = (seed: number) => bo().suggest({ ...algorithmInput(benchmarkStudy(hartmann6, NAME)), trials, count: 1, seed }).assignments;
  assert.deepEqual(bySeed(3), bySeed(3));
});

test('a batch with pending trials is spread out: no repeats, no pile-up', () => {
  const s = benchmarkStudy(hartmann6, NAME, { random_state: '1', acq_func: 'EI' });
  const cube = unitCube(algorithmInput(s).space);
  const done = hartmannTrials(16);
  const pending: TrialView[] = [0.2, 0.8].map((v, i) => ({ name: `p${i}`, state: 'RUNNING', assignment: Object.fromEntries([0, 1, 2, 3, 4, 5].map((j) => [`x${j}`, v])) }));
  for (const acq of ['EI', 'LCB', 'gp_hedge']) {
    const spec4 = benchmarkStudy(hartmann6, NAME, { random_state: '1', acq_func: acq });
    const { assignments } = bo().suggest({ ...algorithmInput(spec4), trials: [...done, ...pending], count: 4, seed: 1 });
    assert.equal(assignments.length, 4);
    const points = assignments.map((a) => cube.encode(a) as Float64Array);
    let widest = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < i; j++) {
        const dist = distance(points[i] as Float64Array, points[j] as Float64Array);
        assert.ok(dist > 1e-3, `${acq}: points ${i} and ${j} coincide`);
        widest = Math.max(widest, dist);
      }
      for (const p of pending) assert.ok(distance(points[i] as Float64Array, cube.encode(p.assignment) as Float64Array) > 1e-3, `${acq}: repeats a pending trial`);
    }
    assert.ok(widest > 0.01, `${acq}: batch piled onto one spot (widest gap ${widest})`);
  }
  // The initial design continues across pending trials too: 4 points from an empty history are distinct.
  const initial = bo().suggest({ ...algorithmInput(s), trials: pending, count: 4, seed: 1 }).assignments;
  assert.equal(new Set(initial.map((a) => JSON.stringify(a))).size, 4);
});

test('gp_hedge carries its gains in the returned state and updates them next call', () => {
  const s = benchmarkStudy(hartmann6, NAME, { random_state: '2' });
  const trials = hartmannTrials(12);
  const first = bo().suggest({ ...algorithmInput(s), trials, count: 1, seed: 1 });
  assert.ok(first.state, 'state returned');
  assert.deepEqual(first.state['hedge_gains'], '0,0,0');
  const proposals = JSON.parse(first.state['hedge_proposals'] ?? '[]') as number[][];
  assert.equal(proposals.length, 3);
  assert.equal(first.state['gp_log_hyperparameters']?.split(',').length, 8);
  const next: TrialView = { name: 'next', state: 'SUCCEEDED', assignment: first.assignments[0] as Assignment, objectiveValue: -1 };
  const second = bo().suggest({ ...algorithmInput(s), trials: [...trials, next], count: 1, seed: 1, state: first.state });
  const gains = (second.state?.['hedge_gains'] ?? '').split(',').map(Number);
  assert.equal(gains.length, 3);
  assert.ok(gains.every(Number.isFinite) && gains.some((g) => g !== 0), `gains ${gains}`);
});

test('settings are validated with field-named errors', () => {
  const p: ParameterSpec[] = [{ name: 'x', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' }];
  const field = (name: string) => `spec.algorithm.algorithmSettings[${name}]`;
  throwsSpecError(() => validateAlgorithm(spec(p, { n_initial_points: '-1' })), field('n_initial_points'), /integer ≥ 0/);
  throwsSpecError(() => validateAlgorithm(spec(p, { acq_func: 'foo' })), field('acq_func'), /gp_hedge, EI, PI, LCB, UCB/);
  throwsSpecError(() => validateAlgorithm(spec(p, { acq_func: 'EIps' })), field('acq_func'), /not supported/);
  throwsSpecError(() => validateAlgorithm(spec(p, { base_estimator: 'RF' })), field('base_estimator'), /only GP is supported/);
  throwsSpecError(() => validateAlgorithm(spec(p, { acq_optimizer: 'x' })), field('acq_optimizer'), /auto, sampling, lbfgs/);
  throwsSpecError(() => validateAlgorithm(spec(p, { random_state: '-1' })), field('random_state'), /≥ 0/);
  throwsSpecError(() => validateAlgorithm(spec(p, { n_initial: '3' })), field('n_initial'), /unknown setting/);
  // Katib's spellings are accepted, case-insensitively where skopt is.
  const accepted: Record<string, string>[] = [{ acq_func: 'EI' }, { acq_func: 'lcb' }, { acq_func: 'UCB' }, { acq_func: 'PI' }, { acq_optimizer: 'sampling' }, { base_estimator: 'GP', n_initial_points: '3', random_state: '0' }];
  for (const settings of accepted) validateAlgorithm(spec(p, settings));
});

test('a mixed space (log double, int, categorical) yields valid assignments from the GP', () => {
  const parameters: ParameterSpec[] = [
    { name: 'lr', parameterType: 'double', min: 1e-5, max: 1e-1, distribution: 'logUniform' },
    { name: 'layers', parameterType: 'int', min: 1, max: 8, distribution: 'uniform' },
    { name: 'opt', parameterType: 'categorical', list: ['adam', 'sgd', 'rmsprop'] },
  ];
  const s = spec(parameters, { n_initial_points: '5', random_state: '3', acq_optimizer: 'lbfgs' });
  validateAlgorithm(s);
  // A loss that prefers lr ≈ 1e-3, 4 layers and adam.
  const loss = (a: Assignment) =>
    (Math.log10(a['lr'] as number) + 3) ** 2 + ((a['layers'] as number) - 4) ** 2 / 4 + (a['opt'] === 'adam' ? 0 : 1);
  const trials: TrialView[] = [];
  while (trials.length < 20) {
    const { assignments } = bo().suggest({ ...algorithmInput(s), trials, count: 2, seed: 1 });
    assert.equal(assignments.length, 2);
    for (const a of assignments) {
      const lr = a['lr'] as number;
      const layers = a['layers'] as number;
      assert.ok(lr >= 1e-5 && lr <= 1e-1, `lr ${lr}`);
      assert.ok(Number.isInteger(layers) && layers >= 1 && layers <= 8, `layers ${layers}`);
      assert.ok(['adam', 'sgd', 'rmsprop'].includes(a['opt'] as string), `opt ${a['opt']}`);
      trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment: a, objectiveValue: loss(a) });
    }
  }
  const best = Math.min(...trials.map((t) => t.objectiveValue as number));
  assert.ok(best < 1, `best loss ${best} after 20 trials`);
});

test('latency stays bounded with a long history (subset fitting)', () => {
  const s = benchmarkStudy(hartmann6, NAME, { random_state: '1' });
  const trials = hartmannTrials(600);
  const started = performance.now();
  const { assignments } = bo().suggest({ ...algorithmInput(s), trials, count: 1, seed: 1 });
  const elapsed = performance.now() - started;
  assert.equal(assignments.length, 1);
  // ~0.3 s of CPU when measured; generous for a loaded machine, but cubic growth on 600 points would blow it.
  assert.ok(elapsed < 5000, `suggest with 600 trials took ${elapsed.toFixed(0)} ms`);
});
