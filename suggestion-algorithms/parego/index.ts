// `parego`: ParEGO (Knowles 2006, "ParEGO: a hybrid algorithm with on-line landscape
// approximation for expensive multiobjective optimization problems", IEEE TEC 10(1)) over our
// Gaussian-process BO (`bayesianoptimization`). For each suggestion a weight vector λ is drawn
// uniformly from the simplex (Knowles draws from a lattice of them; a uniform draw covers the
// same simplex without a lattice-size parameter), every finished trial's objectives are
// normalised to [0, 1] by their observed range, and scalarised by the augmented Chebyshev
// function  max_j λ_j f_j + ρ Σ_j λ_j f_j  (ρ = 0.05); the GP then proposes the point that is
// best for that scalarisation. Later suggestions of a batch see the earlier ones as pending
// trials. Weights come from the trial index's own stream, so a restart changes nothing.
// Settings are `bayesianoptimization`'s.
import type { Assignment, SearchSpace, SuggestRequest, SuggestResult, SuggestionAlgorithm, TrialView } from '../model.js';
import { bayesianOptimizationAlgorithm } from '../bayesianoptimization/index.js';
import { normalizedLosses, scoredTrials, directionsOf } from '../objectives.js';
import { Rng } from '../rng.js';

const NAME = 'parego';
const RHO = 0.05;
const WEIGHT_STREAM = 0x70617265;

export const paregoAlgorithm: SuggestionAlgorithm = {
  name: NAME,
  multiObjective: true,

  validateSettings(space, settings) {
    bayesianOptimizationAlgorithm.validateSettings(space, settings);
  },

  suggest(request: SuggestRequest): SuggestResult {
    const { space, trials, count } = request;
    const single: SearchSpace = { parameters: space.parameters, direction: 'minimize' };
    const taken: TrialView[] = [...trials];
    const assignments: Assignment[] = [];
    let state = request.state;
    let exhausted: boolean | undefined;
    for (let i = 0; i < Math.max(0, count); i++) {
      const weights = simplexWeights(directionsOf(space).length, new Rng(request.seed ^ WEIGHT_STREAM, taken.length));
      const result = bayesianOptimizationAlgorithm.suggest({
        ...request, space: single, trials: scalarised(space, taken, weights), count: 1, ...(state ? { state } : {}),
      });
      state = result.state ?? state;
      exhausted = result.exhausted;
      const next = result.assignments[0];
      if (!next) break;
      assignments.push(next);
      taken.push({ name: '', state: 'CREATED', assignment: next });
    }
    return { assignments, ...(state ? { state: { ...state } } : {}), ...(exhausted === undefined ? {} : { exhausted }) };
  },
};

/** A point drawn uniformly from the unit simplex (normalised exponential draws). */
export function simplexWeights(m: number, rng: Rng): number[] {
  const e = Array.from({ length: m }, () => -Math.log(1 - rng.next()));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The trials with each finished one's value replaced by its augmented Chebyshev scalarisation (minimised). */
export function scalarised(space: SearchSpace, trials: readonly TrialView[], weights: readonly number[]): TrialView[] {
  const scored = scoredTrials(space, trials);
  const normalized = normalizedLosses(scored.map((s) => s.loss));
  const value = new Map<TrialView, number>();
  scored.forEach((s, i) => {
    const f = normalized[i]!.map((v, j) => weights[j]! * v);
    value.set(s.trial, Math.max(...f) + RHO * f.reduce((a, b) => a + b, 0));
  });
  return trials.map((t) => {
    const { objectiveValues: _values, objectiveValue: _value, ...rest } = t;
    const v = value.get(t);
    return v === undefined ? rest : { ...rest, objectiveValue: v };
  });
}
