// The learning-curve problems of the early-stopping bench (bench/learning-curves.ts): the
// crossing simulator is deterministic, its curves cross, and the Python copy the Optuna side uses
// (bench/learning_curves.py) gives exactly the same values. And the bench's accounting
// (bench/early-stopping-accounting.ts) on hand-made traces, and its studies on a budget of steps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bestFullWithin, clairvoyantStepsTo, firstReaching, lowerMedian, totalSteps, type TraceTrial } from '../bench/early-stopping-accounting.js';
import { runTpeStudy } from '../bench/early-stopping-sibyl.js';
import { crossingProblem, hashDoubles, MLP_LEARNING_RATES, MLP_LR_MAX, MLP_LR_MIN, mlpLrIndex, SIM_PARAMETERS, simTerms, simulatorCurve, STEPS } from '../bench/learning-curves.js';
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

test('the TS and Python simulators give identical values, and snap learning rates onto the same MLP grid', () => {
  const configs = [FAST, SLOW, ...sample(6, 11), { learning_rate: 1e-4, width: 0, regularization: 0, momentum: 0 }, { learning_rate: 1, width: 1, regularization: 1, momentum: 1 }];
  const rates = [MLP_LR_MIN, MLP_LR_MAX, ...MLP_LEARNING_RATES, ...Array.from({ length: 40 }, (_, i) => MLP_LR_MIN * (MLP_LR_MAX / MLP_LR_MIN) ** (i / 39))];
  const run = spawnSync('python3', [PYTHON_SIMULATOR], { input: JSON.stringify({ crossing: configs, mlp_lr: rates }), encoding: 'utf8' });
  assert.equal(run.error, undefined, `python3 is needed to check the Optuna side's simulator: ${run.error?.message}`);
  assert.equal(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout) as { crossing: number[][]; mlp_lr: number[] };
  assert.equal(out.crossing.length, configs.length);
  configs.forEach((c, i) => assert.deepEqual(out.crossing[i], simulatorCurve(c), `config ${JSON.stringify(c)}`));
  assert.deepEqual(out.mlp_lr, rates.map(mlpLrIndex));
  assert.deepEqual(MLP_LEARNING_RATES.map(mlpLrIndex), MLP_LEARNING_RATES.map((_, k) => k));
});

/** A hand-made trace: cost in steps, whether the trial ran its whole curve, its value. */
const trace = (...trials: [number, boolean, number][]): TraceTrial[] => trials.map(([steps, full, value]) => ({ steps, full, value }));

test('equal-compute accounting: steps to a quality count every trial up to the full one that reached it', () => {
  // A stopped trial with a high value does not count (its model is not trained); a full one counts once paid for.
  const t = trace([81, true, 0.7], [3, false, 0.95], [9, false, 0.8], [81, true, 0.9], [1, false, 0.5], [81, true, 0.92]);
  assert.equal(totalSteps(t), 256);
  assert.deepEqual(firstReaching(t, 0.9), { steps: 174, trials: 4 });
  assert.deepEqual(firstReaching(t, 0.91), { steps: 256, trials: 6 });
  assert.deepEqual(firstReaching(t, 0.7), { steps: 81, trials: 1 });
  assert.equal(firstReaching(t, 0.93), null, 'only the stopped trial got there');
  // Anytime best: nothing before the first full trial ends; the 4th trial's value from step 174 on.
  assert.ok(Number.isNaN(bestFullWithin(t, 80)));
  assert.equal(bestFullWithin(t, 81), 0.7);
  assert.equal(bestFullWithin(t, 173), 0.7);
  assert.equal(bestFullWithin(t, 174), 0.9);
  assert.equal(bestFullWithin(t, 10_000), 0.92);
  // The quality no stopping ends with: a value at least half of the seeds reach; no full trial is the worst.
  assert.equal(lowerMedian([0.9, 0.8, 0.95, 0.85]), 0.85);
  assert.equal(lowerMedian([0.9, 0.8, 0.95]), 0.9);
  assert.equal(lowerMedian([NaN, 0.99, 0.99, 0.98]), 0.98);
});

test('clairvoyant floor: each new best runs whole, every other trial costs stopCost steps, until a trial reaches the quality', () => {
  // No stopping's trace: values 0.5 (new best), 0.4, 0.6 (new best), 0.55, 0.9 (reaches 0.85).
  const t = trace([81, true, 0.5], [81, true, 0.4], [81, true, 0.6], [81, true, 0.55], [81, true, 0.9], [81, true, 0.95]);
  assert.equal(clairvoyantStepsTo(t, 0.85, 1), 81 + 1 + 81 + 1 + 81);
  assert.equal(clairvoyantStepsTo(t, 0.85, 6), 81 + 6 + 81 + 6 + 81);
  assert.equal(clairvoyantStepsTo(t, 0.5, 1), 81, 'the first trial reaches it');
  assert.equal(clairvoyantStepsTo(t, 0.99, 1), null);
  // A trial shorter than stopCost (it diverged) costs what it ran.
  assert.equal(clairvoyantStepsTo(trace([81, true, 0.5], [2, true, 0.1], [81, true, 0.9]), 0.8, 6), 81 + 2 + 81);
});

test('a bench study on a budget spends exactly it, and its first trials are the study of that trial count', () => {
  const small = runTpeStudy(crossingProblem, 'asha', 7, 6 * STEPS);
  const large = runTpeStudy(crossingProblem, 'asha', 7, 12 * STEPS);
  assert.equal(totalSteps(small), 6 * STEPS);
  assert.equal(totalSteps(large), 12 * STEPS);
  assert.ok(large.length > 12, `asha runs more trials than the budget's full ones (${large.length})`);
  // Sequential studies do not depend on their length: the smaller budget is the larger one's beginning,
  // up to its last trial, which the budget cut.
  assert.deepEqual(small.slice(0, -1), large.slice(0, small.length - 1));
  const last = small.at(-1)!;
  const same = large[small.length - 1]!;
  assert.ok(last.steps <= same.steps, 'the budget can only shorten the last trial');
  if (last.full || last.stopped) assert.deepEqual(last, same, 'a last trial the budget did not cut is the same trial');
  assert.ok(large.every((r) => r.steps <= STEPS && (r.full || r.stopped || r === large.at(-1))), 'only the last trial may be cut by the budget');
});
