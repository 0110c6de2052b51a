// A Parzen estimator after Optuna's _ParzenEstimator: a weighted mixture with one kernel per
// observation plus a prior kernel, over some of the parameters (one for univariate TPE, all
// for multivariate). Points live in "parameter space": one value per parameter, numeric ones
// in [0,1] (the unit-cube scale) and categorical ones as the choice index.
// - numeric: a Gaussian truncated to [0,1] per observation; bandwidth from the neighbours'
//   distances (univariate) or Scott-like 0.2·n^(-1/(d+4)) (multivariate), clipped to
//   [1/min(100, n+2), 1] (Optuna's "magic clip"). The prior kernel is Optuna's too: a Gaussian
//   centred on the range (0.5) as wide as the range (sigma 1), truncated to [0,1]. Scores are
//   Optuna 3.1's, Jacobian bug included: its truncnorm.logpdf drops −log(sigma), so a kernel
//   scores sigma times its density (wide kernels weigh more; samples follow the true mixture).
// - numeric on a grid (int or stepped, linear scale): as in Optuna 3.1, a point's density is
//   the kernel's mass over the point's grid cell (half a step either side, clipped to [0,1])
//   over its mass on [0,1], so candidates must be snapped to the grid before scoring.
// - categorical: each observation's kernel puts mass 1 on its choice and prior_weight/(n+1) on
//   every choice (normalised); the prior kernel is uniform.
// Everything a density evaluation needs is precomputed per kernel in Float64Arrays, so scoring
// a candidate costs one multiply-add per kernel and continuous dimension plus one exp per
// kernel; a grid dimension costs a Gaussian cell mass per kernel.
import type { Rng } from '../rng.js';

export type ParamKind =
  | {
      readonly kind: 'numeric';
      /**
       * Half the grid step on the [0,1] scale for int and stepped parameters on a linear scale:
       * a point then stands for its whole cell. Absent for continuous (and log-scale) ones.
       */
      readonly halfCell?: number;
    }
  | { readonly kind: 'categorical'; readonly size: number };

/** Observations in parameter space: `n` rows of `kinds.length` values, with their (unnormalised) weights. */
export interface Group {
  readonly rows: Float64Array;
  readonly n: number;
  readonly weights: Float64Array;
}

export interface ParzenOptions {
  readonly priorWeight: number;
  readonly bandwidth: 'neighbours' | 'scott';
}

interface NumericDim {
  readonly param: number;
  readonly mu: Float64Array;
  readonly sigma: Float64Array;
  readonly invSigma: Float64Array;
  /** Half a grid cell on the [0,1] scale; 0 for a continuous parameter. */
  readonly halfCell: number;
}

interface CategoricalDim {
  readonly param: number;
  readonly size: number;
  /** The observed choice per kernel; -1 for the prior kernel. */
  readonly choice: Int32Array;
  /** log p(observed choice) − log p(any other choice) of an observation's kernel. */
  readonly hitBonus: number;
  /** Probability that an observation's kernel yields its own choice rather than a uniform one. */
  readonly hitMass: number;
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const SQRT2 = Math.SQRT2;
/** Rejection draws for a truncated Gaussian; each succeeds with probability ≥ 0.34 (sigma ≤ 1, mu in [0,1]). */
const TRUNCATION_ATTEMPTS = 100;
/** Bounds of Optuna's magic clip: sigma ≥ 1/min(100, n+2) on a unit range. */
const MAX_CLIP_DIVISOR = 100;
const SCOTT_MAGNITUDE = 0.2;
const NEGLIGIBLE_LOG_RATIO = -40;
/** Optuna's prior kernel on the [0,1] scale: centre of the range, sigma = the range. */
const PRIOR_MU = 0.5;
const PRIOR_SIGMA = 1;

export class ParzenEstimator {
  private readonly width: number;
  private readonly kernels: number;
  private readonly cumulative: Float64Array;
  /** Per kernel: log weight plus every term that does not depend on the point. */
  private readonly base: Float64Array;
  private readonly numeric: NumericDim[] = [];
  private readonly categorical: CategoricalDim[] = [];

  /** `params` are the indexes (into `kinds`) this estimator models jointly. */
  constructor(kinds: readonly ParamKind[], params: readonly number[], group: Group, options: ParzenOptions) {
    const n = group.n;
    this.width = kinds.length;
    this.kernels = n + 1;
    const prior = n; // the last kernel
    const logWeights = kernelLogWeights(group, options.priorWeight);
    this.base = Float64Array.from(logWeights);
    this.cumulative = new Float64Array(this.kernels);
    let acc = 0;
    for (let k = 0; k < this.kernels; k++) this.cumulative[k] = acc += Math.exp(logWeights[k] as number);

    for (const param of params) {
      const kind = kinds[param] as ParamKind;
      const values = column(group, param, this.width);
      if (kind.kind === 'numeric') {
        const sigma = new Float64Array(this.kernels);
        sigma.set(options.bandwidth === 'neighbours' ? neighbourBandwidths(values) : scottBandwidths(n, kinds.length));
        const minSigma = 1 / Math.min(MAX_CLIP_DIVISOR, n + 2);
        const mu = new Float64Array(this.kernels);
        const invSigma = new Float64Array(this.kernels);
        const halfCell = kind.halfCell ?? 0;
        for (let k = 0; k < this.kernels; k++) {
          const m = k === prior ? PRIOR_MU : (values[k] as number);
          const s = k === prior ? PRIOR_SIGMA : Math.min(1, Math.max(minSigma, sigma[k] as number));
          mu[k] = m;
          sigma[k] = s;
          invSigma[k] = 1 / s;
          // Truncation to [0,1]. A continuous kernel is Optuna 3.1's truncnorm.logpdf, which
          // leaves out the Jacobian −log s: each kernel counts s times its true density, so wide
          // kernels (the prior, isolated observations) weigh more in both l(x) and g(x). That
          // bias is part of the sampler we reproduce (its scores, hence its choices).
          let term = -logGaussMass(-m / s, (1 - m) / s);
          if (halfCell === 0) term -= LOG_SQRT_2PI;
          this.base[k] = (this.base[k] as number) + term;
        }
        this.numeric.push({ param, mu, sigma, invSigma, halfCell });
      } else {
        const size = kind.size;
        const smoothing = options.priorWeight / this.kernels;
        const total = size * smoothing + 1;
        const choice = new Int32Array(this.kernels);
        for (let k = 0; k < n; k++) choice[k] = values[k] as number;
        choice[prior] = -1;
        const logMiss = Math.log(smoothing / total);
        for (let k = 0; k < n; k++) this.base[k] = (this.base[k] as number) + logMiss;
        this.base[prior] = (this.base[prior] as number) - Math.log(size);
        this.categorical.push({ param, size, choice, hitBonus: Math.log((smoothing + 1) / total) - logMiss, hitMass: 1 / total });
      }
    }
  }

  /** Draws one point from the mixture into `rows` (row `row`), for this estimator's parameters only. */
  sample(rng: Rng, rows: Float64Array, row: number): void {
    const k = this.pickKernel(rng.next());
    const prior = k === this.kernels - 1;
    const at = row * this.width;
    for (const d of this.numeric) rows[at + d.param] = truncatedGaussian(rng, d.mu[k] as number, d.sigma[k] as number);
    for (const d of this.categorical) {
      const own = d.choice[k] as number;
      rows[at + d.param] = !prior && rng.next() < d.hitMass ? own : rng.int(d.size);
    }
  }

  /**
   * log density of each of the first `m` rows of `rows`, written to `out`. Values of grid
   * parameters must be on their grid (cell centres): each stands for its cell.
   */
  logPdf(rows: Float64Array, m: number, out: Float64Array): void {
    const kernels = this.kernels;
    const scratch = new Float64Array(kernels);
    for (let r = 0; r < m; r++) {
      const at = r * this.width;
      scratch.set(this.base);
      for (const d of this.numeric) {
        const x = rows[at + d.param] as number;
        const { mu, invSigma, halfCell } = d;
        if (halfCell === 0) {
          for (let k = 0; k < kernels; k++) {
            const z = (x - (mu[k] as number)) * (invSigma[k] as number);
            scratch[k] = (scratch[k] as number) - 0.5 * z * z;
          }
        } else {
          const lo = Math.max(0, x - halfCell);
          const hi = Math.min(1, x + halfCell);
          for (let k = 0; k < kernels; k++) {
            const mk = mu[k] as number;
            const inv = invSigma[k] as number;
            scratch[k] = (scratch[k] as number) + logGaussMass((lo - mk) * inv, (hi - mk) * inv);
          }
        }
      }
      for (const d of this.categorical) {
        const x = rows[at + d.param] as number;
        const { choice, hitBonus } = d;
        for (let k = 0; k < kernels; k++) if (choice[k] === x) scratch[k] = (scratch[k] as number) + hitBonus;
      }
      out[r] = logSumExp(scratch);
    }
  }

  private pickKernel(u: number): number {
    const target = u * (this.cumulative[this.kernels - 1] as number);
    let lo = 0;
    let hi = this.kernels - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] as number) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** Normalised log weights of the observations followed by the prior's (the prior alone when empty). */
function kernelLogWeights(group: Group, priorWeight: number): Float64Array {
  const out = new Float64Array(group.n + 1);
  if (group.n === 0) return out; // log 1
  let total = priorWeight;
  for (let k = 0; k < group.n; k++) total += group.weights[k] as number;
  for (let k = 0; k < group.n; k++) out[k] = Math.log((group.weights[k] as number) / total);
  out[group.n] = Math.log(priorWeight / total);
  return out;
}

function column(group: Group, param: number, width: number): Float64Array {
  const out = new Float64Array(group.n);
  for (let k = 0; k < group.n; k++) out[k] = group.rows[k * width + param] as number;
  return out;
}

/**
 * Optuna's univariate rule: each kernel is as wide as the larger gap to its neighbours (the
 * prior's centre 0.5 and the ends 0 and 1 count as neighbours), except that the outermost
 * kernels look inwards only.
 */
function neighbourBandwidths(values: Float64Array): Float64Array {
  const n = values.length;
  const m = n + 1;
  const withPrior = new Float64Array(m);
  withPrior.set(values);
  withPrior[n] = 0.5;
  const sorted = withPrior.slice().sort(); // native numeric sort: much faster than an index sort with a comparator
  const ends = new Float64Array(m + 2); // 0, sorted values, 1
  ends.set(sorted, 1);
  ends[m + 1] = 1;
  const sortedSigmas = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    sortedSigmas[i] = Math.max((ends[i + 1] as number) - (ends[i] as number), (ends[i + 2] as number) - (ends[i + 1] as number));
  }
  if (m >= 2) {
    sortedSigmas[0] = (ends[2] as number) - (ends[1] as number);
    sortedSigmas[m - 1] = (ends[m] as number) - (ends[m - 1] as number);
  }
  // Rank of each value: its first position among equal values plus how many equal ones came
  // before it, i.e. the stable argsort's inverse.
  const taken = new Int32Array(m);
  const sigmas = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const first = lowerBound(sorted, values[i] as number);
    const before = taken[first] as number;
    taken[first] = before + 1;
    sigmas[i] = sortedSigmas[first + before] as number;
  }
  return sigmas;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Optuna's multivariate rule: one width for every kernel, shrinking with n like Scott's rule. */
function scottBandwidths(n: number, dims: number): Float64Array {
  return new Float64Array(n).fill(SCOTT_MAGNITUDE * Math.max(n, 1) ** (-1 / (dims + 4)));
}

/** log Q(x) = log P(Z > x) for x ≥ 0, from the log of a complementary error function. */
function logUpperTail(x: number): number {
  return logErfc(x / SQRT2) - Math.LN2;
}

/**
 * log erfc(z) for z ≥ 0 (Numerical Recipes' erfcc, relative error < 1.2e-7 everywhere) kept in
 * log form, so it never underflows however deep in the tail.
 */
function logErfc(z: number): number {
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.log(t) - z * z + poly;
}

/**
 * log P(a < Z < b) for a standard normal Z (Optuna's _log_gauss_mass): narrow intervals by
 * Simpson's rule, the others from tail probabilities on the side where they do not cancel.
 */
export function logGaussMass(a: number, b: number): number {
  const w = b - a;
  if (!(w > 0)) return -Infinity;
  const mid = 0.5 * (a + b);
  if (w * Math.max(1, Math.abs(mid)) < 0.1) {
    const m2 = mid * mid;
    return Math.log(w / 6) - 0.5 * m2 - LOG_SQRT_2PI + Math.log(4 + Math.exp(0.5 * (m2 - a * a)) + Math.exp(0.5 * (m2 - b * b)));
  }
  if (a >= 0) return logDiff(logUpperTail(a), logUpperTail(b));
  if (b <= 0) return logDiff(logUpperTail(-b), logUpperTail(-a));
  // Straddling 0: 1 − P(Z < a) − P(Z > b), both tails at most one half.
  return Math.log1p(-Math.exp(logUpperTail(-a)) - Math.exp(logUpperTail(b)));
}

/** log(e^p − e^q) for p ≥ q. */
function logDiff(p: number, q: number): number {
  return q === -Infinity ? p : p + Math.log1p(-Math.exp(q - p));
}

function truncatedGaussian(rng: Rng, mu: number, sigma: number): number {
  for (let i = 0; i < TRUNCATION_ATTEMPTS; i++) {
    const x = mu + sigma * rng.normal();
    if (x >= 0 && x <= 1) return x;
  }
  return Math.min(1, Math.max(0, mu));
}

function logSumExp(xs: Float64Array): number {
  let max = -Infinity;
  for (let k = 0; k < xs.length; k++) if ((xs[k] as number) > max) max = xs[k] as number;
  if (max === -Infinity) return max;
  let sum = 0;
  for (let k = 0; k < xs.length; k++) {
    const d = (xs[k] as number) - max;
    if (d > NEGLIGIBLE_LOG_RATIO) sum += Math.exp(d); // far kernels add < 1e-17 relative: skip their exp
  }
  return max + Math.log(sum);
}
