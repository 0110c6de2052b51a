// Functional ANOVA over a random forest (Hutter, Hoos & Leyton-Brown, "An Efficient Approach for
// Assessing Hyperparameter Importance", ICML 2014): each tree is a piecewise-constant function
// on boxes of the domain, so its mean, its variance and each dimension's marginal (the average
// over all other dimensions, under the uniform measure) are exact sums over its leaves. A
// dimension's importance in a tree is the variance of its marginal over the tree's variance;
// the forest's is the mean over trees whose variance is not zero.
import type { Box, Leaf } from './forest.js';

export interface MainEffects {
  /** Per dimension: the share of the function's variance its marginal explains (mean over trees). */
  readonly fractions: number[];
  /** Trees that varied at all (the others say nothing). */
  readonly trees: number;
}

export function mainEffects(forest: readonly (readonly Leaf[])[], domain: Box): MainEffects {
  const dims = domain.lo.length;
  const width = Array.from({ length: dims }, (_, k) => (domain.hi[k] as number) - (domain.lo[k] as number));
  const sums = new Array<number>(dims).fill(0);
  let varied = 0;
  for (const leaves of forest) {
    // Each leaf's share of the domain per dimension, and in all.
    const shares = leaves.map((l) => width.map((w, k) => ((l.hi[k] as number) - (l.lo[k] as number)) / w));
    const volumes = shares.map((s) => s.reduce((a, b) => a * b, 1));
    let mean = 0;
    leaves.forEach((l, i) => (mean += (volumes[i] as number) * l.value));
    let total = 0;
    leaves.forEach((l, i) => (total += (volumes[i] as number) * (l.value - mean) ** 2));
    if (!(total > 1e-300)) continue;
    varied++;
    for (let k = 0; k < dims; k++) sums[k] = (sums[k] as number) + Math.min(1, marginalVariance(leaves, shares, volumes, k, domain, mean) / total);
  }
  return { fractions: sums.map((s) => (varied === 0 ? 0 : s / varied)), trees: varied };
}

/**
 * The variance of a tree's marginal in dimension k: the marginal is constant between the split
 * points of k, and each leaf adds value × (its volume in the other dimensions) on its interval.
 */
function marginalVariance(leaves: readonly Leaf[], shares: readonly number[][], volumes: readonly number[], k: number, domain: Box, mean: number): number {
  const all = new Float64Array(2 * leaves.length + 2);
  leaves.forEach((l, i) => {
    all[2 * i] = l.lo[k] as number;
    all[2 * i + 1] = l.hi[k] as number;
  });
  all[2 * leaves.length] = domain.lo[k] as number;
  all[2 * leaves.length + 1] = domain.hi[k] as number;
  all.sort();
  let count = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[count++] = all[i] as number;
  const points = all.subarray(0, count);
  const delta = new Float64Array(count);
  leaves.forEach((l, i) => {
    const c = (l.value * (volumes[i] as number)) / ((shares[i] as number[])[k] as number);
    const from = indexOf(points, l.lo[k] as number);
    const to = indexOf(points, l.hi[k] as number);
    delta[from] = (delta[from] as number) + c;
    delta[to] = (delta[to] as number) - c;
  });
  const span = (domain.hi[k] as number) - (domain.lo[k] as number);
  let level = 0;
  let variance = 0;
  for (let i = 0; i + 1 < count; i++) {
    level += delta[i] as number;
    variance += (((points[i + 1] as number) - (points[i] as number)) / span) * (level - mean) ** 2;
  }
  return variance;
}

/** Where `v` is in the sorted, distinct `points` (it is one of them). */
function indexOf(points: Float64Array, v: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
