// The one check that an assignment lies in a study's space: every parameter present (in a
// conditional space: exactly the active ones), each value of its type, within its range, on its
// step or one of its list. Used for `spec.enqueuedTrials`,
// assignments enqueued over the APIs, and (as `valueProblem`) warm-start priors.
import type { Assignment, ParamValue } from '../../suggestion-algorithms/model.js';
import { pruneInactive } from '../../suggestion-algorithms/conditions.js';
import { checkAssignmentTree } from './conditions.js';
import { SpecError } from './errors.js';
import * as read from './read.js';
import type { ParameterSpec } from './types.js';

/** Relative slack for "on the step" and the bounds of doubles (values travel as decimal text). */
const STEP_TOLERANCE = 1e-9;

/**
 * Reads one assignment (an object of parameter name → value) at `path`; refusals name the
 * parameter's field (`spec.enqueuedTrials[1].learning_rate: above max 0.1 (got 0.5)`).
 */
export function readAssignment(v: unknown, path: string, parameters: readonly ParameterSpec[]): Assignment {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, parameters.map((p) => p.name));
  const out: Record<string, ParamValue> = {};
  const conditional = parameters.some((p) => p.condition !== undefined);
  for (const p of parameters) {
    const field = `${path}.${p.name}`;
    const raw = o[p.name];
    if ((raw === undefined || raw === null) && conditional) continue; // the tree decides below
    if (raw === undefined || raw === null) throw new SpecError(field, 'is required (every parameter needs a value)');
    const value = coerce(p, raw);
    if (value === undefined) throw new SpecError(field, `must be ${p.parameterType === 'categorical' ? 'a string' : 'a finite number'} (got ${read.describe(raw)})`);
    const problem = valueProblem(p, value);
    if (problem) throw new SpecError(field, problem);
    out[p.name] = value;
  }
  if (conditional) checkAssignmentTree(parameters, out, path);
  return out;
}

/**
 * One assignment in the space, chosen without an algorithm: each parameter's first value (a
 * range's min, a list's first), the inactive ones left out. What a template renders to can be
 * checked on it before any trial runs.
 */
export function firstAssignment(parameters: readonly ParameterSpec[]): Assignment {
  const all: Record<string, ParamValue> = {};
  for (const p of parameters) all[p.name] = p.parameterType === 'categorical' || p.parameterType === 'discrete' ? p.list[0]! : p.min;
  return pruneInactive({ parameters, direction: 'minimize' }, all);
}

/** A value as the parameter's type carries it (numbers from numeric strings; categorical values as strings). */
export function coerce(p: ParameterSpec, raw: unknown): ParamValue | undefined {
  if (p.parameterType === 'categorical') return typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Why a value is not in the parameter's feasible space, or undefined when it is. */
export function valueProblem(p: ParameterSpec, value: ParamValue): string | undefined {
  switch (p.parameterType) {
    case 'categorical':
      return p.list.includes(String(value)) ? undefined : `${read.describe(String(value))} is not in the list (${listed(p.list)})`;
    case 'discrete':
      return typeof value === 'number' && p.list.includes(value) ? undefined : `${String(value)} is not in the list (${listed(p.list)})`;
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number (got ${read.describe(value)})`;
      if (p.parameterType === 'int' && !Number.isInteger(value)) return `must be an integer (got ${value})`;
      const slack = p.parameterType === 'double' ? STEP_TOLERANCE * Math.max(1, Math.abs(p.max - p.min)) : 0;
      if (value < p.min - slack) return `below min ${p.min} (got ${value})`;
      if (value > p.max + slack) return `above max ${p.max} (got ${value})`;
      if (p.step !== undefined) {
        const k = (value - p.min) / p.step;
        if (Math.abs(k - Math.round(k)) > STEP_TOLERANCE * Math.max(1, Math.abs(k))) return `not on the step ${p.step} from min ${p.min} (got ${value})`;
      }
      return undefined;
    }
  }
}

function listed(list: readonly (string | number)[]): string {
  const shown = list.slice(0, 10).map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ');
  return list.length > 10 ? `${shown}, … ${list.length} values` : shown;
}
