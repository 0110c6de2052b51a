// Reading one curve: values up to a step, the value at a step, the best so far.
import type { Direction } from '../model.js';
import { better, type Curve } from './model.js';

/** The number of reports before `step` (or at it too, when `inclusive`): a binary search over the steps. */
function countBefore(curve: Curve, step: number, inclusive: boolean): number {
  let lo = 0;
  let hi = curve.steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const at = curve.steps[mid]!;
    if (at < step || (inclusive && at === step)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How many of the curve's reports are at or before `step`. */
export const countThrough = (curve: Curve, step: number): number => countBefore(curve, step, true);

/**
 * Prefix sums of a curve's values, computed once per curve object: a completed trial's curve
 * is the same object from one decision to the next, so a running average costs a binary search.
 */
const prefixSums = new WeakMap<Curve, Float64Array>();

function prefixOf(curve: Curve): Float64Array {
  let sums = prefixSums.get(curve);
  if (!sums || sums.length !== curve.values.length + 1) {
    sums = new Float64Array(curve.values.length + 1);
    for (let i = 0; i < curve.values.length; i++) sums[i + 1] = sums[i]! + curve.values[i]!;
    prefixSums.set(curve, sums);
  }
  return sums;
}

/** The mean of the reports at or before `step`, undefined when there is none. */
export function runningAverage(curve: Curve, step: number): number | undefined {
  const n = countThrough(curve, step);
  return n === 0 ? undefined : prefixOf(curve)[n]! / n;
}

/** The best report at or before `step`, undefined when there is none. */
export function bestThrough(direction: Direction, curve: Curve, step: number): number | undefined {
  const n = countThrough(curve, step);
  if (n === 0) return undefined;
  let best = curve.values[0]!;
  for (let i = 1; i < n; i++) best = better(direction, best, curve.values[i]!);
  return best;
}

/** Each curve's lowest and highest report, computed once per curve object (as its prefix sums). */
const extremes = new WeakMap<Curve, { readonly count: number; readonly min: number; readonly max: number }>();

/** The best report of a whole curve, undefined when it has none: a completed trial's costs a lookup after the first. */
export function bestOfCurve(direction: Direction, curve: Curve): number | undefined {
  if (curve.values.length === 0) return undefined;
  let e = extremes.get(curve);
  if (!e || e.count !== curve.values.length) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of curve.values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    e = { count: curve.values.length, min, max };
    extremes.set(curve, e);
  }
  return direction === 'maximize' ? e.max : e.min;
}

/** The first report at or after `step`, with its step; undefined when the curve has not reached it. */
export function firstFrom(curve: Curve, step: number): { step: number; value: number } | undefined {
  const i = countBefore(curve, step, false);
  const at = curve.steps[i];
  return at === undefined ? undefined : { step: at, value: curve.values[i]! };
}

export const lastStep = (curve: Curve): number => curve.steps[curve.steps.length - 1] ?? 0;

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = Float64Array.from(values).sort(); // numeric order, and faster than an array sort
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
