// How often a model-based algorithm holds a categorical parameter at a uniformly drawn value
// instead of the value its model prefers (ε-greedy over categories). A model that has seen a
// few bad points in a category judges the whole category bad and never returns to it; a value
// that is only good in a small region is then never found. ε_t is the anytime EXP3 rate
// √(C ln C / ((e − 1) t)) that CoCaBO (Ru et al. 2020, "Bayesian optimisation over multiple
// continuous and categorical inputs") uses for its category bandits, so exploration fades as
// trials accumulate (≈0.28 for 4 values at 40 trials, 0.18 at 100). ε-greedy itself is
// competitive in BO (De Ath et al. 2021, "Greed is good").

/** Exploration rate for a parameter of `values` values after `observations` finished trials. */
export function explorationRate(values: number, observations: number): number {
  if (values < 2) return 0;
  return Math.min(1, Math.sqrt((values * Math.log(values)) / ((Math.E - 1) * Math.max(1, observations))));
}
