// One CMA-ES search distribution N(m, σ²C) and its update, after Hansen's tutorial
// ("The CMA Evolution Strategy: A Tutorial", 2016) with positive recombination weights only.
// Everything here is plain numbers so that a distribution can be carried in the `state` map
// and replayed bit for bit.
import { compareConstrained } from '../constraints.js';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { Rng } from '../rng.js';

/** The strategy parameters fixed by dimension and population size (tutorial, Table 1). */
export interface StrategyParameters {
  readonly n: number;
  readonly lambda: number;
  readonly mu: number;
  readonly weights: readonly number[];
  readonly mueff: number;
  readonly cs: number;
  readonly ds: number;
  readonly cc: number;
  readonly c1: number;
  readonly cmu: number;
  /** E‖N(0, I)‖. */
  readonly chiN: number;
}

export const defaultPopulationSize = (n: number): number => 4 + Math.floor(3 * Math.log(n));

export function strategyParameters(n: number, lambda: number): StrategyParameters {
  const mu = Math.max(1, Math.floor(lambda / 2));
  const raw = Array.from({ length: mu }, (_, i) => Math.log((lambda + 1) / 2) - Math.log(i + 1));
  const total = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / total);
  const mueff = 1 / weights.reduce((a, w) => a + w * w, 0);
  const cs = (mueff + 2) / (n + mueff + 5);
  const ds = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs;
  const cc = (4 + mueff / n) / (n + 4 + (2 * mueff) / n);
  const c1 = 2 / ((n + 1.3) ** 2 + mueff);
  const cmu = Math.min(1 - c1, (2 * (mueff - 2 + 1 / mueff)) / ((n + 2) ** 2 + mueff));
  const chiN = Math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n * n));
  return { n, lambda, mu, weights, mueff, cs, ds, cc, c1, cmu, chiN };
}

/** The mutable part of CMA-ES: mean, step size, covariance and evolution paths. */
export interface Distribution {
  readonly mean: number[];
  readonly sigma: number;
  readonly C: number[][];
  readonly ps: number[];
  readonly pc: number[];
  /** Updates so far in this run (for the hσ bias correction). */
  readonly updates: number;
}

export function initialDistribution(mean: readonly number[], sigma: number): Distribution {
  const n = mean.length;
  return {
    mean: [...mean],
    sigma,
    C: Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))),
    ps: new Array<number>(n).fill(0),
    pc: new Array<number>(n).fill(0),
    updates: 0,
  };
}

/** C = B·diag(D²)·Bᵀ: B's columns are the principal axes, D the standard deviations along them. */
export interface Eigen {
  readonly B: Matrix;
  readonly D: number[];
}

/** Floor for eigenvalues of C, so that rounding never makes D zero or imaginary. */
const MIN_EIGENVALUE = 1e-30;

export function eigenOf(C: readonly (readonly number[])[]): Eigen {
  const e = new EigenvalueDecomposition(new Matrix(C.map((row) => [...row])), { assumeSymmetric: true });
  return { B: e.eigenvectorMatrix, D: e.realEigenvalues.map((v) => Math.sqrt(Math.max(v, MIN_EIGENVALUE))) };
}

/** Resampling attempts for a point outside [0,1]^n before it is clipped (as the cmaes library does). */
const MAX_RESAMPLES = 100;

/**
 * λ points x = m + σ·B·D·z in [0,1]^n, in order from one stream. A point outside the box is
 * redrawn (up to MAX_RESAMPLES times), then clipped: the box is the search space, and the
 * update only ever sees points that lie in it.
 */
export function sampleGeneration(dist: Distribution, eigen: Eigen, count: number, rng: Rng): Float64Array[] {
  const points: Float64Array[] = [];
  for (let k = 0; k < count; k += 1) {
    let x = samplePoint(dist, eigen, rng);
    for (let attempt = 0; attempt < MAX_RESAMPLES && !inUnitBox(x); attempt += 1) x = samplePoint(dist, eigen, rng);
    points.push(x.map((v) => Math.min(1, Math.max(0, v))));
  }
  return points;
}

function samplePoint(dist: Distribution, { B, D }: Eigen, rng: Rng): Float64Array {
  const n = dist.mean.length;
  const scaled = D.map((d) => d * rng.normal());
  const x = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    let v = 0;
    for (let j = 0; j < n; j += 1) v += B.get(i, j) * (scaled[j] as number);
    x[i] = (dist.mean[i] as number) + dist.sigma * v;
  }
  return x;
}

const inUnitBox = (x: Float64Array): boolean => x.every((v) => v >= 0 && v <= 1);

export interface Evaluated {
  /** The point that was actually evaluated (the trial's assignment, re-encoded). */
  readonly x: Float64Array;
  /** Smaller is better; +∞ for trials that failed. */
  readonly loss: number;
  /** Outcome constraints: 0 when feasible, else how far past its bounds; infeasible ones rank below every feasible one. */
  readonly violation?: number;
  /** Whether x is exactly what this distribution sampled (not rounded, injected or from another distribution). */
  readonly sampledHere: boolean;
}

/**
 * One generation's update (tutorial, eqs. 39–47, positive weights). Points that are not this
 * distribution's own samples (rounded ints, extra batch points, trials from elsewhere) have
 * their step clipped to Mahalanobis length √n + 2n/(n+2), as Hansen (2011, "Injecting external
 * solutions into CMA-ES") advises, so that one odd point cannot blow up the paths.
 */
export function updateDistribution(dist: Distribution, eigen: Eigen, p: StrategyParameters, population: readonly Evaluated[]): Distribution {
  const { n, mu, weights, mueff, cs, ds, cc, c1, cmu, chiN } = p;
  const ranked = [...population].sort((a, b) => compareConstrained({ violation: a.violation ?? 0, loss: a.loss }, { violation: b.violation ?? 0, loss: b.loss })).slice(0, mu);
  const clipLength = clipLengthOf(n);
  const steps = ranked.map((e) => {
    const y = e.x.map((v, i) => (v - (dist.mean[i] as number)) / dist.sigma);
    if (e.sampledHere) return Array.from(y);
    const length = norm(inverseSqrtTimes(eigen, Array.from(y)));
    const scale = length > clipLength ? clipLength / length : 1;
    return Array.from(y, (v) => v * scale);
  });

  const yw = new Array<number>(n).fill(0);
  steps.forEach((y, k) => y.forEach((v, i) => (yw[i] = (yw[i] as number) + (weights[k] as number) * v)));
  const mean = dist.mean.map((m, i) => m + dist.sigma * (yw[i] as number));

  const csFactor = Math.sqrt(cs * (2 - cs) * mueff);
  const whitened = inverseSqrtTimes(eigen, yw);
  const ps = dist.ps.map((v, i) => (1 - cs) * v + csFactor * (whitened[i] as number));
  const psNorm = norm(ps);
  const updates = dist.updates + 1;
  const hsig = psNorm / Math.sqrt(1 - (1 - cs) ** (2 * updates)) < (1.4 + 2 / (n + 1)) * chiN ? 1 : 0;
  const ccFactor = Math.sqrt(cc * (2 - cc) * mueff);
  const pc = dist.pc.map((v, i) => (1 - cc) * v + hsig * ccFactor * (yw[i] as number));

  const deltaH = (1 - hsig) * cc * (2 - cc);
  const decay = 1 + c1 * deltaH - c1 - cmu; // Σw = 1
  const C = dist.C.map((row, i) =>
    row.map((cij, j) => {
      let rankMu = 0;
      steps.forEach((y, k) => (rankMu += (weights[k] as number) * (y[i] as number) * (y[j] as number)));
      return decay * cij + c1 * (pc[i] as number) * (pc[j] as number) + cmu * rankMu;
    }),
  );
  // Symmetric up to rounding: make it exactly so for the eigen decomposition.
  for (let i = 0; i < n; i += 1) {
    for (let j = 0; j < i; j += 1) {
      const v = ((C[i]![j] as number) + (C[j]![i] as number)) / 2;
      C[i]![j] = v;
      C[j]![i] = v;
    }
  }
  const sigma = dist.sigma * Math.exp((cs / ds) * (psNorm / chiN - 1));
  return { mean, sigma, C, ps, pc, updates };
}

/** Whether x lies beyond the step length that updateDistribution clips injected points to. */
export function isBeyondClip(dist: Distribution, eigen: Eigen, x: Float64Array): boolean {
  const n = dist.mean.length;
  const y = Array.from(x, (v, i) => (v - (dist.mean[i] as number)) / dist.sigma);
  return norm(inverseSqrtTimes(eigen, y)) > clipLengthOf(n);
}

const clipLengthOf = (n: number): number => Math.sqrt(n) + (2 * n) / (n + 2);

/** C^{-1/2}·v = B·D⁻¹·Bᵀ·v. */
function inverseSqrtTimes({ B, D }: Eigen, v: readonly number[]): number[] {
  const n = v.length;
  const inner = D.map((d, j) => {
    let s = 0;
    for (let i = 0; i < n; i += 1) s += B.get(i, j) * (v[i] as number);
    return s / d;
  });
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j += 1) s += B.get(i, j) * (inner[j] as number);
    return s;
  });
}

const norm = (v: readonly number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));
