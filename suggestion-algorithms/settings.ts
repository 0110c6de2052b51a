// Reading `spec.algorithm.algorithmSettings`: Katib carries every setting as a string, so each
// algorithm parses its own and reports mistakes against the setting's field path.
import { SpecError } from '../src/spec/errors.js';
import type { StudySpec } from '../src/spec/types.js';

export function settingField(name: string): string {
  return `spec.algorithm.algorithmSettings[${name}]`;
}

/** The raw value of a setting, or undefined when absent (an empty string counts as absent, as in Katib). */
export function readSetting(spec: StudySpec, name: string): string | undefined {
  const found = spec.algorithm.algorithmSettings.find((s) => s.name === name);
  if (found === undefined) return undefined;
  const value = found.value.trim();
  return value === '' ? undefined : value;
}

export interface Bounds {
  readonly min?: number;
  readonly max?: number;
  /** When true, `min` itself is not allowed (e.g. "> 0"). */
  readonly minExclusive?: boolean;
  readonly maxExclusive?: boolean;
}

export function readIntSetting(spec: StudySpec, name: string, bounds: Bounds = {}): number | undefined {
  const raw = readSetting(spec, name);
  if (raw === undefined) return undefined;
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || !withinBounds(value, bounds)) {
    throw new SpecError(settingField(name), `must be ${describe('an integer', bounds)} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export function readNumberSetting(spec: StudySpec, name: string, bounds: Bounds = {}): number | undefined {
  const raw = readSetting(spec, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || !withinBounds(value, bounds)) {
    throw new SpecError(settingField(name), `must be ${describe('a number', bounds)} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** Rejects settings this algorithm does not know (a typo would otherwise be silently ignored) and repeated names. */
export function rejectUnknownSettings(spec: StudySpec, algorithmName: string, known: readonly string[]): void {
  const seen = new Set<string>();
  for (const { name } of spec.algorithm.algorithmSettings) {
    if (!known.includes(name)) {
      const list = known.length === 0 ? 'none' : [...known].sort().join(', ');
      throw new SpecError(settingField(name), `unknown setting for algorithm ${JSON.stringify(algorithmName)} (known: ${list})`);
    }
    if (seen.has(name)) throw new SpecError(settingField(name), 'given more than once');
    seen.add(name);
  }
}

function withinBounds(v: number, b: Bounds): boolean {
  if (b.min !== undefined && (b.minExclusive ? v <= b.min : v < b.min)) return false;
  if (b.max !== undefined && (b.maxExclusive ? v >= b.max : v > b.max)) return false;
  return true;
}

function describe(kind: string, b: Bounds): string {
  const lower = b.min === undefined ? undefined : `${b.minExclusive ? '>' : '≥'} ${b.min}`;
  const upper = b.max === undefined ? undefined : `${b.maxExclusive ? '<' : '≤'} ${b.max}`;
  if (lower !== undefined && upper !== undefined) return `${kind} ${lower} and ${upper}`;
  return [kind, lower ?? upper].filter((s) => s !== undefined).join(' ');
}
