// Categorical (and discrete) parameters in the GP's proposals.
//
// Model: the GP's kernel sees a choice parameter as categories, not as numbers: its one-hot
// columns share one lengthscale (gp.ts, `groups`), so the distance between two values is
// [a ≠ b]·√2/ℓ whatever the values are — the overlap (Hamming) kernel inside the Matérn, as
// Optuna 4's GPSampler and CASMOPOLITAN (Wan et al. 2021) use it.
//
// Search: the acquisition is maximised over the categories too: candidates carry random values,
// perturbations flip them, and the best candidates are polished by trying every value of each
// free choice parameter in turn between continuous refinements (optimize.ts, `polish`), as
// Optuna's mixed optimiser does.
//
// Exploration: the GP shares its continuous lengthscales across categories, so two unlucky
// points in a category make the whole category look known and bad, and the acquisition never
// returns there (measured on bench/mixed.ts: 0–3 of 30 proposals in the hidden best value).
// So each choice parameter is, with probability ε_t, held at a uniformly drawn value for that
// proposal, the acquisition then choosing the rest: ε-greedy at the level of categories
// (De Ath et al. 2021, "Greed is good", show ε-greedy competitive for BO), with ε_t the anytime
// EXP3 rate √(C ln C / ((e − 1) t)) that CoCaBO (Ru et al. 2020) uses for its category bandits,
// so exploration fades as trials accumulate (the rate lives in ../exploration.ts, shared with tpe).
import type { Rng } from '../rng.js';
import type { Layout } from './optimize.js';
import { explorationRate } from '../exploration.js';

export { explorationRate };

/** Per choice parameter (layout order): the value index it is held at, or undefined when free. */
export type HeldValues = readonly (number | undefined)[];

/** Draws which choice parameters are held for one proposal, and at which value. */
export function drawHeldValues(l: Layout, observations: number, rng: Rng): HeldValues {
  return l.choices.map((c) => (rng.next() < explorationRate(c.size, observations) ? rng.int(c.size) : undefined));
}

/** Sets the held choice columns of x (in place). */
export function holdValues(l: Layout, x: Float64Array, held: HeldValues): Float64Array {
  l.choices.forEach((c, p) => {
    const v = held[p];
    if (v === undefined) return;
    x.fill(0, c.index, c.index + c.size);
    x[c.index + v] = 1;
  });
  return x;
}

/** The value index of choice parameter p in x. */
export function valueOf(l: Layout, x: ArrayLike<number>, p: number): number {
  const { index, size } = l.choices[p]!;
  let best = 0;
  for (let k = 1; k < size; k++) if ((x[index + k] as number) > (x[index + best] as number)) best = k;
  return best;
}
