// The surrogate for one suggest call: a training subset that keeps the cost bounded as the
// history grows, standardised (and power-warped) losses, MAP hyperparameters, and the "fantasy" points (pending
// trials and points already chosen in this batch) added with a lie so that a batch spreads out.
import type { Rng } from '../rng.js';
import type { Observation } from '../history.js';
import { warpLosses } from './warping.js';
import { conditionGp, fitHyperparameters, predict, type GaussianProcess, type Hyperparameters, type LengthscaleGroups } from './gp.js';

/** Above this many observations the GP sees the best KEEP_BEST plus a space-filling rest. */
export const MAX_TRAINING_POINTS = 300;
const KEEP_BEST = 100;
/** Hyperparameters are fitted on at most this many of the training points (the fit is O(n³) per step). */
export const MAX_FIT_POINTS = 80;
/** Starting points screened by value: the default, the previous optimum (if any) and these random ones. */
const FIT_RANDOM_STARTS = 4;
const FIT_MAX_ITERATIONS = 30;

export interface TrainingSet {
  readonly x: Float64Array[];
  /** Standardised losses (mean 0, sd 1). */
  readonly y: Float64Array;
  readonly best: number;
  /** Outcome constraints: each point's violation (0 feasible), and the best feasible y (+∞ while none is). */
  readonly violation: Float64Array;
  readonly feasibleBest: number;
}

/** Indices of the best `keep` losses followed by a greedy farthest-point fill up to `limit`. */
export function selectSubset(observations: readonly Observation[], limit: number, keep: number): number[] {
  const order = observations.map((_, i) => i).sort((a, b) => observations[a]!.loss - observations[b]!.loss);
  if (observations.length <= limit) return order;
  const chosen = order.slice(0, keep);
  const minDistance = new Float64Array(observations.length).fill(Infinity);
  const taken = new Uint8Array(observations.length);
  const update = (c: number) => {
    taken[c] = 1;
    const xc = observations[c]!.x;
    observations.forEach((o, i) => {
      if (taken[i]) return;
      let s = 0;
      for (let j = 0; j < xc.length; j++) s += ((o.x[j] as number) - (xc[j] as number)) ** 2;
      if (s < (minDistance[i] as number)) minDistance[i] = s;
    });
  };
  chosen.forEach(update);
  while (chosen.length < limit) {
    let far = -1;
    for (let i = 0; i < observations.length; i++) if (!taken[i] && (far < 0 || (minDistance[i] as number) > (minDistance[far] as number))) far = i;
    chosen.push(far);
    update(far);
  }
  return chosen;
}

export function trainingSet(observations: readonly Observation[]): TrainingSet {
  const subset = selectSubset(observations, MAX_TRAINING_POINTS, KEEP_BEST);
  const y = warpLosses(subset.map((i) => observations[i]!.loss));
  const violation = Float64Array.from(subset, (i) => observations[i]!.violation);
  const feasibleBest = Math.min(...Array.from(y).filter((_, k) => violation[k] === 0));
  return { x: subset.map((i) => observations[i]!.x), y, best: Math.min(...y), violation, feasibleBest };
}

export function fitSurrogate(t: TrainingSet, d: number, rng: Rng, warmStart: Hyperparameters | undefined, groups?: LengthscaleGroups): Hyperparameters {
  // The training set starts with the best points, so a prefix keeps the region that matters.
  const n = Math.min(t.x.length, MAX_FIT_POINTS);
  return fitHyperparameters(t.x.slice(0, n), t.y.slice(0, n), d, rng, {
    randomStarts: FIT_RANDOM_STARTS,
    // Refining a start costs ~30 likelihood evaluations; refining the best screened start only
    // (usually the warm start) measured the same regret as refining two, at ~60% of the latency.
    refinedStarts: 1,
    maxIterations: FIT_MAX_ITERATIONS,
    ...(warmStart ? { warmStart } : {}),
    ...(groups ? { groups } : {}),
  });
}

/**
 * The GP on the training set plus fantasies. Each fantasy's lie is the current posterior mean
 * there, floored at the best observed loss (a pessimistic kriging believer): the posterior
 * variance collapses at the point, and a lie no better than the incumbent keeps EI/PI/LCB from
 * piling onto it.
 */
export class FantasyModel {
  private readonly x: Float64Array[];
  private readonly y: number[];
  gp: GaussianProcess;

  constructor(
    t: TrainingSet,
    readonly hyper: Hyperparameters,
    pending: readonly Float64Array[],
  ) {
    this.x = [...t.x];
    this.y = [...t.y];
    this.gp = conditionGp(this.x, this.y, hyper);
    if (pending.length > 0) {
      const { mean } = predict(this.gp, pending);
      pending.forEach((p, i) => {
        this.x.push(p);
        this.y.push(Math.max(mean[i] as number, t.best));
      });
      this.gp = conditionGp(this.x, this.y, hyper);
    }
    this.best = t.best;
  }

  readonly best: number;

  /** Adds a point chosen for this batch (the cholesky is recomputed; hyperparameters stay). */
  addFantasy(p: Float64Array): void {
    const { mean } = predict(this.gp, [p]);
    this.x.push(p);
    this.y.push(Math.max(mean[0] as number, this.best));
    this.gp = conditionGp(this.x, this.y, this.hyper);
  }
}
