// `grid`: every point of a finite space in a stable order (parameters in spec order, the
// last varying fastest), skipping points already among the trials in any state.
import { SpecError } from '../../src/spec/errors.js';
import type { Assignment } from '../../src/model/trial.js';
import type { StudySpec } from '../../src/spec/types.js';
import { readIntSetting, rejectUnknownSettings } from '../settings.js';
import { assignmentKey, enumerateGrid, gridAxes, type GridAxis } from '../space.js';
import type { SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../types.js';

const NAME = 'grid';
// Katib accepts random_state for grid; the order here is deterministic, so it is unused.
const KNOWN_SETTINGS = ['random_state'];

/** The grid's axes; a double without step has no grid (Katib: "step is nil"). */
function requireAxes(spec: StudySpec): GridAxis[] {
  spec.parameters.forEach((p, i) => {
    if (p.parameterType === 'double' && p.step === undefined) {
      throw new SpecError(`spec.parameters[${i}].feasibleSpace.step`, `required by algorithm "${NAME}" for double parameters`);
    }
  });
  const axes = gridAxes(spec);
  if (axes === undefined) throw new Error('grid: every parameter has a step, yet the space is infinite');
  return axes;
}

export const gridAlgorithm: SuggestionAlgorithm = {
  name: NAME,

  // Unlike Katib, maxTrialCount above the number of points is fine: the study simply ends
  // with SearchSpaceExhausted.
  validate(spec) {
    rejectUnknownSettings(spec, NAME, KNOWN_SETTINGS);
    readIntSetting(spec, 'random_state', { min: 0 });
    requireAxes(spec);
  },

  suggest({ spec, trials, count }: SuggestRequest): SuggestResult {
    const axes = requireAxes(spec);
    const used = new Set(trials.map((t) => assignmentKey(spec, t.assignment)));
    const assignments: Assignment[] = [];
    // Walk lazily; stop at the first free point beyond the batch, which proves the grid is not exhausted.
    for (const point of enumerateGrid(spec, axes)) {
      const key = assignmentKey(spec, point);
      if (used.has(key)) continue;
      if (assignments.length >= count) return { assignments, exhausted: false };
      // Recorded so that steps too fine for 12-digit rounding cannot yield a point twice.
      used.add(key);
      assignments.push(point);
    }
    return { assignments, exhausted: true };
  },
};
