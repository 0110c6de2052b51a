// Matérn-5/2 with one lengthscale per input dimension (ARD). Inputs are pre-divided by their
// lengthscales ("scaled inputs"), so a distance is plain Euclidean and the gradient with
// respect to a log-lengthscale needs only the per-dimension squared differences.

const SQRT5 = Math.sqrt(5);

/** The unit-variance Matérn-5/2 correlation at scaled distance r. */
export function matern52(r: number): number {
  const s = SQRT5 * r;
  return (1 + s + (s * s) / 3) * Math.exp(-s);
}

/**
 * d k / d log ℓ_j = signal · lengthscaleFactor(r) · (Δ_j / ℓ_j)²: the 1/r of dr/dℓ cancels
 * against dk/dr = −(5/3) r (1 + √5 r) e^{−√5 r}, so this is finite at r = 0.
 */
export function lengthscaleFactor(r: number): number {
  const s = SQRT5 * r;
  return (5 / 3) * (1 + s) * Math.exp(-s);
}

/** Divides each row of x (n points of d columns, row-major) by the lengthscales. */
export function scaleInputs(points: readonly ArrayLike<number>[], lengthscales: ArrayLike<number>): Float64Array {
  const d = lengthscales.length;
  const z = new Float64Array(points.length * d);
  points.forEach((p, i) => {
    for (let j = 0; j < d; j++) z[i * d + j] = (p[j] ?? 0) / (lengthscales[j] as number);
  });
  return z;
}

/** Scaled Euclidean distance between row a of za and row b of zb. */
export function scaledDistance(za: Float64Array, a: number, zb: Float64Array, b: number, d: number): number {
  let s = 0;
  const oa = a * d;
  const ob = b * d;
  for (let j = 0; j < d; j++) {
    const t = (za[oa + j] as number) - (zb[ob + j] as number);
    s += t * t;
  }
  return Math.sqrt(s);
}
