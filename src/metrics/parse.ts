// Parses one line of trial output into metric observations, in Katib's TEXT or JSON format.

import { RE2, type RE2ExecArray } from 're2-wasm';
import { excerpt, LIMITS } from '../model/limits.js';
import { DEFAULT_METRICS_FORMAT } from '../spec/types.js';
import { translateGoRegexp } from './go-regexp.js';

export interface ParsedObservation {
  readonly metric: string;
  readonly value: number;
  readonly step?: number;
  /** RFC 3339, as given on the line (or converted from epoch seconds in JSON). */
  readonly time?: string;
}

export interface MetricsLineParser {
  parseLine(line: string): ParsedObservation[];
}

/**
 * User regexes run on RE2 (linear in the text, and the dialect Katib's metricsFormat is written
 * in: Go's regexp is RE2). Each call crosses into WebAssembly, so only a line's first 4 KiB are
 * searched; metrics lines are short, so nothing real is lost.
 */
export const USER_REGEX_SEARCH_CHARS = 4096;

const STEP_KEYS = ['step', 'epoch'] as const;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function isRfc3339(text: string): boolean {
  return RFC3339.test(text) && Number.isFinite(Date.parse(text));
}

/** The first and last instants RFC 3339 can write (four-digit years). */
const RFC3339_RANGE_MS = [Date.parse('0000-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z')] as const;

/** Seconds since the epoch (a summary event's wall time, a JSON timestamp) as an ISO time, or undefined past what RFC 3339 can write. */
export function isoTimeOfSeconds(seconds: number): string | undefined {
  const ms = seconds * 1000;
  return ms >= RFC3339_RANGE_MS[0] && ms <= RFC3339_RANGE_MS[1] ? new Date(ms).toISOString() : undefined;
}

// Katib's webhook rule for each metricsFormat ("two top subexpressions are required"), as Katib
// writes it: the text must hold two (…) pairs. Sibyl also counts real capture groups below.
const KATIB_TWO_GROUPS = new RE2(String.raw`.*\(.*\).*\(.*\).*`, 'u');

/** Why a `metricsFormat` regex (Go syntax) is unusable, or undefined when it is fine. */
export function validateMetricsFormat(regex: string): string | undefined {
  if (regex.length > LIMITS.maxRegexLength) return `metrics format must be at most ${LIMITS.maxRegexLength} characters (got ${regex.length})`;
  const shown = JSON.stringify(excerpt(regex));
  const translated = translateGoRegexp(regex);
  if ('refused' in translated) return `metrics format ${shown} is not Go regular-expression syntax (the dialect of Katib's Go collector): ${translated.refused}`;
  try {
    compileUserRegex(translated.source);
  } catch (err) {
    // re2-wasm says "Invalid regular expression: /<source>/<flags>: <why>".
    const why = (err as Error).message.replace(/^Invalid regular expression: \/[\s\S]*\/gu: /, '');
    return `metrics format ${shown} is not an RE2 regular expression (the dialect of Katib's Go collector): ${why}`;
  }
  const groups = countCaptureGroups(translated.source);
  if (groups < 2) {
    return `metrics format ${shown} has ${groups} capture group(s); it needs two (metric name, value)`;
  }
  if (!KATIB_TWO_GROUPS.test(regex)) {
    return `metrics format ${shown} needs two top subexpressions (…)(…), metric name then value (Katib's rule: its text must match .*\\(.*\\).*\\(.*\\).*)`;
  }
  return undefined;
}

export function createLineParser(
  format: 'TEXT' | 'JSON',
  metricNames: readonly string[],
  metricsFormat: readonly string[],
): MetricsLineParser {
  const names = new Set(metricNames);
  if (format === 'JSON') return { parseLine: (line) => parseJsonLine(line, names) };
  const matchers = (metricsFormat.length > 0 ? metricsFormat : [DEFAULT_METRICS_FORMAT]).map(createMatcher);
  return { parseLine: (line) => parseTextLine(line, names, matchers) };
}

// ---- TEXT ----

/** Yields [name, value] pairs found on a line. */
type PairMatcher = (line: string) => Iterable<readonly [string, string]>;

function parseTextLine(line: string, names: ReadonlySet<string>, matchers: readonly PairMatcher[]): ParsedObservation[] {
  // Katib's pre-filter: skip lines that cannot mention a requested metric.
  let mentionsMetric = false;
  for (const name of names) {
    if (line.includes(name)) {
      mentionsMetric = true;
      break;
    }
  }
  if (!mentionsMetric) return [];

  const space = line.indexOf(' ');
  const firstToken = space === -1 ? line : line.slice(0, space);
  const time = isRfc3339(firstToken) ? firstToken : undefined;

  const found: { metric: string; value: number }[] = [];
  const stepByKey = new Map<string, number>();
  for (const matcher of matchers) {
    for (const [name, text] of matcher(line)) {
      if ((STEP_KEYS as readonly string[]).includes(name) && !stepByKey.has(name)) {
        const step = parseInteger(text);
        if (step !== undefined) stepByKey.set(name, step);
      }
      if (!names.has(name)) continue;
      const value = parseFiniteNumber(text);
      if (value !== undefined) found.push({ metric: name, value });
    }
  }
  const step = stepByKey.get('step') ?? stepByKey.get('epoch');
  return found.map((o) => withOptional(o, step, time));
}

function createMatcher(source: string): PairMatcher {
  if (source === DEFAULT_METRICS_FORMAT) return matchDefaultFormat;
  const translated = translateGoRegexp(source);
  if ('refused' in translated) throw new Error(`metrics format ${JSON.stringify(source)} is refused: ${translated.refused}`);
  const regex = compileUserRegex(translated.source);
  return (line) => userRegexPairs(regex, line.slice(0, USER_REGEX_SEARCH_CHARS));
}

function* userRegexPairs(regex: RE2, text: string): Iterable<readonly [string, string]> {
  regex.lastIndex = 0;
  let m: RE2ExecArray | null;
  while ((m = regex.exec(text)) !== null) {
    if (m[0] === '') regex.lastIndex += 1; // step past an empty match
    const [, name, value] = m;
    if (name !== undefined && value !== undefined) yield [name, value];
  }
}

// The default regex `([\w|-]+)\s*=…` retried at every offset of a long word run is O(n²).
// A match can only start where a word run starts, or right where the previous match ended
// (e.g. `b` in `a=1b=2`): scan run starts with a lookbehind, and try the sticky form at the
// previous end. That yields exactly the default regex's matches, in linear time.
const DEFAULT_AT_RUN_START = new RegExp(String.raw`(?<![\w|-])` + DEFAULT_METRICS_FORMAT, 'g');
const DEFAULT_STICKY = new RegExp(DEFAULT_METRICS_FORMAT, 'y');

function* matchDefaultFormat(line: string): Iterable<readonly [string, string]> {
  let position = 0;
  while (position < line.length) {
    DEFAULT_STICKY.lastIndex = position;
    let m = position > 0 ? DEFAULT_STICKY.exec(line) : null;
    if (m === null) {
      DEFAULT_AT_RUN_START.lastIndex = position;
      m = DEFAULT_AT_RUN_START.exec(line);
    }
    if (m === null) return;
    position = m.index + m[0].length; // the default regex never matches empty
    yield [m[1] ?? '', m[2] ?? ''];
  }
}

// ---- JSON ----

function parseJsonLine(line: string, names: ReadonlySet<string>): ParsedObservation[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return [];
  const record = parsed as Record<string, unknown>;

  const time = jsonTimestamp(record['timestamp']);
  const step = jsonStep(record['step']) ?? jsonStep(record['epoch']);
  const observations: ParsedObservation[] = [];
  for (const [key, raw] of Object.entries(record)) {
    if (!names.has(key)) continue;
    // Katib accepts only string values; numbers are accepted too.
    const value =
      typeof raw === 'number' ? (Number.isFinite(raw) ? raw : undefined) : typeof raw === 'string' ? parseFiniteNumber(raw) : undefined;
    if (value !== undefined) observations.push(withOptional({ metric: key, value }, step, time));
  }
  return observations;
}

function jsonTimestamp(raw: unknown): string | undefined {
  if (typeof raw === 'string') return isRfc3339(raw) ? raw : undefined;
  return typeof raw === 'number' ? isoTimeOfSeconds(raw) : undefined;
}

function jsonStep(raw: unknown): number | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? raw : undefined;
  if (typeof raw === 'string') return parseInteger(raw);
  return undefined;
}

// ---- helpers ----

/** `Number(text)` when the trimmed text is non-empty and the result finite. */
function parseFiniteNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

function parseInteger(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}

function withOptional(
  o: { metric: string; value: number },
  step: number | undefined,
  time: string | undefined,
): ParsedObservation {
  return { ...o, ...(step !== undefined && { step }), ...(time !== undefined && { time }) };
}

/** A translated Go pattern (go-regexp.ts), compiled by RE2 (re2-wasm needs its unicode flag). */
const USER_REGEX_FLAGS = 'gu';
function compileUserRegex(source: string): RE2 {
  return new RE2(source, USER_REGEX_FLAGS);
}

/** An alternation with the empty string always matches, exposing every group slot. */
function countCaptureGroups(source: string): number {
  return (new RE2(`(?:${source})|`, 'u').exec('')?.length ?? 1) - 1;
}
