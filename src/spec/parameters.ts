// `spec.parameters[]`: Katib's search-space format, with the checks Katib forgets
// (min < max, positive log bounds, positive steps, non-empty unique lists, unique names), and
// Sibyl's optional activation `condition` (conditions.ts).
import { LIMITS } from '../model/limits.js';
import { readConditions } from './conditions.js';
import { SpecError } from './errors.js';
import * as read from './read.js';
import type { Distribution, ParameterSpec } from './types.js';

const PARAMETER_TYPES = ['double', 'int', 'discrete', 'categorical'] as const;
const DISTRIBUTIONS: readonly Distribution[] = ['uniform', 'logUniform', 'normal', 'logNormal'];
// Katib's "no distribution": empty, or `unknown` (its validator allows it; its services then
// use their default, uniform). Its defaulting webhook writes `uniform` on every parameter.
const UNSPECIFIED_DISTRIBUTIONS: readonly unknown[] = [undefined, '', 'unknown'];

/** `pointRanges`: parameters whose value the algorithm sets itself, so min = max is allowed for them. */
export function readParameters(v: unknown, path: string, pointRanges: readonly string[] = []): ParameterSpec[] {
  const items = read.list(v, path, LIMITS.maxParameters);
  if (items.length === 0) throw new SpecError(path, 'must list at least one parameter');
  const seen = new Set<string>();
  const parameters = items.map((item, i) => {
    const p = readParameter(item, `${path}[${i}]`, pointRanges);
    if (seen.has(p.name)) throw new SpecError(`${path}[${i}].name`, `duplicate parameter name "${p.name}"`);
    seen.add(p.name);
    return p;
  });
  // Conditions name other parameters, so they are read once every parameter is known.
  const conditions = items.map((item) => (item as read.Doc)['condition']);
  return conditions.every((c) => c === undefined) ? parameters : readConditions(parameters, conditions, path, pointRanges);
}

function readParameter(v: unknown, path: string, pointRanges: readonly string[]): ParameterSpec {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, ['name', 'parameterType', 'feasibleSpace', 'condition']);
  const name = read.identifier(o['name'], `${path}.name`);
  const parameterType = read.oneOf(o['parameterType'], `${path}.parameterType`, PARAMETER_TYPES);
  const fsPath = `${path}.feasibleSpace`;
  const fs = read.object(o['feasibleSpace'], fsPath);
  read.noUnknownKeys(fs, fsPath, ['min', 'max', 'step', 'list', 'distribution']);

  if (parameterType === 'double' || parameterType === 'int') {
    if (fs['list'] !== undefined) throw new SpecError(`${fsPath}.list`, `not allowed for ${parameterType} parameters (use min and max)`);
    const min = bound(fs['min'], `${fsPath}.min`, parameterType);
    const max = bound(fs['max'], `${fsPath}.max`, parameterType);
    if (min > max || (min === max && !pointRanges.includes(name))) throw new SpecError(`${fsPath}.min`, `must be below max (got ${min} >= ${max})`);
    const step = read.optionalNumber(fs['step'], `${fsPath}.step`);
    if (step !== undefined) {
      if (step <= 0) throw new SpecError(`${fsPath}.step`, `must be > 0 (got ${step})`);
      if (parameterType === 'int' && !Number.isInteger(step)) throw new SpecError(`${fsPath}.step`, `must be an integer for int parameters (got ${step})`);
      if (step > max - min) throw new SpecError(`${fsPath}.step`, `must not exceed max − min (got ${step} > ${max - min})`);
      if (!((max - min) / step <= LIMITS.maxStepsPerRange)) {
        throw new SpecError(`${fsPath}.step`, `is too fine: (max − min) / step must be at most ${LIMITS.maxStepsPerRange} grid steps (got ${step})`);
      }
    }
    const distribution = UNSPECIFIED_DISTRIBUTIONS.includes(fs['distribution'])
      ? 'uniform'
      : read.oneOf(fs['distribution'], `${fsPath}.distribution`, DISTRIBUTIONS);
    if ((distribution === 'logUniform' || distribution === 'logNormal') && min <= 0) {
      throw new SpecError(`${fsPath}.min`, `must be > 0 for a ${distribution} distribution (got ${min})`);
    }
    return { name, parameterType, min, max, distribution, ...(step === undefined ? {} : { step }) };
  }

  for (const key of ['min', 'max', 'step'] as const) {
    if (fs[key] !== undefined) throw new SpecError(`${fsPath}.${key}`, `not allowed for ${parameterType} parameters (use list)`);
  }
  // A list is drawn uniformly: `uniform` (what Katib's webhook writes) says so. Katib ignores
  // any other distribution on a list; Sibyl refuses it rather than ignore what was asked.
  if (!UNSPECIFIED_DISTRIBUTIONS.includes(fs['distribution']) && fs['distribution'] !== 'uniform') {
    const given = read.oneOf(fs['distribution'], `${fsPath}.distribution`, DISTRIBUTIONS);
    throw new SpecError(`${fsPath}.distribution`, `${given} has no meaning for a ${parameterType} list (its values are drawn uniformly): use uniform or leave it out`);
  }
  const raw = read.list(fs['list'], `${fsPath}.list`, LIMITS.maxListItems);
  if (raw.length === 0) throw new SpecError(`${fsPath}.list`, 'must not be empty');
  if (parameterType === 'discrete') {
    const values = raw.map((x, i) => read.number(x, `${fsPath}.list[${i}]`));
    rejectDuplicates(values, `${fsPath}.list`);
    return { name, parameterType, list: values };
  }
  const values = raw.map((x, i) => {
    if (typeof x === 'number' || typeof x === 'boolean') return String(x);
    return read.string(x, `${fsPath}.list[${i}]`);
  });
  rejectDuplicates(values, `${fsPath}.list`);
  return { name, parameterType, list: values };
}

/** A range's bound: finite, within ±maxRangeMagnitude (so max − min stays finite), an exact integer for int. */
function bound(v: unknown, path: string, type: 'double' | 'int'): number {
  const n = read.number(v, path);
  if (type === 'int') {
    if (!Number.isInteger(n)) throw new SpecError(path, `must be an integer for int parameters (got ${n})`);
    if (!Number.isSafeInteger(n)) throw new SpecError(path, `must be within ±${Number.MAX_SAFE_INTEGER} for int parameters (got ${n})`);
  } else if (Math.abs(n) > LIMITS.maxRangeMagnitude) {
    throw new SpecError(path, `must be within ±${LIMITS.maxRangeMagnitude} (got ${n})`);
  }
  return n;
}

function rejectDuplicates<T>(values: readonly T[], path: string): void {
  const seen = new Set<T>();
  values.forEach((v, i) => {
    if (seen.has(v)) throw new SpecError(`${path}[${i}]`, `duplicate value ${JSON.stringify(v)}`);
    seen.add(v);
  });
}
