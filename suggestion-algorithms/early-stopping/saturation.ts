// Where a learning curve is heading: least-squares fits of saturating curves to a trial's
// reports and an upper bound of what it would report at a later step.
//
// Two of the parametric families Domhan, Springenberg & Hutter ("Speeding up automatic
// hyperparameter optimization of deep neural networks by extrapolation of learning curves",
// IJCAI 2015) combine: exponential saturation y = a + b·exp(−k·u) and power-law saturation
// y = a + b·u^(−k), with u = step / horizon. For a fixed rate k each is a straight line in
// g = exp(−k·u) or u^(−k), so every rate on a grid is a simple linear regression (variable
// projection; each family's best grid rate is then refined) and the fit never fails to
// converge. The bound is deliberately optimistic, so
// that a curve is only written off when no plausible fit saves it:
//   - `margin` is a one-sided normal quantile z (2: about 97.7%); with the noise estimated from
//     few reports it becomes Student's t for ν = n − 3 degrees of freedom (three fitted
//     parameters), which is much wider for small n (z 2 → t 3.3 at ν = 3, 2.5 at ν = 6);
//   - plausible rates: every (family, k) whose residual sum of squares is within
//     SSE_min · (1 + t² / ν) of the best fit's (the F-test region of a profile likelihood for
//     the one nonlinear parameter);
//   - for each, the regression's prediction at the horizon plus t standard errors of a *report*
//     there (a prediction interval: the fit's own uncertainty and the report's noise, σ² = SSE_min / ν),
//     not of the curve's mean: the bar a trial is held to is a report too (the best completed
//     trial's best one, noise included), so a trial whose mean ends just under it can still
//     report past it, and is not stopped for it;
//   - the bound is the largest of those. A near-linear curve (small k) is extrapolated almost
//     linearly, so a slow starter keeps a high bound; a curve that has visibly flattened has
//     only flat fits left.
// Pure arithmetic on plain arrays.

export type SaturationFamily = 'exponential' | 'power';

export interface SaturationFit {
  readonly family: SaturationFamily;
  /** The rate k (in units of the horizon). */
  readonly rate: number;
  /** The fit's value at the horizon. */
  readonly predicted: number;
  /** The prediction plus t standard errors (`margin` as Student's t): this fit's share of the bound. */
  readonly upper: number;
}

export interface SaturationBound {
  /** The largest upper value over the plausible fits. */
  readonly upper: number;
  /** The plausible fit that gives it. */
  readonly fit: SaturationFit;
  /** The best fit's noise estimate (residual standard deviation). */
  readonly sigma: number;
}

/** Reports needed for a bound: three fitted parameters (a, b, k) and three degrees of freedom for the noise. */
export const MIN_REPORTS = 6;

/**
 * Reports a fit uses at most: a longer curve is thinned to this many, evenly spread and ending
 * at its last report, so a decision's cost does not grow with a trial that reports every
 * iteration (a policy is asked at every report).
 */
export const MAX_FIT_REPORTS = 200;

/** Of the first `count` reports, every ⌈count / MAX_FIT_REPORTS⌉-th (all when fewer), counted back from the last one. */
function thinned<T>(xs: readonly T[], count: number): T[] {
  const stride = Math.max(1, Math.ceil(count / MAX_FIT_REPORTS));
  const kept: T[] = [];
  for (let i = count - 1; i >= 0; i -= stride) kept.push(xs[i]!);
  return kept.reverse();
}

/** Rates on a log grid, wide enough for a curve that is still linear at the horizon (k → 0) and one flat after its first report. */
const EXPONENTIAL_RATES = logGrid(1e-2, 1e3, 61);
const POWER_RATES = logGrid(1e-2, 4, 31);

function logGrid(from: number, to: number, count: number): number[] {
  const ratio = Math.log(to / from);
  return Array.from({ length: count }, (_, i) => from * Math.exp((ratio * i) / (count - 1)));
}

/**
 * Student's t quantile for ν degrees of freedom at the probability of the normal quantile z:
 * the Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5). For ν ≥ 3 (all MIN_REPORTS
 * allows) it is within 1% of the exact value up to z = 2.6 (99.5%); beyond, it falls short
 * (12% at z = 3, ν = 3) and quickly approaches the exact value as ν grows.
 */
export function studentQuantile(z: number, dof: number): number {
  const z2 = z * z;
  const terms = [
    (z2 + 1) * z / 4,
    ((5 * z2 + 16) * z2 + 3) * z / 96,
    (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384,
    ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160,
  ];
  return terms.reduce((t, term, i) => t + term / dof ** (i + 1), z);
}

interface Candidate {
  readonly family: SaturationFamily;
  readonly rate: number;
  readonly line: LineFit;
}

/**
 * The grid's best rate, refined by a golden-section search (on log k) between its neighbours:
 * without it a curve that fits one family exactly but falls between two grid rates would get a
 * tight bound around the wrong rate's prediction.
 */
function refineBest(grid: readonly (Candidate | undefined)[], rates: readonly number[], fit: (rate: number) => Candidate | undefined): Candidate | undefined {
  let best = -1;
  grid.forEach((c, i) => {
    if (c && (best < 0 || c.line.sse < grid[best]!.line.sse)) best = i;
  });
  if (best < 0) return undefined;
  let lo = Math.log(rates[Math.max(0, best - 1)]!);
  let hi = Math.log(rates[Math.min(rates.length - 1, best + 1)]!);
  const sse = (x: number) => fit(Math.exp(x))?.line.sse ?? Infinity;
  const phi = (Math.sqrt(5) - 1) / 2;
  let a = hi - phi * (hi - lo);
  let b = lo + phi * (hi - lo);
  let fa = sse(a);
  let fb = sse(b);
  for (let i = 0; i < 40; i++) {
    if (fa <= fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - phi * (hi - lo);
      fa = sse(a);
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + phi * (hi - lo);
      fb = sse(b);
    }
  }
  const refined = fit(Math.exp(fa <= fb ? a : b));
  return refined && refined.line.sse < grid[best]!.line.sse ? refined : undefined;
}

interface LineFit {
  readonly sse: number;
  /** Prediction at the horizon and its variance factor (variance of the fitted mean there / σ²). */
  readonly predicted: number;
  readonly leverage: number;
}

/** Least squares of y on g (a + b·g); undefined when g hardly varies over the reports (the family degenerates to a constant). */
function fitLine(g: Float64Array, y: readonly number[], gAtHorizon: number): LineFit | undefined {
  const n = y.length;
  let gMean = 0;
  let yMean = 0;
  for (let i = 0; i < n; i++) {
    gMean += g[i]!;
    yMean += y[i]!;
  }
  gMean /= n;
  yMean /= n;
  let sgg = 0;
  let sgy = 0;
  for (let i = 0; i < n; i++) {
    const dg = g[i]! - gMean;
    sgg += dg * dg;
    sgy += dg * (y[i]! - yMean);
  }
  if (!(sgg > 1e-12 * n * Math.max(1, gMean * gMean))) return undefined;
  const b = sgy / sgg;
  const a = yMean - b * gMean;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = y[i]! - (a + b * g[i]!);
    sse += r * r;
  }
  const d = gAtHorizon - gMean;
  return { sse, predicted: a + b * gAtHorizon, leverage: 1 / n + (d * d) / sgg };
}

/**
 * An upper bound of what an increasing-is-better curve would report at `horizon` (a prediction
 * interval), from its first `count` reports (`steps` ascending, `values` alike; all by default:
 * a prefix is read in place, not copied); undefined with fewer than MIN_REPORTS reports. `margin` is the number of standard errors (and sets the plausible region).
 */
export function saturationBound(allSteps: readonly number[], allValues: readonly number[], horizon: number, margin: number, count = allValues.length): SaturationBound | undefined {
  if (count < MIN_REPORTS || allSteps.length !== allValues.length || count > allValues.length) return undefined;
  const steps = thinned(allSteps, count);
  const values = thinned(allValues, count);
  const n = values.length;
  const u = steps.map((s) => s / horizon);
  const families: { family: SaturationFamily; rates: readonly number[]; g: (u: number, k: number) => number }[] = [
    { family: 'exponential', rates: EXPONENTIAL_RATES, g: (x, k) => Math.exp(-k * x) },
  ];
  if (u[0]! > 0) families.push({ family: 'power', rates: POWER_RATES, g: (x, k) => x ** -k }); // u^(−k) needs positive steps
  const candidates: Candidate[] = [];
  for (const f of families) {
    const fit = (rate: number): Candidate | undefined => {
      const line = fitLine(Float64Array.from(u, (x) => f.g(x, rate)), values, f.g(1, rate));
      return line && { family: f.family, rate, line };
    };
    const grid = f.rates.map(fit);
    candidates.push(...grid.filter((c): c is Candidate => c !== undefined));
    const refined = refineBest(grid, f.rates, fit);
    if (refined) candidates.push(refined);
  }
  if (candidates.length === 0) {
    // Every report at one step (or none varies): the curve says nothing about a trend.
    return undefined;
  }
  const dof = n - 3;
  const t = studentQuantile(margin, dof);
  const sseMin = Math.min(...candidates.map((c) => c.line.sse));
  const sigma = Math.sqrt(sseMin / dof);
  const plausible = sseMin * (1 + (t * t) / dof) + 1e-15;
  let bound: SaturationBound | undefined;
  for (const c of candidates) {
    if (c.line.sse > plausible) continue;
    // Variance of a new report at the horizon: the fitted mean's (leverage · σ²) plus its own noise (σ²).
    const upper = c.line.predicted + t * sigma * Math.sqrt(c.line.leverage + 1);
    if (bound === undefined || upper > bound.upper) {
      bound = { upper, sigma, fit: { family: c.family, rate: c.rate, predicted: c.line.predicted, upper } };
    }
  }
  return bound;
}
