// Hyperband's bracket arithmetic, as Katib's hyperband service computes it, as plain numbers:
// brackets s = s_max … 0, each a run of successive-halving rungs. Nothing here knows trials.
//
// Katib's formulas (pkg/suggestion/v1beta1/hyperband/service.py), with R = r_l:
//   s_max = int(log(R) / log(eta))
//   bracket s: n = ceil((s_max + 1) · eta^s / (s + 1)) configs, r = R · eta^(−s)
//   rung 0 of the bracket: the n configs at resource r;
//   rung i ≥ 1: the top ceil(ceil(n · eta^(−(i−1))) / eta) of rung i−1 at resource r · eta^i.
// Katib keeps n of the *bracket* in those rung sizes (not the size of the previous rung) and
// rounds up, where Li et al. round down (floor(n · eta^(−i))): for eta 3, R 9 the bracket s = 1
// has rungs of 5 and 2 configs in Katib (5 and 1 in the paper). We follow Katib.
//
// Deviations, each for a reason:
// - Float error is guarded (s_max for log(1000)/log(10) = 2.9999999999999996 is 3, not 2; the
//   ceilings and floors below tolerate a relative error of 1e-12).
// - s_max is at least 0, so R < 1 runs one bracket of one config (Katib's int() truncates
//   towards zero, which agrees for R ≥ 1/eta; below that Katib runs nothing at all).
// - The resource of rung i is R · eta^(i−s) from the real r. Katib stores r as int(r) between
//   calls, so with R not a power of eta its later rungs lose resource (R 10, eta 3: 1, 3, 9
//   instead of 1, 3, 10); for R a power of eta (the usual case, and Katib's example) both agree.

/** Relative tolerance for rounding results that are integers up to float error. */
const TOLERANCE = 1e-12;

export const ceilTolerant = (x: number): number => Math.ceil(x - TOLERANCE * Math.max(1, Math.abs(x)));
export const floorTolerant = (x: number): number => Math.floor(x + TOLERANCE * Math.max(1, Math.abs(x)));

/** One successive-halving rung: `size` configs (at most, see promotion) run with `resource`. */
export interface Rung {
  /** The bracket, Katib's `current_s`. */
  readonly bracket: number;
  /** The rung within it, Katib's `current_i`. */
  readonly rung: number;
  /** How many configs Katib's arithmetic gives this rung. */
  readonly size: number;
  /** The resource R · eta^(i−s), unrounded (see resourceValue for what a trial gets). */
  readonly resource: number;
}

/** The largest s ≥ 0 with eta^s ≤ R (up to float error). */
export function maxBracket(rl: number, eta: number): number {
  let s = Math.max(0, Math.floor(Math.log(rl) / Math.log(eta)));
  // The logarithm ratio may land just below or above an integer: settle on the powers.
  const fits = (k: number) => eta ** k <= rl * (1 + TOLERANCE);
  while (fits(s + 1)) s += 1;
  while (s > 0 && !fits(s)) s -= 1;
  return s;
}

/** Configs in the first rung of bracket s. */
export function bracketConfigs(sMax: number, s: number, eta: number): number {
  return ceilTolerant(((sMax + 1) * eta ** s) / (s + 1));
}

/** Katib's size of rung i of a bracket of n configs. */
export function rungSize(n: number, i: number, eta: number): number {
  return i === 0 ? n : ceilTolerant(ceilTolerant(n / eta ** (i - 1)) / eta);
}

/** Every rung of every bracket, in the order Katib runs them: s = s_max first, rungs in order. */
export function hyperbandSchedule(rl: number, eta: number): Rung[] {
  checkArguments(rl, eta);
  const sMax = maxBracket(rl, eta);
  const rungs: Rung[] = [];
  for (let s = sMax; s >= 0; s -= 1) {
    const n = bracketConfigs(sMax, s, eta);
    // Dividing by an exact power keeps R itself exact in the bracket's last rung.
    for (let i = 0; i <= s; i += 1) rungs.push({ bracket: s, rung: i, size: rungSize(n, i, eta), resource: rl / eta ** (s - i) });
  }
  return rungs;
}

/**
 * Trials a whole hyperband run takes when no trial fails (a failed trial is not promoted, so
 * failures can only lower it). A study's maxTrialCount should be at least this, or unset: the
 * study then ends SearchSpaceExhausted after the last rung. Examples: R 9, eta 3 → 23
 * (9+3+1, 5+2, 3); R 2, eta 2 → 5 (2+1, 2); R 8, eta 2 → 36.
 */
export function hyperbandTrialCount(rl: number, eta = 3): number {
  return hyperbandSchedule(rl, eta).reduce((sum, r) => sum + r.size, 0);
}

/**
 * The largest rung, the first of bracket s_max: ceil(eta^s_max), which is the
 * parallelTrialCount Katib's validator asks for. Sibyl cannot check that here (an algorithm
 * never sees parallelTrialCount) and needs no such rule: a smaller one only runs a rung in
 * several waves.
 */
export function largestRung(rl: number, eta = 3): number {
  return Math.max(...hyperbandSchedule(rl, eta).map((r) => r.size));
}

function checkArguments(rl: number, eta: number): void {
  if (!(Number.isFinite(rl) && rl > 0)) throw new RangeError(`hyperband: r_l must be a finite number > 0 (got ${rl})`);
  if (!(Number.isFinite(eta) && eta >= 2)) throw new RangeError(`hyperband: eta must be a finite number ≥ 2 (got ${eta})`);
}
