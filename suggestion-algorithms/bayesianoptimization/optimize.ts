// Maximising an acquisition over the unit cube: quasi-random candidates plus perturbations of
// the best observed points, then Nelder–Mead refinement of the best few over the continuous
// coordinates, alternating with a pass over every value of each free choice parameter. Candidates are generated per parameter (one "design" coordinate each) and then
// encoded, so categorical/discrete parameters always get valid one-hot columns.
import type { Rng } from '../rng.js';
import type { UnitCube } from '../transform.js';
import { ScrambledHalton } from './halton.js';

export interface Layout {
  readonly dims: number;
  /** Cube column of each range parameter. */
  readonly ranges: readonly number[];
  /** First cube column and size of each categorical/discrete parameter. */
  readonly choices: readonly { readonly index: number; readonly size: number }[];
  /** In a conditional space: the point as the model must see it (inactive dimensions imputed). */
  readonly canonical?: (x: Float64Array) => Float64Array;
}

export function layoutOf(cube: UnitCube): Layout {
  const ranges: number[] = [];
  const choices: { index: number; size: number }[] = [];
  for (const c of cube.columns) {
    if (c.kind === 'range') ranges.push(c.index);
    else choices.push({ index: c.index, size: c.size });
  }
  return { dims: cube.dims, ranges, choices };
}

/** Lengthscale group of each cube column: one per range column, one per choice parameter (its one-hot columns share it). */
export function lengthscaleGroups(l: Layout): Int32Array {
  const groups = new Int32Array(l.dims);
  let next = 0;
  l.ranges.forEach((col) => (groups[col] = next++));
  l.choices.forEach((c) => groups.fill(next++, c.index, c.index + c.size));
  return groups;
}

/** Number of design coordinates: one per parameter. */
export const designDims = (l: Layout): number => l.ranges.length + l.choices.length;

/** Design point (one coordinate per parameter, in [0,1)) → cube point with one-hot choices. */
export function designToCube(l: Layout, u: ArrayLike<number>): Float64Array {
  const x = new Float64Array(l.dims);
  l.ranges.forEach((col, j) => (x[col] = u[j] as number));
  l.choices.forEach((c, k) => {
    const v = u[l.ranges.length + k] as number;
    x[c.index + Math.min(c.size - 1, Math.floor(v * c.size))] = 1;
  });
  return x;
}

const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Gaussian steps of several widths around the incumbents; each choice parameter is redrawn with probability 1/(parameters). */
export function perturbations(l: Layout, incumbents: readonly Float64Array[], perIncumbent: number, rng: Rng): Float64Array[] {
  const widths = [0.005, 0.02, 0.05, 0.1, 0.2];
  const flip = 1 / Math.max(1, designDims(l));
  const out: Float64Array[] = [];
  for (const base of incumbents) {
    for (let k = 0; k < perIncumbent; k++) {
      const x = Float64Array.from(base);
      const width = widths[k % widths.length] as number;
      // Move a random subset of coordinates (all of them half of the time): helps in higher d.
      const moveAll = rng.next() < 0.5;
      for (const col of l.ranges) {
        if (moveAll || rng.next() < Math.max(0.2, 2 / l.ranges.length)) x[col] = clip01((x[col] as number) + width * rng.normal());
      }
      for (const c of l.choices) {
        if (rng.next() >= flip) continue;
        x.fill(0, c.index, c.index + c.size);
        x[c.index + rng.int(c.size)] = 1;
      }
      out.push(x);
    }
  }
  return out;
}

export function quasiRandomCandidates(l: Layout, count: number, rng: Rng): Float64Array[] {
  const sequence = new ScrambledHalton(designDims(l), rng);
  return Array.from({ length: count }, (_, i) => designToCube(l, sequence.point(i)));
}

/**
 * Nelder–Mead over the range columns of `start` (choice columns held fixed), maximising
 * `score`; coordinates are clipped into [0,1] before scoring.
 */
export function refine(l: Layout, start: Float64Array, startValue: number, score: (x: Float64Array) => number, maxEvaluations: number, initialStep = 0.05) {
  const m = l.ranges.length;
  const embed = (v: Float64Array) => {
    const x = Float64Array.from(start);
    l.ranges.forEach((col, j) => (x[col] = clip01(v[j] as number)));
    return x;
  };
  const f = (v: Float64Array) => -score(embed(v));
  const v0 = Float64Array.from(l.ranges.map((col) => start[col] as number));
  if (m === 0) return { x: start, value: startValue };
  let simplex: { v: Float64Array; f: number }[] = [{ v: v0, f: -startValue }];
  let evaluations = 0;
  for (let j = 0; j < m; j++) {
    const v = Float64Array.from(v0);
    v[j] = (v[j] as number) + ((v[j] as number) > 0.5 ? -initialStep : initialStep);
    simplex.push({ v, f: f(v) });
    evaluations++;
  }
  const combine = (a: Float64Array, b: Float64Array, t: number) => a.map((ai, i) => ai + t * ((b[i] as number) - ai));
  while (evaluations < maxEvaluations) {
    simplex.sort((p, q) => p.f - q.f);
    const best = simplex[0]!;
    const worst = simplex[m]!;
    const second = simplex[m - 1]!;
    if (Math.abs(worst.f - best.f) < 1e-10 * (1 + Math.abs(best.f))) break;
    const centroid = new Float64Array(m);
    for (let k = 0; k < m; k++) for (let j = 0; j < m; j++) centroid[j] = (centroid[j] as number) + (simplex[k]!.v[j] as number) / m;
    const reflected = combine(centroid, worst.v, -1);
    const fr = f(reflected);
    evaluations++;
    if (fr < best.f) {
      const expanded = combine(centroid, worst.v, -2);
      const fe = f(expanded);
      evaluations++;
      simplex[m] = fe < fr ? { v: expanded, f: fe } : { v: reflected, f: fr };
    } else if (fr < second.f) {
      simplex[m] = { v: reflected, f: fr };
    } else {
      const contracted = fr < worst.f ? combine(centroid, reflected, 0.5) : combine(centroid, worst.v, 0.5);
      const fc = f(contracted);
      evaluations++;
      if (fc < Math.min(fr, worst.f)) simplex[m] = { v: contracted, f: fc };
      else {
        simplex = simplex.map((p, k) => (k === 0 ? p : { v: combine(best.v, p.v, 0.5), f: f(combine(best.v, p.v, 0.5)) }));
        evaluations += m;
      }
    }
  }
  simplex.sort((p, q) => p.f - q.f);
  const winner = simplex[0]!;
  return { x: embed(winner.v), value: -winner.f };
}

/**
 * Alternates continuous refinement with a coordinate pass over the choice parameters that are
 * not held (every value of one parameter tried, the best kept, then the next parameter), until
 * a pass changes nothing or `rounds` passes are done. This is the categorical half of Optuna's
 * mixed acquisition optimiser; without free choice parameters it is `refine` alone.
 */
export function polish(
  l: Layout,
  start: Float64Array,
  startValue: number,
  score: (x: Float64Array) => number,
  free: readonly number[],
  maxEvaluations: number,
  rounds = 2,
): { x: Float64Array; value: number } {
  let best = refine(l, start, startValue, score, maxEvaluations);
  for (let round = 0; round < rounds && free.length > 0; round++) {
    let changed = false;
    for (const p of free) {
      const c = l.choices[p]!;
      for (let k = 0; k < c.size; k++) {
        if ((best.x[c.index + k] as number) === 1) continue;
        const x = Float64Array.from(best.x);
        x.fill(0, c.index, c.index + c.size);
        x[c.index + k] = 1;
        const value = score(x);
        if (value > best.value) {
          best = { x, value };
          changed = true;
        }
      }
    }
    if (!changed) break;
    best = refine(l, best.x, best.value, score, maxEvaluations);
  }
  return best;
}
