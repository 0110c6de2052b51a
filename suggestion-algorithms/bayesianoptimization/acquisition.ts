// Acquisition functions on the standardised loss (smaller is better), all to be MAXIMISED:
// log EI and log PI in a numerically stable log form (after Ament et al. 2023, "Unexpected
// Improvements to Expected Improvement", and Optuna's logEI), and −LCB.

const SQRT2 = Math.SQRT2;
const SQRT_PI = Math.sqrt(Math.PI);
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT_HALF_PI = Math.sqrt(Math.PI / 2);

/**
 * erfcx(x) = exp(x²)·erfc(x) for x ≥ 0. Below 2: the all-positive series
 * erf(x) = 2/√π·e^{−x²}·Σ 2ⁿx^{2n+1}/(1·3·…·(2n+1)) (no cancellation inside the sum);
 * from 2 on: the continued fraction erfcx(x) = 1/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))),
 * evaluated backwards.
 */
export function erfcx(x: number): number {
  if (x < 0) return 2 * Math.exp(x * x) - erfcx(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > 1e-17 * sum; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    // erfc = 1 − erf, then × e^{x²}.
    return Math.exp(x * x) - (2 / SQRT_PI) * sum;
  }
  const terms = x < 4 ? 80 : x < 10 ? 40 : 20;
  let f = x;
  for (let n = terms; n >= 1; n--) f = x + n / 2 / f;
  return 1 / (SQRT_PI * f);
}

/** log Φ(z), finite for any finite z. */
export function logNormalCdf(z: number): number {
  // Φ(z) = ½ erfc(−z/√2) = ½ erfcx(−z/√2) e^{−z²/2}.
  if (z < -1) return Math.log(0.5 * erfcx(-z / SQRT2)) - (z * z) / 2;
  return Math.log1p(-0.5 * erfcx(z / SQRT2) * Math.exp(-(z * z) / 2));
}

export const logNormalPdf = (z: number): number => -(z * z) / 2 - HALF_LOG_2PI;

/**
 * log h(z) with h(z) = φ(z) + zΦ(z) (EI of a unit normal with improvement threshold at z).
 * For z < −1, h(z) = φ(z)·(1 + z·√(π/2)·erfcx(−z/√2)) keeps the tiny factor in log space;
 * beyond |z| = 1e4 the bracket is taken from its asymptotic series 1/z² − 3/z⁴ + 15/z⁶.
 */
export function logH(z: number): number {
  if (z > -1) {
    const cdf = z > 1 ? -Math.expm1(logNormalCdf(-z)) : Math.exp(logNormalCdf(z));
    return Math.log(Math.exp(logNormalPdf(z)) + z * cdf);
  }
  if (z > -1e4) return logNormalPdf(z) + Math.log1p(z * SQRT_HALF_PI * erfcx(-z / SQRT2));
  const w = 1 / (z * z);
  return logNormalPdf(z) + Math.log(w) + Math.log1p(-3 * w + 15 * w * w);
}

/** log EI for minimisation: EI = σ·h((best − μ − ξ)/σ). */
export function logExpectedImprovement(mean: number, sd: number, best: number, xi = 0): number {
  return Math.log(sd) + logH((best - mean - xi) / sd);
}

/** log PI for minimisation: log Φ((best − μ − ξ)/σ). */
export function logProbabilityOfImprovement(mean: number, sd: number, best: number, xi = 0): number {
  return logNormalCdf((best - mean - xi) / sd);
}

/** −LCB = −(μ − κσ), so that larger is better like the others. */
export function negativeLowerConfidenceBound(mean: number, sd: number, kappa: number): number {
  return -(mean - kappa * sd);
}

export type AcquisitionName = 'ei' | 'pi' | 'lcb';

export interface AcquisitionContext {
  /** Best standardised loss observed so far. */
  readonly best: number;
  readonly kappa: number;
  readonly xi: number;
}

export function acquisitionValue(name: AcquisitionName, mean: number, variance: number, c: AcquisitionContext): number {
  const sd = Math.sqrt(variance);
  switch (name) {
    case 'ei':
      return logExpectedImprovement(mean, sd, c.best, c.xi);
    case 'pi':
      return logProbabilityOfImprovement(mean, sd, c.best, c.xi);
    case 'lcb':
      return negativeLowerConfidenceBound(mean, sd, c.kappa);
  }
}

/**
 * GP-Hedge (Hoffman, Brochu & de Freitas 2011, as in scikit-optimize): picks one of the
 * portfolio's proposals with probability ∝ exp(eta·gain); `u` is a uniform draw in [0, 1).
 */
export function hedgeChoice(gains: readonly number[], eta: number, u: number): number {
  const top = Math.max(...gains);
  const weights = gains.map((g) => Math.exp(eta * (g - top)));
  const total = weights.reduce((s, w) => s + w, 0);
  let acc = 0;
  for (let i = 0; i < weights.length; i++) {
    acc += (weights[i] as number) / total;
    if (u < acc) return i;
  }
  return weights.length - 1;
}
