// Gaussian-process regression on standardised losses: exact conditioning through a Cholesky
// factor (ml-matrix, with jitter escalation), posterior mean/variance at candidate points, and
// MAP hyperparameters (log marginal likelihood + priors, analytic gradients, projected L-BFGS
// from several starts).
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import type { Rng } from '../rng.js';
import { lengthscaleFactor, matern52, scaleInputs, scaledDistance } from './kernel.js';
import { minimizeBoxed } from './lbfgs.js';

export interface Hyperparameters {
  readonly lengthscales: Float64Array;
  /** Signal variance (k(x, x) of the latent function). */
  readonly signal: number;
  /** Observation noise variance, in standardised loss units. */
  readonly noise: number;
}

export interface GaussianProcess {
  readonly d: number;
  readonly n: number;
  readonly hyper: Hyperparameters;
  /** Training inputs divided by the lengthscales, n × d row-major. */
  readonly z: Float64Array;
  /** Lower Cholesky factor of K + noise·I (+ jitter), n × n row-major. */
  readonly chol: Float64Array;
  /** (K + noise·I)⁻¹ y. */
  readonly alpha: Float64Array;
}

// Bounds, in the unit cube / standardised units.
export const LENGTHSCALE_BOUNDS = [0.01, 10] as const;
export const NOISE_BOUNDS = [1e-6, 0.5] as const;
export const SIGNAL_BOUNDS = [0.05, 20] as const;
// MAP priors: Gamma(3, 6) on lengthscales (mode 1/3 of the cube, as BoTorch's former default),
// log-normal(0, 1) on the signal variance (outputs are standardised), Gamma(1.1, 0.05) on the
// noise (nearly flat, mildly favouring small noise).
const LENGTHSCALE_PRIOR = { shape: 3, rate: 6 };
const SIGNAL_LOG_SD = 1;
const NOISE_PRIOR = { shape: 1.1, rate: 0.05 };

const LOG_2PI = Math.log(2 * Math.PI);

/** Lower Cholesky factor of a symmetric n × n matrix (row-major), adding diagonal jitter until it is positive definite. */
export function choleskyWithJitter(k: Float64Array, n: number): Float64Array {
  let jitter = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const m = Matrix.from1DArray(n, n, k);
    if (jitter > 0) for (let i = 0; i < n; i++) m.set(i, i, (k[i * n + i] as number) + jitter);
    const decomposition = new CholeskyDecomposition(m);
    if (decomposition.isPositiveDefinite()) {
      return Float64Array.from(decomposition.lowerTriangularMatrix.to1DArray());
    }
    jitter = jitter === 0 ? 1e-8 : jitter * 10;
  }
  throw new Error('covariance matrix is not positive definite even with jitter');
}

/** Solves L v = b in place for lower-triangular L (n × n row-major). */
export function forwardSolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    const row = i * n;
    for (let k = 0; k < i; k++) s -= (l[row + k] as number) * (b[k] as number);
    b[i] = s / (l[row + i] as number);
  }
  return b;
}

/** Solves Lᵀ x = b in place. */
export function backSolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    let s = b[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (b[k] as number);
    b[i] = s / (l[i * n + i] as number);
  }
  return b;
}

function covariance(z: Float64Array, n: number, d: number, h: Hyperparameters): Float64Array {
  const k = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    k[a * n + a] = h.signal + h.noise;
    for (let b = 0; b < a; b++) {
      const v = h.signal * matern52(scaledDistance(z, a, z, b, d));
      k[a * n + b] = v;
      k[b * n + a] = v;
    }
  }
  return k;
}

/** The GP conditioned on (x, y) with fixed hyperparameters. */
export function conditionGp(x: readonly ArrayLike<number>[], y: ArrayLike<number>, hyper: Hyperparameters): GaussianProcess {
  const n = x.length;
  const d = hyper.lengthscales.length;
  const z = scaleInputs(x, hyper.lengthscales);
  const chol = choleskyWithJitter(covariance(z, n, d, hyper), n);
  const alpha = backSolve(chol, n, forwardSolve(chol, n, Float64Array.from(y)));
  return { d, n, hyper, z, chol, alpha };
}

export interface Posterior {
  readonly mean: Float64Array;
  /** Variance of the latent function (noise excluded), floored at 1e-12. */
  readonly variance: Float64Array;
}

/** Posterior mean K_*ᵀα and variance k_** − vᵀv with v = L⁻¹K_*. */
export function predict(gp: GaussianProcess, points: readonly ArrayLike<number>[]): Posterior {
  const { n, d } = gp;
  const zs = scaleInputs(points, gp.hyper.lengthscales);
  const mean = new Float64Array(points.length);
  const variance = new Float64Array(points.length);
  const v = new Float64Array(n);
  for (let c = 0; c < points.length; c++) {
    let m = 0;
    for (let a = 0; a < n; a++) {
      const kv = gp.hyper.signal * matern52(scaledDistance(zs, c, gp.z, a, d));
      v[a] = kv;
      m += kv * (gp.alpha[a] as number);
    }
    forwardSolve(gp.chol, n, v);
    let vv = 0;
    for (let a = 0; a < n; a++) vv += (v[a] as number) * (v[a] as number);
    mean[c] = m;
    variance[c] = Math.max(1e-12, gp.hyper.signal - vv);
  }
  return { mean, variance };
}

// ---------------------------------------------------------------- hyperparameters

/**
 * Which lengthscale each input column uses: column j has lengthscale θ[groups[j]]. The one-hot
 * columns of a categorical parameter share one (the overlap kernel, see categories.ts); every
 * other column has its own. Without groups, column j uses θ[j].
 */
export type LengthscaleGroups = Int32Array;

const groupCount = (groups: LengthscaleGroups | undefined, d: number): number => (groups ? Math.max(-1, ...groups) + 1 : d);

/** θ = [log ℓ of each group, log signal, log noise]; lengthscales come out per column. */
const fromTheta = (theta: Float64Array, d: number, groups?: LengthscaleGroups): Hyperparameters => {
  const g = groupCount(groups, d);
  return {
    lengthscales: Float64Array.from({ length: d }, (_, j) => Math.exp(theta[groups ? (groups[j] as number) : j] as number)),
    signal: Math.exp(theta[g] as number),
    noise: Math.exp(theta[g + 1] as number),
  };
};

/** θ of per-column hyperparameters (a group takes the lengthscale of its first column). */
export const toTheta = (h: Hyperparameters, groups?: LengthscaleGroups): Float64Array => {
  const d = h.lengthscales.length;
  const ls = new Float64Array(groupCount(groups, d));
  for (let j = d - 1; j >= 0; j--) ls[groups ? (groups[j] as number) : j] = h.lengthscales[j] as number;
  return Float64Array.from([...ls, h.signal, h.noise].map(Math.log));
};

/**
 * Negative log posterior of θ (negative log marginal likelihood minus log priors) and its
 * gradient: ∂LML/∂θ_j = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ_j).
 */
export function negativeLogPosterior(x: readonly ArrayLike<number>[], y: Float64Array, theta: Float64Array, withGradient = true, groups?: LengthscaleGroups) {
  const n = x.length;
  const g = theta.length - 2;
  const d = groups ? groups.length : g;
  const h = fromTheta(theta, d, groups);
  const z = scaleInputs(x, h.lengthscales);
  const dist = new Float64Array(n * n);
  const k = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    k[a * n + a] = h.signal + h.noise;
    for (let b = 0; b < a; b++) {
      const r = scaledDistance(z, a, z, b, d);
      dist[a * n + b] = r;
      const v = h.signal * matern52(r);
      k[a * n + b] = v;
      k[b * n + a] = v;
    }
  }
  const l = choleskyWithJitter(k, n);
  const alpha = backSolve(l, n, forwardSolve(l, n, Float64Array.from(y)));
  let logDet = 0;
  let fit = 0;
  for (let i = 0; i < n; i++) {
    logDet += 2 * Math.log(l[i * n + i] as number);
    fit += (y[i] as number) * (alpha[i] as number);
  }
  const lml = -0.5 * fit - 0.5 * logDet - 0.5 * n * LOG_2PI;

  // Log priors on the raw values (no Jacobian: the MAP point of the value, as GPyTorch/BoTorch).
  // One prior term per lengthscale parameter (group), not per column.
  let prior = 0;
  const gradient = new Float64Array(g + 2);
  for (let j = 0; j < g; j++) {
    const ls = Math.exp(theta[j] as number);
    prior += (LENGTHSCALE_PRIOR.shape - 1) * Math.log(ls) - LENGTHSCALE_PRIOR.rate * ls;
    gradient[j] = -((LENGTHSCALE_PRIOR.shape - 1) - LENGTHSCALE_PRIOR.rate * ls);
  }
  const logSignal = theta[g] as number;
  prior += -0.5 * (logSignal / SIGNAL_LOG_SD) ** 2;
  gradient[g] = logSignal / SIGNAL_LOG_SD ** 2;
  prior += (NOISE_PRIOR.shape - 1) * Math.log(h.noise) - NOISE_PRIOR.rate * h.noise;
  gradient[g + 1] = -((NOISE_PRIOR.shape - 1) - NOISE_PRIOR.rate * h.noise);

  const value = -(lml + prior);
  if (!withGradient) return { value, gradient };

  // K⁻¹ = L⁻ᵀ L⁻¹. Column c of L⁻¹ is stored as row c of `inv` so that both the solve and
  // the products below run over contiguous memory.
  const inv = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const row = c * n;
    inv[row + c] = 1 / (l[c * n + c] as number);
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      const li = i * n;
      for (let m = c; m < i; m++) s -= (l[li + m] as number) * (inv[row + m] as number);
      inv[row + i] = s / (l[li + i] as number);
    }
  }
  let gSignal = 0;
  let gNoise = 0;
  const gLength = new Float64Array(d);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b <= a; b++) {
      let kinv = 0;
      const ra = a * n;
      const rb = b * n;
      for (let m = a; m < n; m++) kinv += (inv[ra + m] as number) * (inv[rb + m] as number);
      const w = (alpha[a] as number) * (alpha[b] as number) - kinv;
      if (a === b) {
        gSignal += 0.5 * w * h.signal;
        gNoise += 0.5 * w * h.noise;
        continue;
      }
      // Off-diagonal entries count twice (symmetry), cancelling the ½.
      const r = dist[a * n + b] as number;
      gSignal += w * h.signal * matern52(r);
      const c = w * h.signal * lengthscaleFactor(r);
      for (let j = 0; j < d; j++) {
        const t = (z[a * d + j] as number) - (z[b * d + j] as number);
        gLength[j] = (gLength[j] as number) + c * t * t;
      }
    }
  }
  // A shared lengthscale collects the derivatives of all its columns (chain rule).
  for (let j = 0; j < d; j++) {
    const k = groups ? (groups[j] as number) : j;
    gradient[k] = (gradient[k] as number) - (gLength[j] as number);
  }
  gradient[g] = (gradient[g] as number) - gSignal;
  gradient[g + 1] = (gradient[g + 1] as number) - gNoise;
  return { value, gradient };
}

export interface FitOptions {
  /** Extra starting point, e.g. the previous call's optimum. */
  readonly warmStart?: Hyperparameters;
  readonly randomStarts: number;
  /** How many of the starts (best by value) are refined by L-BFGS. */
  readonly refinedStarts: number;
  readonly maxIterations: number;
  /** Shared lengthscales (categorical columns); default one per column. */
  readonly groups?: LengthscaleGroups;
}

/** MAP hyperparameters: a default start, an optional warm start and random starts (in log space) are screened by value, the best few refined. */
export function fitHyperparameters(x: readonly ArrayLike<number>[], y: Float64Array, d: number, rng: Rng, o: FitOptions): Hyperparameters {
  const { groups } = o;
  const g = groupCount(groups, d);
  const lower = Float64Array.from([...Array<number>(g).fill(LENGTHSCALE_BOUNDS[0]), SIGNAL_BOUNDS[0], NOISE_BOUNDS[0]].map(Math.log));
  const upper = Float64Array.from([...Array<number>(g).fill(LENGTHSCALE_BOUNDS[1]), SIGNAL_BOUNDS[1], NOISE_BOUNDS[1]].map(Math.log));
  const starts: Float64Array[] = [toTheta({ lengthscales: new Float64Array(d).fill(0.3), signal: 1, noise: 1e-3 }, groups)];
  if (o.warmStart && o.warmStart.lengthscales.length === d) starts.push(toTheta(o.warmStart, groups));
  for (let s = 0; s < o.randomStarts; s++) {
    const ls = Array.from({ length: g }, () => Math.log(0.05) + rng.next() * (Math.log(2) - Math.log(0.05)));
    starts.push(Float64Array.from([...ls, Math.log(0.5) + rng.next() * Math.log(4), Math.log(1e-5) + rng.next() * Math.log(1e3)]));
  }
  const objective = (theta: Float64Array) => negativeLogPosterior(x, y, theta, true, groups);
  // Screening by value alone costs one Cholesky per start; only the most promising are refined.
  const screened = starts
    .map((theta) => {
      try {
        return { theta, value: negativeLogPosterior(x, y, theta.map((v, i) => Math.min(upper[i] as number, Math.max(lower[i] as number, v))), false, groups).value };
      } catch {
        return { theta, value: Infinity };
      }
    })
    .filter((s) => Number.isFinite(s.value))
    .sort((p, q) => p.value - q.value)
    .slice(0, o.refinedStarts);
  let best: { x: Float64Array; value: number } | undefined;
  for (const { theta } of screened) {
    let result;
    try {
      result = minimizeBoxed(objective, theta, { lower, upper, maxIterations: o.maxIterations });
    } catch {
      continue; // numerically hopeless start: the others decide
    }
    if (!best || result.value < best.value) best = result;
  }
  return fromTheta(best?.x ?? (starts[0] as Float64Array), d, groups);
}
