// What model-based algorithms learn from: finished trials as (point, loss) pairs (early-stopped
// ones with the value they reached, which is what made them stop), where the
// loss is always minimised, and active trials as pending points.
import type { Assignment, SearchSpace, TrialView } from './model.js';
import type { UnitCube } from './transform.js';
import { violationOf } from './constraints.js';

export interface Observation {
  readonly assignment: Assignment;
  readonly x: Float64Array;
  /** The objective, negated for maximisation so that smaller is always better. */
  readonly loss: number;
  /** Outcome constraints: 0 when feasible (or unconstrained), else how far past its bounds (Infinity: unknown). */
  readonly violation: number;
}

export interface History {
  readonly observations: Observation[];
  /** Points of CREATED/RUNNING trials: proposals must account for them. */
  readonly pending: Float64Array[];
  readonly pendingAssignments: Assignment[];
}

export const lossOf = (space: SearchSpace, value: number): number => (space.direction === 'maximize' ? -value : value);

export function readHistory(space: SearchSpace, trials: readonly TrialView[], cube: UnitCube): History {
  const observations: Observation[] = [];
  const pending: Float64Array[] = [];
  const pendingAssignments: Assignment[] = [];
  for (const t of trials) {
    const x = cube.encode(t.assignment);
    if (!x) continue; // from another search space (the spec changed): nothing to learn
    if (t.state === 'CREATED' || t.state === 'RUNNING') {
      pending.push(x);
      pendingAssignments.push(t.assignment);
    } else if ((t.state === 'SUCCEEDED' || t.state === 'EARLY_STOPPED') && t.objectiveValue !== undefined && Number.isFinite(t.objectiveValue)) {
      observations.push({ assignment: t.assignment, x, loss: lossOf(space, t.objectiveValue), violation: violationOf(t) });
    }
  }
  return { observations, pending, pendingAssignments };
}
