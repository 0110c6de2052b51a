// cmaes on mixed spaces: the local search a held (or non-incumbent) category gets (held.ts) and
// the polynomial model that pre-screens its candidates (surrogate.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bestSlot, heldPoint, localSearch } from '../suggestion-algorithms/cmaes/held.js';
import type { Slot } from '../suggestion-algorithms/cmaes/replay.js';
import { fitSurrogate } from '../suggestion-algorithms/cmaes/surrogate.js';
import { Rng } from '../suggestion-algorithms/rng.js';

const slot = (x: number[], loss: number, choices: number[] = [0], extra: Partial<Slot> = {}): Slot => ({ x: Float64Array.from(x), loss, choices, active: false, ...extra });

test('surrogate: too few points give no model; enough points recover a quadratic exactly', () => {
  assert.equal(fitSurrogate([Float64Array.from([0.1, 0.2]), Float64Array.from([0.3, 0.4])], [1, 2]), undefined);
  const f = (x: Float64Array) => 1 + 2 * (x[0] as number) - (x[1] as number) + 3 * (x[0] as number) ** 2 + 0.5 * (x[0] as number) * (x[1] as number) + (x[1] as number) ** 2;
  const rng = new Rng(4);
  const xs = Array.from({ length: 12 }, () => Float64Array.from([rng.next(), rng.next()]));
  const model = fitSurrogate(xs, xs.map(f));
  assert.ok(model);
  for (let i = 0; i < 20; i++) {
    const x = Float64Array.from([rng.next(), rng.next()]);
    assert.ok(Math.abs(model(x) - f(x)) < 1e-6, `${model(x)} vs ${f(x)}`);
  }
  // With 5 points (2-d) only the linear model is over-determined: it ranks along the slope.
  const linear = fitSurrogate(xs.slice(0, 5), xs.slice(0, 5).map((x) => 3 * (x[0] as number) - (x[1] as number)));
  assert.ok(linear);
  assert.ok(linear(Float64Array.from([0, 1])) < linear(Float64Array.from([1, 0])));
});

test('local search: the best trial is the parent; near successes grow σ, near failures shrink it, far trials leave it', () => {
  const sigma0 = 0.1;
  const start = localSearch([slot([0.5, 0.5], 1)], sigma0);
  assert.deepEqual(start && { parent: Array.from(start.parent), sigma: start.sigma }, { parent: [0.5, 0.5], sigma: sigma0 });
  const success = localSearch([slot([0.5, 0.5], 1), slot([0.55, 0.5], 0.5)], sigma0);
  assert.ok(success && success.sigma > sigma0 && success.parent[0] === 0.55);
  const failure = localSearch([slot([0.5, 0.5], 1), slot([0.55, 0.5], 2)], sigma0);
  assert.ok(failure && failure.sigma < sigma0 && failure.parent[0] === 0.5);
  // 1/5th rule: one success in five nearby trials leaves σ where it was.
  const balanced = localSearch([slot([0.5, 0.5], 1), slot([0.52, 0.5], 2), slot([0.48, 0.5], 2), slot([0.5, 0.52], 2), slot([0.5, 0.48], 2), slot([0.51, 0.51], 0.9)], sigma0);
  assert.ok(balanced && Math.abs(balanced.sigma - sigma0) < 1e-12, String(balanced?.sigma));
  // A far, worse trial (proposed by the main Gaussian) says nothing about σ.
  const far = localSearch([slot([0.1, 0.1], 1), slot([0.9, 0.9], 2)], sigma0);
  assert.equal(far?.sigma, sigma0);
});

test('held point: uniform probe without trials of the held value; otherwise near that value\'s best trial, ignoring the other values\' trials', () => {
  const others = [slot([0.1, 0.9], 0.1, [1]), slot([0.2, 0.8], 0.2, [1])];
  const rng = new Rng(8);
  const probes = Array.from({ length: 200 }, () => heldPoint(others, [0], 2, 0.1, rng));
  const far = probes.filter((x) => Math.hypot((x[0] as number) - 0.1, (x[1] as number) - 0.9) > 0.5).length;
  assert.ok(far > 100, `uniform probes: ${far} of 200 far from the other value's trials`);
  const mine = [slot([0.7, 0.3], 2, [0]), slot([0.8, 0.2], 1, [0]), slot([0.75, 0.25], 1.5, [0])];
  const points = Array.from({ length: 200 }, () => heldPoint([...others, ...mine], [0], 2, 0.05, rng));
  const close = points.filter((x) => Math.hypot((x[0] as number) - 0.8, (x[1] as number) - 0.2) < 0.25).length;
  assert.ok(close > 190, `${close} of 200 within 0.25 of value 0's best trial`);
  // Unfinished, failed and infeasible trials are no parents.
  const unusable = [slot([0.1, 0.1], 0, [0], { active: true }), slot([0.2, 0.2], Infinity), slot([0.3, 0.3], -1, [0], { violation: 1 })];
  assert.equal(bestSlot([...unusable, ...mine])?.loss, 1);
});

test('held point: the surrogate steers a category with enough trials downhill', () => {
  // Value 0's trials lie on a slope falling towards +x: pre-screened steps go that way more
  // often than plain draws from the same Gaussian would (half of the time).
  const rng = new Rng(3);
  const mine = Array.from({ length: 8 }, () => {
    const x = [0.4 + 0.2 * rng.next(), 0.4 + 0.2 * rng.next()];
    return slot(x, -(x[0] as number));
  });
  const parent = mine.reduce((a, b) => (a.loss <= b.loss ? a : b));
  const points = Array.from({ length: 200 }, () => heldPoint(mine, [0], 2, 0.05, rng));
  const downhill = points.filter((x) => (x[0] as number) > (parent.x[0] as number)).length;
  assert.ok(downhill > 170, `${downhill} of 200 proposals downhill of the parent`);
});
