// Readers for the values a request carries, shared by every service call: each one bounds and
// checks its value once (src/model/limits.ts) and refuses it with the field and the reason.
// Adapters hand over what the wire gave them; only these decide what is acceptable.
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { excerpt, LIMITS } from '../model/limits.js';
import { isRfc3339 } from '../metrics/parse.js';
import { invalid } from './errors.js';

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/** A value as an error message shows it: JSON, cut short. */
export const shown = (v: unknown): string => excerpt(JSON.stringify(v) ?? String(v));

/** A required name (study, trial) before it is looked up. */
export function readName(v: unknown, field: string): string {
  if (!present(v)) throw invalid(field, 'is required');
  if (typeof v !== 'string') throw invalid(field, `must be a string (got ${shown(v)})`);
  if (v.length > LIMITS.maxNameLength) throw invalid(field, `must be at most ${LIMITS.maxNameLength} characters (got ${v.length})`);
  return v;
}

/** A whole number in [min, max] (numbers, or their decimal text from a query string); `fallback` when absent or 0. */
export function readInteger(v: unknown, field: string, min: number, max: number, fallback?: number): number {
  if (!present(v) || (v === 0 && fallback !== undefined)) {
    if (fallback === undefined) throw invalid(field, 'is required');
    return fallback;
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(field, `must be a whole number from ${min} to ${max} (got ${shown(v)})`);
  return n;
}

/** An optional whole number; undefined when absent. */
export function readOptionalInteger(v: unknown, field: string, min: number, max: number): number | undefined {
  return present(v) ? readInteger(v, field, min, max) : undefined;
}

export function readOptionalString(v: unknown, field: string, max: number): string | undefined {
  if (!present(v)) return undefined;
  if (typeof v !== 'string') throw invalid(field, `must be a string (got ${shown(v)})`);
  if (v.length > max) throw invalid(field, `must be at most ${max} characters (got ${v.length})`);
  return v;
}

export function readOptionalBoolean(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(field, `must be true or false (got ${shown(v)})`);
  return v;
}

/** A finite number (or its text, as Katib sends values). */
export function readFinite(v: unknown, field: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw invalid(field, `must be a finite number (got ${shown(v)})`);
  return n;
}

/** An RFC 3339 time, normalised to UTC ISO; `fallback` when absent. */
export function readTime(v: unknown, field: string, fallback: string): string {
  if (!present(v)) return fallback;
  if (typeof v !== 'string' || v.length > 64 || !isRfc3339(v)) throw invalid(field, `must be an RFC 3339 time (got ${shown(v)})`);
  return new Date(v).toISOString();
}

export function readList(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be a list');
  if (v.length > max) throw invalid(field, `must have at most ${max} items (got ${v.length})`);
  return v;
}

// Page tokens are opaque to clients: a base64url cursor.
const TOKEN_PREFIX = 'c1:';

export function encodeToken(cursor: number | undefined): string {
  return cursor === undefined ? '' : Buffer.from(`${TOKEN_PREFIX}${cursor}`).toString('base64url');
}

export interface PageRequest {
  /** A number, or its decimal text (REST query strings). */
  readonly pageSize?: unknown;
  readonly pageToken?: unknown;
}

/** The page asked for; `maxSize` (and the default) where a list's pages hold more than LIMITS.maxPageSize. */
export function readPage(req: PageRequest, { maxSize = LIMITS.maxPageSize as number, defaultSize = LIMITS.defaultPageSize as number } = {}): { after: number; size: number } {
  const size = readInteger(req.pageSize, 'pageSize', 1, maxSize, defaultSize);
  const token = readOptionalString(req.pageToken, 'pageToken', 200);
  if (token === undefined) return { after: 0, size };
  const text = Buffer.from(token, 'base64url').toString();
  const after = text.startsWith(TOKEN_PREFIX) ? Number(text.slice(TOKEN_PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(after) || after < 0) throw invalid('pageToken', 'is not a token this server issued');
  return { after, size };
}

/** A working directory a request names for a local study: absolute, and a directory on this machine. */
export async function readWorkingDir(v: unknown, field: string): Promise<string | undefined> {
  const dir = readOptionalString(v, field, 4096);
  if (dir === undefined) return undefined;
  if (!isAbsolute(dir)) throw invalid(field, `must be an absolute path (got ${shown(dir)})`);
  try {
    if ((await stat(dir)).isDirectory()) return resolve(dir);
  } catch {
    // refused below
  }
  throw invalid(field, `${shown(dir)} is not a directory on the server (submit from the same machine, or put the study's files where the server sees them)`);
}
