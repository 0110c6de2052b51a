// Every algorithm's last step in a finite space: a proposal that repeats a point already among
// the trials (or earlier in the batch) is replaced by a random unused point, and the result
// says when no unused point is left. Model-based algorithms can then stay simple: they propose
// where their model points, and this keeps them honest. In a conditional space it is also where
// their proposals lose their inactive parameters.
import type { Assignment, SearchSpace, SuggestResult, TrialView } from './model.js';
import { randomAlgorithm } from './random/index.js';
import { pruneInactive } from './conditions.js';
import { assignmentKey, gridAxes, isOnGrid, pointCount } from './space.js';

export function withoutRepeats(space: SearchSpace, trials: readonly TrialView[], drawn: readonly Assignment[], seed: number): SuggestResult {
  // Model-based algorithms see a tree as its flat space (inactive values imputed, transform.ts):
  // what they propose loses its inactive parameters here.
  const proposals = drawn.map((a) => pruneInactive(space, a));
  const axes = gridAxes(space);
  if (!axes) return { assignments: [...proposals] };
  const key = (a: Assignment) => assignmentKey(space, a);
  const used = new Set(trials.map((t) => key(t.assignment)));
  const taken: TrialView[] = [...trials];
  const assignments: Assignment[] = [];
  for (const proposal of proposals) {
    let pick: Assignment | undefined = proposal;
    if (used.has(key(proposal))) {
      // The random fallback gets the call's seed, not another algorithm's settings.
      pick = randomAlgorithm.suggest({ space, trials: taken, count: 1, seed, settings: [] }).assignments[0];
      if (!pick) break;
    }
    used.add(key(pick));
    assignments.push(pick);
    taken.push({ name: '', state: 'CREATED', assignment: pick });
  }
  const onGrid = new Set(taken.filter((t) => isOnGrid(space, axes, t.assignment)).map((t) => key(t.assignment)));
  return { assignments, exhausted: onGrid.size >= pointCount(space, axes) };
}
