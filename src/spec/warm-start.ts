// `spec.warmStart`: which completed trials of the prior study become the new study's prior
// observations. The prior study must measure the same objective metric and have every
// parameter of the new space under the same name and type (it may have more: they are left out
// of the assignments). A trial is kept when it completed with an objective value (SUCCEEDED or
// EARLY_STOPPED) and each of its values lies in the new space (assignment.ts's check); trials
// with a value outside (a narrower range, a shorter list, another step) are dropped, not
// clipped, so the model never learns a value at a point that was not measured there. Beyond
// LIMITS.maxPriorTrials, the best ones are kept.
import type { Assignment, ParamValue, TrialView } from '../../suggestion-algorithms/model.js';
import { LIMITS } from '../model/limits.js';
import { coerce, valueProblem } from './assignment.js';
import { pruneInactive, treeProblem } from '../../suggestion-algorithms/conditions.js';
import { SpecError } from './errors.js';
import type { StudySpec } from './types.js';

export interface PriorObservation {
  readonly name: string;
  readonly assignment: Assignment;
  readonly objectiveValue: number;
}

const FIELD = 'spec.warmStart.study';

export function priorObservations(spec: StudySpec, prior: { readonly name: string; readonly spec: StudySpec }, trials: readonly TrialView[]): PriorObservation[] {
  const metric = spec.objective.objectiveMetricName;
  if (prior.spec.objective.objectiveMetricName !== metric) {
    throw new SpecError(FIELD, `study "${prior.name}" measures "${prior.spec.objective.objectiveMetricName}", not this study's objective "${metric}"`);
  }
  spec.parameters.forEach((p, i) => {
    const theirs = prior.spec.parameters.find((q) => q.name === p.name);
    if (!theirs) throw new SpecError(FIELD, `study "${prior.name}" has no parameter "${p.name}" (spec.parameters[${i}]): its trials cannot be placed in this space`);
    if (theirs.parameterType !== p.parameterType) {
      throw new SpecError(FIELD, `parameter "${p.name}" is ${theirs.parameterType} in study "${prior.name}" but ${p.parameterType} here (spec.parameters[${i}])`);
    }
  });
  const space = { parameters: spec.parameters, direction: spec.objective.type };
  const conditional = spec.parameters.some((p) => p.condition !== undefined);
  const kept: PriorObservation[] = [];
  for (const t of trials) {
    if ((t.state !== 'SUCCEEDED' && t.state !== 'EARLY_STOPPED') || t.objectiveValue === undefined || !Number.isFinite(t.objectiveValue)) continue;
    const values: Record<string, ParamValue> = {};
    const inside = spec.parameters.every((p) => {
      if (t.assignment[p.name] === undefined && conditional) return true; // inactive there; the tree decides below
      const v = coerce(p, t.assignment[p.name]);
      if (v === undefined || valueProblem(p, v) !== undefined) return false;
      values[p.name] = v;
      return true;
    });
    if (!inside) continue;
    // In a conditional space a prior keeps the values its tree makes active, and must have them all.
    const assignment = conditional ? pruneInactive(space, values) : values;
    if (conditional && treeProblem(space, assignment) !== undefined) continue;
    kept.push({ name: t.name, assignment, objectiveValue: t.objectiveValue });
  }
  if (kept.length <= LIMITS.maxPriorTrials) return kept;
  const sign = spec.objective.type === 'minimize' ? 1 : -1;
  const best = new Set([...kept].sort((a, b) => sign * (a.objectiveValue - b.objectiveValue)).slice(0, LIMITS.maxPriorTrials));
  return kept.filter((o) => best.has(o));
}
