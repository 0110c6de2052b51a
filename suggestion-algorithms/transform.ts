// One search-space transform for every model-based algorithm (after Optuna's
// _SearchSpaceTransform): any space maps to the unit cube [0,1]^d and back, so samplers never
// branch on parameter types.
// - double/int: linear, or log for logUniform/logNormal; ints and stepped doubles are padded by
//   half a step on each side so every grid point owns an equal share of [0,1], and decoding
//   rounds to the nearest point. normal/logNormal are priors for random search only: model-based
//   algorithms treat them as uniform on their (log) scale, as Katib's optuna and skopt services do.
// - discrete/categorical: one column per choice (one-hot); decoding takes the largest column.
// - conditional spaces: an inactive parameter is imputed (a range at 0.5, a list as all zeros),
//   so an assignment of the active subtree still encodes; decoding yields every parameter and
//   the caller prunes the inactive ones (repeats.ts). Lévesque, Durand, Gagné, Sabourin,
//   "Bayesian optimization for conditional hyperparameter spaces", IJCNN 2017 (imputation).
import type { Assignment, CategoricalParameter, DiscreteParameter, ParamValue, RangeParameter, SearchSpace } from './model.js';
import { activeNames, isConditional, pruneInactive } from './conditions.js';
import { normalizeValue, roundSignificant } from './space.js';

export type Column =
  | {
      readonly kind: 'range';
      readonly parameter: RangeParameter;
      readonly index: number;
      readonly log: boolean;
      /** Bounds of the column on the (log) scale, padding included. */
      readonly lo: number;
      readonly hi: number;
      readonly step?: number;
    }
  | { readonly kind: 'choice'; readonly parameter: DiscreteParameter | CategoricalParameter; readonly index: number; readonly size: number };

export interface UnitCube {
  readonly dims: number;
  readonly columns: readonly Column[];
  /** Maps an assignment into [0,1]^dims (undefined if it does not fit this space). */
  encode(assignment: Assignment): Float64Array | undefined;
  /** Maps any point (values are clipped into [0,1]) to a valid assignment. */
  decode(x: ArrayLike<number>): Assignment;
}

export interface UnitCubeOptions {
  /** Leave categorical/discrete parameters out (CMA-ES samples them on its own). */
  readonly rangesOnly?: boolean;
}

/** Where an inactive range parameter sits in the unit cube (encode imputes it there). */
export const INACTIVE_RANGE_VALUE = 0.5;

const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : Number.isFinite(v) ? v : 0.5);

function rangeColumn(p: RangeParameter, index: number): Column {
  const log = p.distribution === 'logUniform' || p.distribution === 'logNormal';
  const step = p.step ?? (p.parameterType === 'int' ? 1 : undefined);
  const pad = step === undefined ? 0 : step / 2;
  const scale = (v: number) => (log ? Math.log(v) : v);
  // In log space the padding applies on the original scale, kept positive.
  const lo = scale(log ? Math.max(p.min - pad, p.min / 2) : p.min - pad);
  const hi = scale(p.max + pad);
  return { kind: 'range', parameter: p, index, log, lo, hi, ...(step === undefined ? {} : { step }) };
}

export function unitCube(space: SearchSpace, options: UnitCubeOptions = {}): UnitCube {
  const columns: Column[] = [];
  let dims = 0;
  for (const p of space.parameters) {
    if (p.parameterType === 'discrete' || p.parameterType === 'categorical') {
      if (options.rangesOnly) continue;
      columns.push({ kind: 'choice', parameter: p, index: dims, size: p.list.length });
      dims += p.list.length;
    } else {
      columns.push(rangeColumn(p, dims));
      dims += 1;
    }
  }

  const conditional = isConditional(space);
  const encode = (assignment: Assignment): Float64Array | undefined => {
    const x = new Float64Array(dims);
    const active = conditional ? activeNames(space, assignment) : undefined;
    for (const c of columns) {
      if (active !== undefined && !active.has(c.parameter.name)) {
        // Inactive: imputed with a fixed value (Lévesque et al. 2017's imputation), the middle
        // of a range, no choice at all (an all-zero one-hot) for a list.
        if (c.kind === 'range') x[c.index] = INACTIVE_RANGE_VALUE;
        continue;
      }
      const v = normalizeValue(c.parameter, assignment[c.parameter.name]);
      if (v === undefined) return undefined;
      if (c.kind === 'range') {
        if (typeof v !== 'number' || (c.log && v <= 0)) return undefined;
        x[c.index] = clip01(((c.log ? Math.log(v) : v) - c.lo) / (c.hi - c.lo));
      } else {
        const k = (c.parameter.list as readonly ParamValue[]).indexOf(v);
        if (k < 0) return undefined;
        x[c.index + k] = 1;
      }
    }
    return x;
  };

  const decode = (x: ArrayLike<number>): Assignment => {
    const out: Record<string, ParamValue> = {};
    for (const c of columns) {
      if (c.kind === 'range') {
        out[c.parameter.name] = decodeRange(c, clip01(x[c.index] ?? 0.5));
      } else {
        let best = 0;
        for (let k = 1; k < c.size; k += 1) if ((x[c.index + k] ?? 0) > (x[c.index + best] ?? 0)) best = k;
        out[c.parameter.name] = c.parameter.list[best] as ParamValue;
      }
    }
    return out;
  };

  return { dims, columns, encode, decode };
}

/**
 * The point a model should score for `x`: decoded, pruned to its active subtree and encoded
 * again, so inactive dimensions sit at their imputed values as in the training data. The
 * point itself in a space without conditions.
 */
export function canonicalPoint(space: SearchSpace, cube: UnitCube, x: Float64Array): Float64Array {
  if (!isConditional(space)) return x;
  return cube.encode(pruneInactive(space, cube.decode(x))) ?? x;
}

function decodeRange(c: Extract<Column, { kind: 'range' }>, u: number): number {
  const p = c.parameter;
  const scaled = c.lo + u * (c.hi - c.lo);
  let v = c.log ? Math.exp(scaled) : scaled;
  if (c.step !== undefined) {
    const last = Math.floor((p.max - p.min) / c.step + 1e-9);
    const k = Math.min(last, Math.max(0, Math.round((v - p.min) / c.step)));
    v = p.min + k * c.step;
  }
  v = Math.min(p.max, Math.max(p.min, v));
  return p.parameterType === 'int' ? Math.round(v) : roundSignificant(v);
}
