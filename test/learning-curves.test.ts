// The learning-curve problems of the early-stopping bench (bench/learning-curves.ts): the
// crossing simulator is deterministic, its curves cross, and the Python copy the Optuna side uses
// (bench/learning_curves.py) gives exactly the same values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashDoubles, MLP_LEARNING_RATES, MLP_LR_MAX, MLP_LR_MIN, mlpLrIndex, SIM_PARAMETERS, simTerms, simulatorCurve, STEPS } from '../bench/learning-curves.js';
import type { Assignment } from '../suggestion-algorithms/model.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { sampleAssignment } from '../suggestion-algorithms/space.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON_SIMULATOR = join(here, '..', '..', 'bench', 'learning_curves.py');

/** Learns fast (high learning rate and momentum) and plateaus low. */
const FAST: Assignment = { learning_rate: 0.71604089101, width: 0.786943165155, regularization: 0.0467494105948, momentum: 0.658240040545 };
/** Starts slowly and ends high. */
const SLOW: Assignment = { learning_rate: 0.0939007391058, width: 0.603785610477, regularization: 0.456157553289, momentum: 0.150511064081 };

const sample = (n: number, seed: number): Assignment[] => {
  const rng = new Rng(seed, 0);
  return Array.from({ length: n }, () => sampleAssignment({ parameters: SIM_PARAMETERS, direction: 'maximize' }, rng));
};

test('the simulator is deterministic: the same configuration gives the same curve, another a different one', () => {
  const a = simulatorCurve(FAST);
  assert.equal(a.length, STEPS);
  assert.deepEqual(simulatorCurve({ ...FAST }), a);
  assert.notDeepEqual(simulatorCurve(SLOW), a);
  // The noise is a function of the configuration: a change in the 12th digit gives other noise.
  const nudged = simulatorCurve({ ...FAST, width: (FAST['width'] as number) + 1e-12 });
  assert.notDeepEqual(nudged, a);
  assert.ok(nudged.every((v, i) => Math.abs(v - a[i]!) < 0.05));
  assert.notEqual(hashDoubles([0.5], 1), hashDoubles([0.5], 2));
  for (const c of sample(200, 3)) {
    for (const v of simulatorCurve(c)) {
      assert.ok(v >= 0 && v <= 1, `value ${v} outside [0, 1]`);
      assert.equal(Math.round(v * 1e6) / 1e6, v, 'values are rounded to 6 decimals');
    }
  }
});

test('the simulator\'s curves cross: a fast starter leads early and a slow starter leads at the end', () => {
  const fast = simulatorCurve(FAST);
  const slow = simulatorCurve(SLOW);
  for (const step of [1, 3, 9]) assert.ok(fast[step - 1]! > slow[step - 1]!, `fast leads at step ${step}: ${fast[step - 1]} vs ${slow[step - 1]}`);
  assert.ok(slow[STEPS - 1]! > fast[STEPS - 1]! + 0.1, `slow leads at the end: ${slow[STEPS - 1]} vs ${fast[STEPS - 1]}`);
  assert.ok(simTerms(FAST).tau < simTerms(SLOW).tau && simTerms(FAST).asymptote < simTerms(SLOW).asymptote);

  // Not just one pair: over a sample, the order at step 3 often disagrees with the final order,
  // and the configuration that leads at step 3 is not the one that ends best.
  const curves = sample(300, 5).map(simulatorCurve);
  let pairs = 0;
  let crossed = 0;
  for (let i = 0; i < curves.length; i++) {
    for (let j = i + 1; j < curves.length; j++) {
      const early = curves[i]![2]! - curves[j]![2]!;
      const late = curves[i]![STEPS - 1]! - curves[j]![STEPS - 1]!;
      pairs += 1;
      if (early * late < 0) crossed += 1;
    }
  }
  assert.ok(crossed / pairs > 0.15, `${((100 * crossed) / pairs).toFixed(1)}% of pairs cross between step 3 and the end`);
  const leaderEarly = curves.reduce((a, b) => (b[2]! > a[2]! ? b : a));
  const leaderLate = curves.reduce((a, b) => (b[STEPS - 1]! > a[STEPS - 1]! ? b : a));
  assert.notEqual(leaderEarly, leaderLate);
});

test('the TS and Python simulators give identical values, and snap learning rates onto the same MLP grid', (t) => {
  const configs = [FAST, SLOW, ...sample(6, 11), { learning_rate: 1e-4, width: 0, regularization: 0, momentum: 0 }, { learning_rate: 1, width: 1, regularization: 1, momentum: 1 }];
  const rates = [MLP_LR_MIN, MLP_LR_MAX, ...MLP_LEARNING_RATES, ...Array.from({ length: 40 }, (_, i) => MLP_LR_MIN * (MLP_LR_MAX / MLP_LR_MIN) ** (i / 39))];
  const run = spawnSync('python3', [PYTHON_SIMULATOR], { input: JSON.stringify({ crossing: configs, mlp_lr: rates }), encoding: 'utf8' });
  if (run.error) {
    t.skip(`python3 not runnable: ${run.error.message}`);
    return;
  }
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { crossing: number[][]; mlp_lr: number[] };
  assert.equal(out.crossing.length, configs.length);
  configs.forEach((c, i) => assert.deepEqual(out.crossing[i], simulatorCurve(c), `config ${JSON.stringify(c)}`));
  assert.deepEqual(out.mlp_lr, rates.map(mlpLrIndex));
  assert.deepEqual(MLP_LEARNING_RATES.map(mlpLrIndex), MLP_LEARNING_RATES.map((_, k) => k));
});
