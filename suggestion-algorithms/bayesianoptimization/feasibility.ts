// Outcome constraints in BO: a second GP on the trials' constraint violation and the probability
// that a point is feasible, which weighs the acquisition (constrained EI: Gardner et al. 2014,
// "Bayesian Optimization with Inequality Constraints"; Gelbart, Snoek & Adams 2014, "Bayesian
// Optimization with Unknown Constraints", who also search for feasibility alone while no
// feasible point is known).
//
// Trials tell only how far past its bounds each one went (0 inside), not how deep inside it was,
// so the GP models z = log(1 + v/s) (s: the median positive violation; an unknown violation
// counts as twice the largest known one) and a point is feasible when z stays below τ, half of
// the smallest positive z: PoF(x) = Φ((τ − μ(x)) / σ(x)).
import type { Rng } from '../rng.js';
import { logNormalCdf } from './acquisition.js';
import { conditionGp, fitHyperparameters, predict, type GaussianProcess, type LengthscaleGroups } from './gp.js';
import { MAX_FIT_POINTS } from './model.js';

export interface FeasibilityModel {
  /** log PoF at each point. */
  logFeasibility(points: readonly Float64Array[]): Float64Array;
}

/**
 * The model over training points and their violations, or undefined when none broke a bound
 * (a study without constraints, or every trial feasible): then the acquisition is unchanged.
 */
export function feasibilityModel(x: readonly Float64Array[], violations: ArrayLike<number>, d: number, rng: Rng, groups?: LengthscaleGroups): FeasibilityModel | undefined {
  const v = Array.from(violations);
  const known = v.filter((e) => e > 0 && Number.isFinite(e)).sort((a, b) => a - b);
  if (!v.some((e) => e > 0)) return undefined;
  const scale = known.length > 0 ? (known[Math.floor(known.length / 2)] as number) : 1;
  const worst = known.length > 0 ? 2 * (known[known.length - 1] as number) : 1;
  const z = v.map((e) => Math.log1p((Number.isFinite(e) ? e : worst) / scale));
  const threshold = 0.5 * Math.log1p((known[0] ?? worst) / scale);
  // Standardised as the losses are, so the same hyperparameter bounds and priors fit.
  const mean = z.reduce((s, e) => s + e, 0) / z.length;
  const sd = Math.sqrt(z.reduce((s, e) => s + (e - mean) ** 2, 0) / z.length) || 1;
  const y = Float64Array.from(z, (e) => (e - mean) / sd);
  const tau = (threshold - mean) / sd;
  const n = Math.min(x.length, MAX_FIT_POINTS);
  const hyper = fitHyperparameters(x.slice(0, n), y.slice(0, n), d, rng, { randomStarts: 2, refinedStarts: 1, maxIterations: 30, ...(groups ? { groups } : {}) });
  const gp: GaussianProcess = conditionGp(x, y, hyper);
  return {
    logFeasibility(points) {
      const { mean: mu, variance } = predict(gp, points);
      return Float64Array.from(mu, (m, i) => logNormalCdf((tau - m) / Math.sqrt(Math.max(variance[i] as number, 1e-12))));
    },
  };
}
