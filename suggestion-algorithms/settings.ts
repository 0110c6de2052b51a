// Reading an algorithm's settings: Katib carries every setting as a string, so each algorithm
// parses its own and reports a mistake as a SettingsError naming the setting.
import { SettingsError, type Settings } from './model.js';

/** The raw value of a setting, or undefined when absent (an empty string counts as absent, as in Katib). */
export function readSetting(settings: Settings, name: string): string | undefined {
  const found = settings.find((s) => s.name === name);
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

export const settingError = (name: string, reason: string) => new SettingsError({ setting: name }, reason);

export function readIntSetting(settings: Settings, name: string, bounds: Bounds = {}): number | undefined {
  const raw = readSetting(settings, name);
  if (raw === undefined) return undefined;
  const value = /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || !withinBounds(value, bounds)) {
    throw settingError(name, `must be ${describe('an integer', bounds)} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** `random_state`, the seed a study gives an algorithm (Katib's setting): an integer ≥ 0. */
export function readRandomState(settings: Settings): number | undefined {
  return readIntSetting(settings, 'random_state', { min: 0 });
}

export function readNumberSetting(settings: Settings, name: string, bounds: Bounds = {}): number | undefined {
  const raw = readSetting(settings, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || !withinBounds(value, bounds)) {
    throw settingError(name, `must be ${describe('a number', bounds)} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

/** Rejects settings this algorithm does not know (a typo would otherwise be silently ignored) and repeated names. */
export function rejectUnknownSettings(settings: Settings, algorithmName: string, known: readonly string[]): void {
  const seen = new Set<string>();
  for (const { name } of settings) {
    if (!known.includes(name)) {
      const list = known.length === 0 ? 'none' : [...known].sort().join(', ');
      throw settingError(name, `unknown setting for algorithm ${JSON.stringify(algorithmName)} (known: ${list})`);
    }
    if (seen.has(name)) throw settingError(name, 'given more than once');
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
