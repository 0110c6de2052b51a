// How the early-stopping bench reads a study's trace (its trials in the order they ran, each with
// the steps it cost): the steps spent until a finished trial first reached a quality, and the best
// finished trial once a number of steps was spent (anytime performance, the way the Hyperband,
// ASHA and BOHB papers compare multi-fidelity methods at equal compute). A trial's value counts
// from the moment it ends, when every step it ran has been paid for; only trials that ran their
// whole curve count (a stopped trial's model is not a trained model). Pure functions, so the
// rules are tested on hand-made traces (test/learning-curves.test.ts).

/** What the accounting needs of one trial of a trace. */
export interface TraceTrial {
  /** Steps the trial ran (its cost). */
  readonly steps: number;
  /** Ran every step of its curve (not stopped, not cut by the end of the budget). */
  readonly full: boolean;
  /** Its objective value (metric strategy `max` of what it reported). */
  readonly value: number;
}

export interface Reached {
  /** Steps spent, every trial up to and including the one that reached the quality. */
  readonly steps: number;
  /** How many trials had run by then (that one included). */
  readonly trials: number;
}

/** When a full trial first reached `quality` (value ≥ quality), or null if none did. */
export function firstReaching(trace: readonly TraceTrial[], quality: number): Reached | null {
  let spent = 0;
  for (let i = 0; i < trace.length; i++) {
    const t = trace[i]!;
    spent += t.steps;
    if (t.full && t.value >= quality) return { steps: spent, trials: i + 1 };
  }
  return null;
}

/** The best value among the full trials that had ended once `budget` steps were spent; NaN if none had. */
export function bestFullWithin(trace: readonly TraceTrial[], budget: number): number {
  let spent = 0;
  let best = NaN;
  for (const t of trace) {
    spent += t.steps;
    if (spent > budget) break;
    if (t.full && !(t.value <= best)) best = t.value;
  }
  return best;
}

/** The steps a trace spent in all. */
export const totalSteps = (trace: readonly TraceTrial[]): number => trace.reduce((s, t) => s + t.steps, 0);

/**
 * The lower median: a value that at least half of `xs` reach (an interpolated median of an even
 * count may be a quality no study reached). NaN (no full trial) counts as the worst.
 */
export function lowerMedian(xs: readonly number[]): number {
  const sorted = xs.map((x) => (Number.isNaN(x) ? -Infinity : x)).sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
}

/**
 * What the best rule of the kind every policy here is could spend, read on a no-stopping trace
 * (every trial whole, in the order its sampler proposed them): a rule that compares a trial with
 * the best finished one must let a trial finish when it will become the new best, since it cannot
 * tell a new best from one that only looks like it. A clairvoyant such rule runs exactly those
 * trials whole and stops every other one after `stopCost` steps. The steps it spends until a
 * trial reaching `quality` has finished, or null if none does. It is a floor for these trials in
 * this order only: a study with stopping learns from other values and proposes other trials.
 */
export function clairvoyantStepsTo(trace: readonly TraceTrial[], quality: number, stopCost: number): number | null {
  let spent = 0;
  let best = -Infinity;
  for (const t of trace) {
    if (t.full && t.value >= quality) return spent + t.steps;
    if (t.value > best) {
      best = t.value;
      spent += t.steps;
    } else spent += Math.min(stopCost, t.steps);
  }
  return null;
}
