// Output warping: losses are standardised, passed through a Yeo–Johnson power transform whose
// λ maximises the Gaussian likelihood (as HEBO does), and standardised again. Heavy-tailed
// losses (Rosenbrock-like, or a diverging run among many good ones) would otherwise squash all
// the interesting differences into a sliver near the minimum. The transform is monotone, so the
// incumbent and every comparison are preserved; well-behaved losses get λ ≈ 1 (identity).

export function yeoJohnson(y: number, lambda: number): number {
  if (y >= 0) return Math.abs(lambda) < 1e-9 ? Math.log1p(y) : (Math.pow(y + 1, lambda) - 1) / lambda;
  return Math.abs(lambda - 2) < 1e-9 ? -Math.log1p(-y) : -(Math.pow(1 - y, 2 - lambda) - 1) / (2 - lambda);
}

export function standardise(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += (values[i] as number) / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += ((values[i] as number) - mean) ** 2 / n;
  const sd = Math.sqrt(variance) || 1;
  return Float64Array.from(values, (v) => (v - mean) / sd);
}

/** Profile log-likelihood of λ for already standardised y. */
function logLikelihood(y: Float64Array, lambda: number): number {
  const t = Float64Array.from(y, (v) => yeoJohnson(v, lambda));
  let mean = 0;
  for (const v of t) mean += v / t.length;
  let variance = 0;
  for (const v of t) variance += (v - mean) ** 2 / t.length;
  let jacobian = 0;
  for (const v of y) jacobian += Math.sign(v) * Math.log1p(Math.abs(v));
  return -0.5 * y.length * Math.log(Math.max(variance, 1e-300)) + (lambda - 1) * jacobian;
}

/** Standardise → Yeo–Johnson (λ by golden-section search on [−2, 3]) → standardise. */
export function warpLosses(losses: ArrayLike<number>): Float64Array {
  const y = standardise(losses);
  if (y.length < 3) return y;
  const phi = (Math.sqrt(5) - 1) / 2;
  let lo = -2;
  let hi = 3;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = logLikelihood(y, a);
  let fb = logLikelihood(y, b);
  for (let i = 0; i < 50; i++) {
    if (fa > fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = logLikelihood(y, a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = logLikelihood(y, b);
    }
  }
  const lambda = (lo + hi) / 2;
  return standardise(Float64Array.from(y, (v) => yeoJohnson(v, lambda)));
}
