// The curve fits behind the `curvefit` policy: where a saturating curve is heading, and how wide
// the bound is (suggestion-algorithms/early-stopping/saturation.ts).
import assert from 'node:assert/strict';
import test from 'node:test';
import { MAX_FIT_REPORTS, MIN_REPORTS, saturationBound, studentQuantile } from '../suggestion-algorithms/early-stopping/saturation.js';

const steps = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
/** A fixed pseudo-random ±amplitude sequence (no Math.random: the test is deterministic). */
const noise = (n: number, amplitude: number) => steps(n).map((t) => amplitude * Math.sin(t * 12.9898 + 78.233) * 0.999);

test('studentQuantile: the Cornish–Fisher expansion matches the t tables', () => {
  // Table values (one-sided quantiles): t(0.975; 3) = 3.182, t(0.975; 10) = 2.228, t(0.99; 4) = 3.747, t(0.95; 3) = 2.353.
  for (const [z, dof, exact] of [[1.96, 3, 3.182], [1.96, 10, 2.228], [2.326, 4, 3.747], [1.645, 3, 2.353], [2.576, 3, 5.841]] as const) {
    assert.ok(Math.abs(studentQuantile(z, dof) / exact - 1) < 0.01, `z ${z}, ν ${dof}: ${studentQuantile(z, dof)} against ${exact}`);
  }
  assert.ok(Math.abs(studentQuantile(2, 1e6) - 2) < 1e-5, 'many degrees of freedom: the normal quantile');
});

test('an exact exponential curve: the bound is its value at the horizon, tightly', () => {
  const f = (t: number) => 0.9 - 0.5 * Math.exp(-t / 10);
  const b = saturationBound(steps(15), steps(15).map(f), 81, 2)!;
  assert.equal(b.fit.family, 'exponential');
  assert.ok(b.upper >= f(81) - 0.005 && b.upper < f(81) + 0.02, `bound ${b.upper}, truth ${f(81)}`);
});

test('an exact power-law curve: the bound follows it, not an exponential plateau', () => {
  const f = (t: number) => 0.9 - 0.5 * t ** -0.5;
  const b = saturationBound(steps(15), steps(15).map(f), 81, 2)!;
  assert.ok(b.upper >= f(81) - 0.005 && b.upper < f(81) + 0.03, `bound ${b.upper}, truth ${f(81)}`);
  // An exponential fitted to the same reports alone would level off near its last values.
  assert.ok(b.upper > f(15) + 0.05);
});

test('a straight line is extrapolated (nearly) linearly: a slow starter keeps a high bound', () => {
  const y = steps(8).map((t) => 0.3 + 0.01 * t);
  const b = saturationBound(steps(8), y, 81, 2)!;
  assert.ok(b.upper > 0.3 + 0.01 * 81 - 0.05, `bound ${b.upper}`);
});

test('noise widens the bound; margin 0 is the best fit alone', () => {
  const f = (t: number) => 0.8 - 0.4 * Math.exp(-t / 3);
  const clean = steps(10).map(f);
  const noisy = clean.map((v, i) => v + noise(10, 0.02)[i]!);
  const tight = saturationBound(steps(10), clean, 40, 2)!.upper;
  const wide = saturationBound(steps(10), noisy, 40, 2)!.upper;
  const bare = saturationBound(steps(10), noisy, 40, 0)!;
  assert.ok(wide > tight + 0.02, `noisy ${wide} against clean ${tight}`);
  assert.ok(bare.upper < wide && Math.abs(bare.upper - bare.fit.predicted) < 1e-12);
});

test('the bound is for a report, not for the mean: at its last step a noisy plateau clears its fit by more than t·σ', () => {
  const y = [1, -1, 0.5, -0.8, 0.9, -0.3, 0.7, -1, 0.2, -0.6, 1, -0.4].map((p) => 0.77 + 0.012 * p);
  // The horizon at the last report: no extrapolation, so the mean's own interval would be narrow (about 0.5 t·σ here).
  const b = saturationBound(steps(12), y, 12, 2)!;
  const t = studentQuantile(2, 12 - 3);
  assert.ok(b.upper - b.fit.predicted > t * b.sigma, `bound ${b.upper}, fit ${b.fit.predicted}, t·σ ${t * b.sigma}`);
  // It covers every report the curve made: the best of them is what a bar made of reports compares with.
  assert.ok(b.upper > Math.max(...y), `bound ${b.upper}, best report ${Math.max(...y)}`);
});

test('fewer than MIN_REPORTS reports, or all at one step: no bound', () => {
  assert.equal(saturationBound(steps(MIN_REPORTS - 1), steps(MIN_REPORTS - 1).map((t) => t / 10), 81, 2), undefined);
  assert.equal(saturationBound([3, 3, 3, 3, 3, 3], [0.1, 0.2, 0.3, 0.1, 0.2, 0.3], 81, 2), undefined);
  assert.ok(saturationBound(steps(MIN_REPORTS), steps(MIN_REPORTS).map((t) => t / 10), 81, 2));
});

test('steps from 0: the power family is left out, the exponential one still fits', () => {
  const y = [0, 1, 2, 3, 4, 5, 6].map((t) => 0.9 - 0.5 * Math.exp(-t / 4));
  const b = saturationBound([0, 1, 2, 3, 4, 5, 6], y, 40, 2)!;
  assert.equal(b.fit.family, 'exponential');
  assert.ok(Number.isFinite(b.upper) && Math.abs(b.upper - 0.9) < 0.02, `bound ${b.upper}`);
});

test('a long curve is thinned to MAX_FIT_REPORTS reports, its last one kept: same verdict, bounded cost', () => {
  const n = 10_000;
  const s = Array.from({ length: n }, (_, i) => i + 1);
  const y = s.map((t) => 0.9 - 0.5 * Math.exp(-t / 1500));
  const started = performance.now();
  const b = saturationBound(s, y, 20_000, 2)!;
  assert.ok(performance.now() - started < 200, 'one bound on 10,000 reports is cheap');
  assert.ok(Math.abs(b.upper - (0.9 - 0.5 * Math.exp(-20_000 / 1500))) < 0.02, `bound ${b.upper}`);
  assert.ok(MAX_FIT_REPORTS < n);
});
