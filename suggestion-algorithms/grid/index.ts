// `grid`: every point of a finite space in a stable order (parameters in spec order, the
// last varying fastest), skipping points already among the trials in any state.
import { SettingsError, type Assignment, type SearchSpace, type SuggestRequest, type SuggestResult, type SuggestionAlgorithm } from '../model.js';
import { rejectUnknownSettings, readRandomState } from '../settings.js';
import { assignmentKey, enumerateGrid, gridAxes, type GridAxis } from '../space.js';

const NAME = 'grid';
// Katib accepts random_state for grid; the order here is deterministic, so it is unused.
const KNOWN_SETTINGS = ['random_state'];

/** The grid's axes; a double without step has no grid (Katib: "step is nil"). */
function requireAxes(space: SearchSpace): GridAxis[] {
  space.parameters.forEach((p, i) => {
    if (p.parameterType === 'double' && p.step === undefined) {
      throw new SettingsError({ parameter: i, field: 'step' }, `required by algorithm "${NAME}" for double parameters`);
    }
  });
  const axes = gridAxes(space);
  if (axes === undefined) throw new Error('grid: every parameter has a step, yet the space is infinite');
  return axes;
}

export const gridAlgorithm: SuggestionAlgorithm = {
  name: NAME,
  multiObjective: true, // it never reads values

  // Unlike Katib, maxTrialCount above the number of points is fine: the study simply ends
  // with SearchSpaceExhausted.
  validateSettings(space, settings) {
    rejectUnknownSettings(settings, NAME, KNOWN_SETTINGS);
    readRandomState(settings);
    requireAxes(space);
  },

  suggest({ space, trials, count }: SuggestRequest): SuggestResult {
    const axes = requireAxes(space);
    const used = new Set(trials.map((t) => assignmentKey(space, t.assignment)));
    const assignments: Assignment[] = [];
    // Walk lazily; stop at the first free point beyond the batch, which proves the grid is not exhausted.
    for (const point of enumerateGrid(space, axes)) {
      const key = assignmentKey(space, point);
      if (used.has(key)) continue;
      if (assignments.length >= count) return { assignments, exhausted: false };
      // Recorded so that steps too fine for 12-digit rounding cannot yield a point twice.
      used.add(key);
      assignments.push(point);
    }
    return { assignments, exhausted: true };
  },
};
