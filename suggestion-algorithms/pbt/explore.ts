// pbt's explore step: a copied assignment is changed a little (perturbed) or, per parameter
// with `resample_probability`, drawn afresh from the space. Katib's definitions, made to keep
// every value feasible: numbers are scaled by 0.8 or 1.2 (chosen at random) and clipped to
// [min, max]; on a step grid they are snapped to the nearest grid point, and a scaling that
// snapping would undo moves one step instead (Katib truncates ints, so 1 × 1.2 stayed 1 and
// such values never moved). Lists move to a neighbouring item: categorical lists wrap around
// their ends as Katib's do; discrete (ordered numbers) move inwards at an end.
import type { Assignment, CategoricalParameter, DiscreteParameter, Parameter, ParamValue, RangeParameter, SearchSpace } from '../model.js';
import type { Rng } from '../rng.js';
import { pruneInactive } from '../conditions.js';
import { gridAxis, normalizeValue, roundSignificant, sampleParameter } from '../space.js';

export const PERTURB_FACTORS = [0.8, 1.2] as const;

function perturbRange(p: RangeParameter, value: number, rng: Rng): number {
  const factor = PERTURB_FACTORS[rng.int(2)] as number;
  const scaled = Math.min(p.max, Math.max(p.min, value * factor));
  const step = p.step ?? (p.parameterType === 'int' ? 1 : undefined);
  const axis = gridAxis(p);
  if (step === undefined || axis === undefined) return Math.min(p.max, Math.max(p.min, roundSignificant(scaled)));
  let k = Math.min(axis.size - 1, Math.max(0, Math.round((scaled - p.min) / step)));
  const from = Math.round((value - p.min) / step);
  if (k === from && scaled !== value) k = Math.min(axis.size - 1, Math.max(0, k + Math.sign(scaled - value)));
  return axis.valueAt(k) as number;
}

function neighbour(p: DiscreteParameter | CategoricalParameter, value: ParamValue, rng: Rng): ParamValue {
  const list: readonly ParamValue[] = p.list;
  const at = list.indexOf(value);
  if (at < 0) return sampleParameter(p, rng); // a value from another space: start afresh
  if (list.length === 1) return value;
  const direction = rng.int(2) === 0 ? -1 : 1;
  if (p.parameterType === 'categorical') return list[(at + direction + list.length) % list.length] as ParamValue;
  const next = at + direction < 0 || at + direction >= list.length ? at - direction : at + direction;
  return list[next] as ParamValue;
}

/** One parameter's value moved a little. */
export function perturbValue(p: Parameter, value: ParamValue | undefined, rng: Rng): ParamValue {
  const v = normalizeValue(p, value);
  if (v === undefined) return sampleParameter(p, rng);
  if (p.parameterType === 'discrete' || p.parameterType === 'categorical') return neighbour(p, v, rng);
  return perturbRange(p, v as number, rng);
}

/**
 * The explored copy of an assignment: every parameter perturbed when `resampleProbability` is
 * undefined; otherwise each one resampled with that probability and else kept (Katib).
 */
export function explore(space: SearchSpace, assignment: Assignment, resampleProbability: number | undefined, rng: Rng): Assignment {
  const out: Record<string, ParamValue> = {};
  for (const p of space.parameters) {
    const value = assignment[p.name];
    if (resampleProbability === undefined) out[p.name] = perturbValue(p, value, rng);
    else if (rng.next() < resampleProbability) out[p.name] = sampleParameter(p, rng);
    else out[p.name] = normalizeValue(p, value) ?? sampleParameter(p, rng);
  }
  // In a tree, a parameter the parent's trial left inactive has no value to perturb or keep, so
  // it was drawn afresh above; whatever the explored values leave inactive is dropped.
  return pruneInactive(space, out);
}
