// `spec.parameters[i].condition`: Sibyl's conditional parameters (Katib has none, so a Katib
// file never carries one and means what it always meant). A parameter is active only while its
// parent is active and the parent's value satisfies the condition:
//   condition: {parent: optimizer, equals: sgd}
//   condition: {parent: optimizer, in: [sgd, rmsprop]}
//   condition: {parent: layers, min: 3}            # min and/or max, inclusive
// Refused with the field named: an unknown parent, the parameter itself, a cycle, a form the
// parent's type cannot take, and any condition that can never hold. Each condition has one
// parent whose every value can occur once the parent is active, so a refused impossible
// condition is the only way a parameter could never be active: whatever passes here can be.
import { LIMITS } from '../model/limits.js';
import type { Assignment, Condition, ParamValue } from '../../suggestion-algorithms/model.js';
import { treeProblem } from '../../suggestion-algorithms/conditions.js';
import { gridPoints } from '../../suggestion-algorithms/space.js';
import { SpecError } from './errors.js';
import * as read from './read.js';
import type { ParameterSpec } from './types.js';

const CONDITION_KEYS = ['parent', 'equals', 'in', 'min', 'max'];

/**
 * Reads each parameter's condition (`raw[i]`, undefined when none) against the other
 * parameters; `overwritten` are parameters whose value the algorithm sets (no parent material).
 */
export function readConditions(
  parameters: readonly ParameterSpec[],
  raw: readonly unknown[],
  path: string,
  overwritten: readonly string[],
): ParameterSpec[] {
  const withConditions = parameters.map((p, i) => {
    if (raw[i] === undefined) return p;
    return { ...p, condition: readCondition(raw[i], `${path}[${i}].condition`, p, parameters, overwritten) };
  });
  rejectCycles(withConditions, path);
  return withConditions;
}

function readCondition(v: unknown, path: string, self: ParameterSpec, parameters: readonly ParameterSpec[], overwritten: readonly string[]): Condition {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, CONDITION_KEYS);
  const parentName = read.identifier(o['parent'], `${path}.parent`);
  if (parentName === self.name) throw new SpecError(`${path}.parent`, `"${self.name}" cannot depend on itself`);
  const parent = parameters.find((q) => q.name === parentName);
  if (parent === undefined) {
    throw new SpecError(`${path}.parent`, `names no parameter of this study (got "${parentName}"; parameters: ${parameters.map((q) => q.name).join(', ')})`);
  }
  if (overwritten.includes(parentName)) {
    throw new SpecError(`${path}.parent`, `"${parentName}" gets its value from the algorithm (its resource), not from its feasible space, so it cannot be a parent`);
  }
  const given = (['equals', 'in', 'min', 'max'] as const).filter((k) => o[k] !== undefined);
  if (given.length === 0) throw new SpecError(path, 'needs `equals`, `in`, or `min`/`max` beside `parent`');
  const listForm = given.some((k) => k === 'equals' || k === 'in');
  if (listForm && given.length > 1) {
    throw new SpecError(`${path}.${given[1]}`, `cannot be combined with \`${given[0]}\` (use one of equals, in, or min/max)`);
  }
  return listForm ? readValues(o, path, parent) : readRange(o, path, parent);
}

/** `equals: v` or `in: [v, …]`: for categorical, discrete and int parents, values they can take. */
function readValues(o: read.Doc, path: string, parent: ParameterSpec): Condition {
  if (parent.parameterType === 'double') {
    throw new SpecError(`${path}.${o['equals'] !== undefined ? 'equals' : 'in'}`, `"${parent.name}" is a double parameter: a condition on it is a range (min and/or max), not a list of values`);
  }
  const entries = o['equals'] !== undefined
    ? [{ value: o['equals'], at: `${path}.equals` }]
    : read.list(o['in'], `${path}.in`, LIMITS.maxListItems).map((value, k) => ({ value, at: `${path}.in[${k}]` }));
  if (entries.length === 0) throw new SpecError(`${path}.in`, 'must not be empty');
  const possible = gridPoints(parent) as ParamValue[];
  const values: ParamValue[] = entries.map(({ value, at }) => {
    const v: ParamValue = parent.parameterType === 'categorical'
      ? (typeof value === 'number' || typeof value === 'boolean' ? String(value) : read.string(value, at))
      : read.number(value, at);
    if (!possible.includes(v)) {
      throw new SpecError(at, `${JSON.stringify(v)} is not a value "${parent.name}" can take (${describeValues(parent)}), so the condition could never hold`);
    }
    return v;
  });
  return { parent: parent.name, values: [...new Set(values)] };
}

/** `min`/`max` (inclusive, either may be left out): for numeric parents, overlapping their values. */
function readRange(o: read.Doc, path: string, parent: ParameterSpec): Condition {
  if (parent.parameterType === 'categorical') {
    throw new SpecError(`${path}.${o['min'] !== undefined ? 'min' : 'max'}`, `"${parent.name}" is a categorical parameter: a condition on it lists values (equals or in), not a range`);
  }
  const min = read.optionalNumber(o['min'], `${path}.min`);
  const max = read.optionalNumber(o['max'], `${path}.max`);
  if (min !== undefined && max !== undefined && min > max) throw new SpecError(`${path}.min`, `must not exceed max (got ${min} > ${max})`);
  const lo = parent.parameterType === 'discrete' ? Math.min(...parent.list) : parent.min;
  const hi = parent.parameterType === 'discrete' ? Math.max(...parent.list) : parent.max;
  if (min !== undefined && min > hi) throw new SpecError(`${path}.min`, `is above every value of "${parent.name}" (at most ${hi}), so the condition could never hold`);
  if (max !== undefined && max < lo) throw new SpecError(`${path}.max`, `is below every value of "${parent.name}" (at least ${lo}), so the condition could never hold`);
  const within = (v: number) => (min === undefined || v >= min) && (max === undefined || v <= max);
  const points = gridPoints(parent) as number[] | undefined;
  // A stepped or list parent may still skip the whole interval (steps of 2 from 0 never hit [3, 3]).
  if (points !== undefined && points.length <= LIMITS.maxListItems && !points.some(within)) {
    throw new SpecError(path, `no value of "${parent.name}" (${describeValues(parent)}) lies within [${min ?? '-∞'}, ${max ?? '∞'}], so the condition could never hold`);
  }
  return { parent: parent.name, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
}

function describeValues(p: ParameterSpec): string {
  if (p.parameterType === 'discrete' || p.parameterType === 'categorical') {
    const shown = (p.list as readonly ParamValue[]).slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
    return `one of ${shown}${p.list.length > 10 ? ', …' : ''}`;
  }
  return `${p.parameterType} in [${p.min}, ${p.max}]${p.step === undefined ? '' : ` step ${p.step}`}`;
}

/** A parameter whose chain of parents leads back to itself could never be given a value. */
function rejectCycles(parameters: readonly ParameterSpec[], path: string): void {
  const index = new Map(parameters.map((p, i) => [p.name, i]));
  parameters.forEach((p, i) => {
    const chain = [p.name];
    for (let at = p.condition?.parent; at !== undefined; at = parameters[index.get(at) as number]?.condition?.parent) {
      chain.push(at);
      if (at === p.name) throw new SpecError(`${path}[${i}].condition.parent`, `the conditions form a cycle (${chain.join(' → ')}), so none of them could ever be active`);
      if (chain.length > parameters.length) break; // a cycle further up, reported at its own members
    }
  });
}

/**
 * For any path that takes an assignment from a client (an enqueued trial, a seed from another
 * study): refused, with the parameter's field under `path`, when it carries a parameter its
 * tree leaves inactive or lacks one it makes active. Values themselves are checked elsewhere.
 */
export function checkAssignmentTree(parameters: readonly ParameterSpec[], assignment: Assignment, path: string): void {
  const problem = treeProblem({ parameters, direction: 'minimize' }, assignment);
  if (problem) throw new SpecError(`${path}.${problem.parameter}`, problem.reason);
}
