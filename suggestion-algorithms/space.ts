// Search-space helpers shared by every algorithm: sampling one parameter the way Katib's
// random (hyperopt) service defines it, canonical assignment keys for duplicate detection,
// and lazy grids over finite spaces.
import type { Assignment, Parameter, ParamValue, RangeParameter, SearchSpace } from './model.js';
import type { Rng } from './rng.js';
import { activeNames, conditionHolds, isConditional, parentsFirst, pruneInactive } from './conditions.js';

/** Rounds to 12 significant digits so that 0.1 + 0.2 is reported as 0.3. */
export function roundSignificant(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(12));
}

// ---------------------------------------------------------------- grids of finite parameters

/** The finite values of one parameter, addressable by index so huge ranges need no array. */
export interface GridAxis {
  readonly size: number;
  valueAt(index: number): ParamValue;
  /** Whether a (normalised) value is one of this axis's points. */
  contains(value: ParamValue): boolean;
}

/** Tolerance (in steps) so that float division like 0.2 / 0.1 does not lose the last point. */
const STEP_TOLERANCE = 1e-9;

/** The grid step of a range parameter: its `step`, 1 for ints without one, undefined for continuous doubles. */
function rangeStep(p: RangeParameter): number | undefined {
  return p.step ?? (p.parameterType === 'int' ? 1 : undefined);
}

function rangeAxis(p: RangeParameter, step: number): GridAxis {
  const size = Math.floor((p.max - p.min) / step + STEP_TOLERANCE) + 1;
  const valueAt = (k: number): number =>
    p.parameterType === 'int' ? p.min + k * step : roundSignificant(p.min + k * step);
  return {
    size,
    valueAt,
    contains(value) {
      if (typeof value !== 'number') return false;
      const k = Math.round((value - p.min) / step);
      return k >= 0 && k < size && valueAt(k) === value;
    },
  };
}

function listAxis(list: readonly ParamValue[]): GridAxis {
  const members = new Set<ParamValue>(list);
  return {
    size: list.length,
    valueAt: (k) => list[k] as ParamValue,
    contains: (value) => members.has(value),
  };
}

/** The parameter's grid, or undefined when it has infinitely many values (a double without step). */
export function gridAxis(p: Parameter): GridAxis | undefined {
  if (p.parameterType === 'discrete' || p.parameterType === 'categorical') return listAxis(p.list);
  const step = rangeStep(p);
  return step === undefined ? undefined : rangeAxis(p, step);
}

/** Every value of a finite parameter, in ascending/list order; undefined when infinite. */
export function gridPoints(p: Parameter): ParamValue[] | undefined {
  const axis = gridAxis(p);
  if (axis === undefined) return undefined;
  return Array.from({ length: axis.size }, (_, k) => axis.valueAt(k));
}

/** One axis per parameter (space order), or undefined when any parameter is infinite. */
export function gridAxes(space: SearchSpace): GridAxis[] | undefined {
  const axes: GridAxis[] = [];
  for (const p of space.parameters) {
    const axis = gridAxis(p);
    if (axis === undefined) return undefined;
    axes.push(axis);
  }
  return axes;
}

/** Number of points of a finite space (may exceed 2^53 and lose precision; only compared). */
export function gridSize(axes: readonly GridAxis[]): number {
  return axes.reduce((n, a) => n * a.size, 1);
}

/**
 * All points in a stable order: parameters in space order, the last one varying fastest
 * (a mixed-radix counter), generated lazily.
 */
export function* enumerateGrid(space: SearchSpace, axes: readonly GridAxis[]): Generator<Assignment> {
  if (axes.some((a) => a.size <= 0)) return;
  if (isConditional(space)) {
    yield* enumerateTree(space, axes);
    return;
  }
  const digits = axes.map(() => 0);
  for (;;) {
    const point: Record<string, ParamValue> = {};
    space.parameters.forEach((p, i) => {
      point[p.name] = (axes[i] as GridAxis).valueAt(digits[i] as number);
    });
    yield point;
    let i = axes.length - 1;
    for (; i >= 0; i--) {
      const next = (digits[i] as number) + 1;
      if (next < (axes[i] as GridAxis).size) {
        digits[i] = next;
        break;
      }
      digits[i] = 0;
    }
    if (i < 0) return;
  }
}

// ---------------------------------------------------------------- grids of trees

/**
 * The valid points of a conditional space, each once: a depth-first walk in parents-first
 * order that branches on a parameter only where its condition holds (the last varies fastest).
 */
function* enumerateTree(space: SearchSpace, axes: readonly GridAxis[]): Generator<Assignment> {
  const axisOf = new Map(space.parameters.map((p, i) => [p.name, axes[i] as GridAxis]));
  const order = parentsFirst(space);
  const values: Record<string, ParamValue> = {};
  function* walk(k: number): Generator<Assignment> {
    if (k === order.length) {
      const point: Record<string, ParamValue> = {};
      for (const p of space.parameters) if (values[p.name] !== undefined) point[p.name] = values[p.name] as ParamValue;
      yield point;
      return;
    }
    const p = order[k] as Parameter;
    const c = p.condition;
    const parentValue = c === undefined ? undefined : values[c.parent];
    if (c !== undefined && (parentValue === undefined || !conditionHolds(c, parentValue))) {
      yield* walk(k + 1);
      return;
    }
    const axis = axisOf.get(p.name) as GridAxis;
    for (let j = 0; j < axis.size; j++) {
      values[p.name] = axis.valueAt(j);
      yield* walk(k + 1);
    }
    delete values[p.name];
  }
  yield* walk(0);
}

/** Parent axes up to this size are walked value by value when counting a tree's points. */
const COUNTED_AXIS_LIMIT = 1_000_000;

/**
 * Number of valid points of a finite space: for a tree, the sum over each parameter's values
 * of the product of its active children's counts (exact; an upper bound when a parent with
 * children has more than COUNTED_AXIS_LIMIT values, which only delays `exhausted`).
 */
export function pointCount(space: SearchSpace, axes: readonly GridAxis[]): number {
  if (!isConditional(space)) return gridSize(axes);
  const axisOf = new Map(space.parameters.map((p, i) => [p.name, axes[i] as GridAxis]));
  const placed = new Set(parentsFirst(space).map((p) => p.name));
  const children = new Map<string, Parameter[]>();
  for (const p of space.parameters) {
    if (p.condition !== undefined && placed.has(p.name)) children.set(p.condition.parent, [...(children.get(p.condition.parent) ?? []), p]);
  }
  const count = (p: Parameter): number => {
    const axis = axisOf.get(p.name) as GridAxis;
    const kids = children.get(p.name) ?? [];
    if (kids.length === 0) return axis.size;
    const kidCounts = kids.map(count);
    if (axis.size > COUNTED_AXIS_LIMIT) return axis.size * kidCounts.reduce((n, c) => n * c, 1);
    let total = 0;
    for (let j = 0; j < axis.size; j++) {
      const v = axis.valueAt(j);
      total += kids.reduce((n, kid, i) => (conditionHolds(kid.condition!, v) ? n * (kidCounts[i] as number) : n), 1);
    }
    return total;
  };
  return space.parameters.filter((p) => p.condition === undefined).reduce((n, root) => n * count(root), 1);
}

/** Whether every parameter's value is one of its grid points (trials from an older space may not be). */
export function isOnGrid(space: SearchSpace, axes: readonly GridAxis[], assignment: Assignment): boolean {
  const active = isConditional(space) ? activeNames(space, assignment) : undefined;
  return space.parameters.every((p, i) => {
    if (active !== undefined && !active.has(p.name)) return true;
    const v = normalizeValue(p, assignment[p.name]);
    return v !== undefined && (axes[i] as GridAxis).contains(v);
  });
}

// ---------------------------------------------------------------- assignment keys

/**
 * A value as algorithms produce it: categorical as string, others as numbers (a numeric string
 * from storage is accepted), doubles rounded like sampled values. Undefined when unusable.
 */
export function normalizeValue(p: Parameter, v: ParamValue | undefined): ParamValue | undefined {
  if (v === undefined) return undefined;
  if (p.parameterType === 'categorical') return String(v);
  const n = typeof v === 'number' ? v : v.trim() === '' ? NaN : Number(v);
  if (!Number.isFinite(n)) return undefined;
  return p.parameterType === 'double' ? roundSignificant(n) : n;
}

/** A canonical key of an assignment (values in parameter order) for detecting duplicates. */
export function assignmentKey(space: SearchSpace, assignment: Assignment): string {
  // In a tree, values of inactive parameters mean nothing: two assignments that differ only there are one point.
  const active = isConditional(space) ? activeNames(space, assignment) : undefined;
  return JSON.stringify(space.parameters.map((p) => (active === undefined || active.has(p.name) ? normalizeValue(p, assignment[p.name]) ?? null : null)));
}

// ---------------------------------------------------------------- random sampling

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/**
 * A continuous draw per Katib's hyperopt definitions. hyperopt does not clip normal draws,
 * but Sibyl clips them to [min, max] so that every value stays feasible (≈0.27% of draws
 * land exactly on a bound, since [min, max] is mu ± 3 sigma).
 */
function continuousDraw(p: RangeParameter, rng: Rng): number {
  switch (p.distribution) {
    case 'uniform':
      return p.min + (p.max - p.min) * rng.next();
    case 'logUniform': {
      const lo = Math.log(p.min);
      return Math.exp(lo + (Math.log(p.max) - lo) * rng.next());
    }
    case 'normal': {
      const mu = (p.min + p.max) / 2;
      const sigma = (p.max - p.min) / 6;
      return clamp(mu + sigma * rng.normal(), p.min, p.max);
    }
    case 'logNormal': {
      const lo = Math.log(p.min);
      const hi = Math.log(p.max);
      return clamp(Math.exp((lo + hi) / 2 + ((hi - lo) / 6) * rng.normal()), p.min, p.max);
    }
  }
}

function sampleRange(p: RangeParameter, rng: Rng): number {
  const step = rangeStep(p);
  if (step === undefined) return clamp(roundSignificant(continuousDraw(p, rng)), p.min, p.max);
  const axis = rangeAxis(p, step);
  // Uniform over the grid points themselves: rounding a continuous draw (hyperopt's quniform)
  // would give the two end points half the weight of the others.
  if (p.distribution === 'uniform') return axis.valueAt(rng.int(axis.size)) as number;
  // Other distributions keep their shape and are quantised to the nearest point ≤ max.
  const k = clamp(Math.round((continuousDraw(p, rng) - p.min) / step), 0, axis.size - 1);
  return axis.valueAt(k) as number;
}

/** One random value of a parameter; finite parameters always yield one of their gridPoints. */
export function sampleParameter(p: Parameter, rng: Rng): ParamValue {
  if (p.parameterType === 'discrete' || p.parameterType === 'categorical') {
    return p.list[rng.int(p.list.length)] as ParamValue;
  }
  return sampleRange(p, rng);
}

export function sampleAssignment(space: SearchSpace, rng: Rng): Assignment {
  const point: Record<string, ParamValue> = {};
  // Every parameter is drawn, so a tree consumes the stream as its flat space would; the
  // inactive ones are then dropped (the draw of the active subtree, each from its prior).
  for (const p of space.parameters) point[p.name] = sampleParameter(p, rng);
  return pruneInactive(space, point);
}
