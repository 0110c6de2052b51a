// Typed readers over untrusted documents. Each takes the value and its field path and either
// returns a typed value or throws SpecError naming that path.
import { LIMITS } from '../model/limits.js';
import { SpecError } from './errors.js';

export type Doc = Record<string, unknown>;

export const isObject = (v: unknown): v is Doc =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return String(v);
}

export function object(v: unknown, path: string): Doc {
  if (v === undefined || v === null) throw new SpecError(path, 'is required');
  if (!isObject(v)) throw new SpecError(path, `must be an object (got ${describe(v)})`);
  return v;
}

export function optionalObject(v: unknown, path: string): Doc | undefined {
  return v === undefined || v === null ? undefined : object(v, path);
}

export function list(v: unknown, path: string, max: number = LIMITS.maxListEntries): unknown[] {
  if (v === undefined) throw new SpecError(path, 'is required');
  if (!Array.isArray(v)) throw new SpecError(path, `must be a list (got ${describe(v)})`);
  if (v.length > max) throw new SpecError(path, `must have at most ${max} items (got ${v.length})`);
  return v;
}

export function string(v: unknown, path: string, max: number = LIMITS.maxStringLength): string {
  if (v === undefined || v === null || v === '') throw new SpecError(path, 'is required');
  if (typeof v !== 'string') throw new SpecError(path, `must be a string (got ${describe(v)})`);
  if (v.length > max) throw new SpecError(path, `must be at most ${max} characters (got ${v.length})`);
  return v;
}

export function optionalString(v: unknown, path: string, max?: number): string | undefined {
  return v === undefined || v === null ? undefined : string(v, path, max);
}

/** A name: of a metric, a parameter, a setting, a trialParameter. */
export function identifier(v: unknown, path: string): string {
  const s = string(v, path, LIMITS.maxIdentifierLength);
  if (s.trim() !== s) throw new SpecError(path, `must not start or end with white space (got ${describe(s)})`);
  return s;
}

/** Katib carries numbers as strings ("0.01"); both forms are accepted. */
export function number(v: unknown, path: string): number {
  if (v === undefined || v === null || v === '') throw new SpecError(path, 'is required');
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v.trim()) : NaN;
  if (typeof v === 'string' && v.trim() === '') throw new SpecError(path, 'is required');
  if (!Number.isFinite(n)) throw new SpecError(path, `must be a finite number (got ${describe(v)})`);
  return n;
}

export function optionalNumber(v: unknown, path: string): number | undefined {
  return v === undefined || v === null ? undefined : number(v, path);
}

export function integer(v: unknown, path: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  const n = number(v, path);
  if (!Number.isInteger(n)) throw new SpecError(path, `must be an integer (got ${describe(v)})`);
  if (n < min) throw new SpecError(path, `must be ≥ ${min} (got ${n})`);
  if (n > max) throw new SpecError(path, `must be at most ${max} (got ${n})`);
  return n;
}

export function optionalInteger(v: unknown, path: string, min: number, max?: number): number | undefined {
  return v === undefined || v === null ? undefined : integer(v, path, min, max);
}

/**
 * A document's nesting depth, walked without recursion, so that a `[[[[…]]]]` of a million
 * levels is refused instead of overflowing a stack further in (JSON.stringify, a clone).
 */
export function checkDepth(v: unknown, path: string, max: number = LIMITS.maxDocumentDepth): void {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > max) throw new SpecError(path, `is nested more than ${max} levels deep`);
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
}

export function boolean(v: unknown, path: string, fallback: boolean): boolean {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new SpecError(path, `must be true or false (got ${describe(v)})`);
  return v;
}

export function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  const s = string(v, path);
  if (!(allowed as readonly string[]).includes(s)) {
    throw new SpecError(path, `must be one of ${allowed.join(', ')} (got ${describe(s)})`);
  }
  return s as T;
}

/** Typos in field names would otherwise be silently ignored. */
export function noUnknownKeys(o: Doc, path: string, known: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) {
      throw new SpecError(path ? `${path}.${key}` : key, `unknown field (known: ${known.join(', ')})`);
    }
  }
}
