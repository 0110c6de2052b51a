// Every algorithm's last step in a finite space: a proposal that repeats a point already among
// the trials (or earlier in the batch) is replaced by a random unused point, and the result
// says when no unused point is left. Model-based algorithms can then stay simple: they propose
// where their model points, and this keeps them honest.
import type { Assignment, TrialView } from '../src/model/trial.js';
import type { StudySpec } from '../src/spec/types.js';
import { randomAlgorithm } from './random/index.js';
import { assignmentKey, gridAxes, gridSize, isOnGrid } from './space.js';
import type { SuggestResult } from './types.js';

export function withoutRepeats(spec: StudySpec, trials: readonly TrialView[], proposals: readonly Assignment[], seed: number): SuggestResult {
  const axes = gridAxes(spec);
  if (!axes) return { assignments: [...proposals] };
  const key = (a: Assignment) => assignmentKey(spec, a);
  const used = new Set(trials.map((t) => key(t.assignment)));
  const taken: TrialView[] = [...trials];
  const assignments: Assignment[] = [];
  for (const proposal of proposals) {
    let pick: Assignment | undefined = proposal;
    if (used.has(key(proposal))) {
      pick = randomAlgorithm.suggest({ spec: withoutSettings(spec), trials: taken, count: 1, seed }).assignments[0];
      if (!pick) break;
    }
    used.add(key(pick));
    assignments.push(pick);
    taken.push({ name: '', state: 'CREATED', assignment: pick });
  }
  const onGrid = new Set(taken.filter((t) => isOnGrid(spec, axes, t.assignment)).map((t) => key(t.assignment)));
  return { assignments, exhausted: onGrid.size >= gridSize(axes) };
}

/** The random fallback gets the call's seed, not another algorithm's settings. */
const withoutSettings = (spec: StudySpec): StudySpec => ({ ...spec, algorithm: { algorithmName: 'random', algorithmSettings: [] } });
