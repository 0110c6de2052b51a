// Where a proposal that holds a category, or draws values other than the incumbent's (index.ts),
// puts its range parameters: a local search of those values' own, since the main Gaussian
// follows whichever category ranks best and sits where another may be poor. Per held combination of values it is an elitist (1+1)-ES with
// the 1/5th success rule (Rechenberg 1973; the smooth form of Kern et al. 2004, "Learning
// probability distributions in continuous evolutionary algorithms"), replayed from the finished
// trials with those values in slot order: the best so far is the parent, and σ grows after a
// nearby trial that beat it and shrinks after one that did not. A category has few trials, so
// each step is the best of CANDIDATES draws under a polynomial model of that category's trials
// (surrogate.ts, lq-CMA-ES's pre-screening). No such trial yet: a uniform probe of the box.
import type { Rng } from '../rng.js';
import { eigenOf, initialDistribution, sampleGeneration } from './distribution.js';
import type { Slot } from './replay.js';
import { fitSurrogate } from './surrogate.js';

/** Trials within this many σ·√n of the parent count as the search's own samples. */
const NEARBY = 3;
/** Target success rate of the 1/5th rule. */
const TARGET_SUCCESS = 1 / 5;
/** Draws pre-screened by the surrogate per held proposal (set on a 2-d bowl, not on the bench's seeds). */
const CANDIDATES = 10;

/** A finished trial with a usable, feasible result. */
const usable = (s: Slot): boolean => !s.active && Number.isFinite(s.loss) && (s.violation ?? 0) === 0;

/** The best usable trial so far (first of equals), if any. */
export function bestSlot(slots: readonly Slot[]): Slot | undefined {
  let best: Slot | undefined;
  for (const s of slots) if (usable(s) && (best === undefined || s.loss < best.loss)) best = s;
  return best;
}

/** Whether a slot's choices equal `held` wherever `held` is not −1. */
const holds = (slot: Slot, held: readonly number[]): boolean => held.every((k, j) => k < 0 || slot.choices[j] === k);

/** The (1+1)-ES replayed over `trials` (finished, feasible, in slot order): its parent and step size. */
export function localSearch(trials: readonly Slot[], sigma0: number): { parent: Float64Array; sigma: number } | undefined {
  let parent: Slot | undefined;
  let sigma = sigma0;
  for (const slot of trials) {
    if (parent === undefined) {
      parent = slot;
      continue;
    }
    const success = slot.loss < parent.loss;
    // A trial far from the parent is no sample of this search (the main Gaussian proposed it):
    // it may replace the parent, but says nothing about the step size.
    if (distance(slot.x, parent.x) <= NEARBY * sigma * Math.sqrt(slot.x.length)) {
      const damping = 1 + slot.x.length / 2;
      sigma *= Math.exp(((success ? 1 : 0) - TARGET_SUCCESS) / ((1 - TARGET_SUCCESS) * damping));
    }
    if (success) parent = slot;
  }
  return parent ? { parent: parent.x, sigma: Math.min(1, sigma) } : undefined;
}

/** The range part (unit cube, `n` dimensions) of a proposal that holds the values `held`. */
export function heldPoint(slots: readonly Slot[], held: readonly number[], n: number, sigma0: number, rng: Rng): Float64Array {
  const trials = slots.filter((s) => usable(s) && holds(s, held));
  const local = localSearch(trials, sigma0);
  if (!local) return Float64Array.from({ length: n }, () => rng.next());
  const dist = initialDistribution(Array.from(local.parent), local.sigma);
  const candidates = sampleGeneration(dist, eigenOf(dist.C), CANDIDATES, rng);
  const model = fitSurrogate(trials.map((s) => s.x), trials.map((s) => s.loss));
  if (!model) return candidates[0] as Float64Array;
  let best = candidates[0] as Float64Array;
  let bestValue = model(best);
  for (const c of candidates.slice(1)) {
    const value = model(c);
    if (value < bestValue) [best, bestValue] = [c, value];
  }
  return best;
}

const distance = (a: Float64Array, b: Float64Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - (b[i] as number)) ** 2, 0));
