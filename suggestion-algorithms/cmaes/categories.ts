// The categorical half of CMA-ES's search distribution on mixed spaces, after CatCMA (Hamano,
// Saito, Nomura, Uchida, Shirakawa, GECCO 2024: a joint Gaussian × categorical distribution):
// each categorical or discrete parameter has its own probability vector q over its values,
// sampled independently of the Gaussian, and moved after each generation by the natural
// gradient of the same ranking the Gaussian uses (Δq = η·Σᵢ wᵢ·(onehot(cᵢ) − q) over the μ best,
// the stochastic natural gradient of Shirakawa et al. 2018 / IGO, Ollivier et al. 2017), with
// η = 1/Σ(K−1) as in that stochastic natural gradient. A lower bound q_min =
// (1 − 0.73^{1/N})/(K − 1) on every probability (CatCMA's margin, N = number of categorical
// parameters) keeps every value proposed now and then, so a value whose first points were bad
// is not lost for good. The rate and margin are ours to state here; CatCMA also adapts the
// categorical rate, which we do not.
import type { Rng } from '../rng.js';

/** Per categorical parameter (spec order), the probability of each of its values. */
export type CategoricalDistribution = readonly (readonly number[])[];

export const uniformCategories = (sizes: readonly number[]): number[][] => sizes.map((k) => new Array<number>(k).fill(1 / k));

/** One value index per parameter, drawn from q by inverse CDF. */
export function sampleCategories(q: CategoricalDistribution, rng: Rng): number[] {
  return q.map((probabilities) => {
    const u = rng.next();
    let acc = 0;
    for (let k = 0; k < probabilities.length - 1; k += 1) {
      acc += probabilities[k] as number;
      if (u < acc) return k;
    }
    return probabilities.length - 1;
  });
}

/** CatCMA's margin for a parameter of `values` values among `parameters` categorical parameters. */
export const categoryMargin = (values: number, parameters: number): number => (1 - 0.73 ** (1 / parameters)) / (values - 1);

/**
 * q after one generation: `ranked` are the value indexes of the μ best members in rank order,
 * `weights` their recombination weights (Σ = 1); an index of −1 is an inactive parameter.
 */
export function updateCategories(q: CategoricalDistribution, ranked: readonly (readonly number[])[], weights: readonly number[]): number[][] {
  const freedom = q.reduce((a, p) => a + p.length - 1, 0);
  if (freedom === 0) return q.map((p) => [...p]);
  const rate = 1 / freedom;
  return q.map((p, j) => {
    // Δq = η·Σᵢ wᵢ·(onehot(cᵢ) − q) over the members where the parameter was active (a
    // conditional parameter's inactive members, index −1, say nothing about its values).
    const next = [...p];
    ranked.forEach((choices, i) => {
      const c = choices[j] as number;
      if (c < 0) return;
      const step = rate * (weights[i] as number);
      p.forEach((v, k) => { next[k] = (next[k] as number) - step * v; });
      next[c] = (next[c] as number) + step;
    });
    return withMargin(next, categoryMargin(p.length, q.length));
  });
}

/** Lifts every probability to at least `margin`, taking the mass from the others in proportion to their excess. */
function withMargin(p: number[], margin: number): number[] {
  if (p.length < 2) return p;
  const lifted = p.map((v) => Math.max(v, margin));
  const excess = lifted.reduce((a, v) => a + v, 0) - 1;
  const room = lifted.reduce((a, v) => a + (v - margin), 0);
  return room > 0 ? lifted.map((v) => v - (excess * (v - margin)) / room) : lifted.map(() => 1 / p.length);
}
