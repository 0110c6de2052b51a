// Katib's trial-template placeholders: `${trialParameters.<name>}` in the template, each bound
// to a study parameter or to trial metadata (`${trialSpec.Name}` and friends).
import { parse } from 'yaml';
import type { Assignment } from '../model/trial.js';
import type { TemplatePath, TrialTemplateSpec } from './types.js';

const PLACEHOLDER = /\$\{trialParameters\.(.+?)\}/g;
const META_REFERENCE = /^\$\{trialSpec\.(.+?)\}$/;
const INDEXED_META = /^(Annotations|Labels)\[(.+)\]$/;
export const META_KEYS = ['Name', 'Namespace', 'Kind', 'APIVersion'] as const;

/** Names of every `${trialParameters.x}` in a text, in order of first appearance. */
export function placeholdersIn(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) names.add(m[1] ?? '');
  return [...names];
}

export type MetaReference =
  | { readonly key: (typeof META_KEYS)[number] }
  | { readonly key: 'Annotations' | 'Labels'; readonly index: string };

/** Parses `${trialSpec.Name}`-style references; undefined for parameter references. */
export function parseMetaReference(reference: string): MetaReference | 'invalid' | undefined {
  const m = META_REFERENCE.exec(reference);
  if (!m) return undefined;
  const key = m[1] ?? '';
  if ((META_KEYS as readonly string[]).includes(key)) return { key: key as MetaReference['key'] } as MetaReference;
  const indexed = INDEXED_META.exec(key);
  if (indexed) return { key: indexed[1] as 'Annotations' | 'Labels', index: indexed[2] ?? '' };
  return 'invalid';
}

export interface TrialIdentity {
  readonly trialName: string;
  readonly namespace: string;
}

/** The value of each trialParameter for one trial, as the strings substituted into templates. */
export function trialParameterValues(
  template: TrialTemplateSpec,
  assignment: Assignment,
  identity: TrialIdentity,
): Map<string, string> {
  const values = new Map<string, string>();
  const spec = template.trialSpec ?? {};
  const metadata = (spec['metadata'] ?? {}) as { annotations?: Record<string, string>; labels?: Record<string, string> };
  for (const tp of template.trialParameters) {
    const meta = parseMetaReference(tp.reference);
    if (meta === undefined) {
      values.set(tp.name, formatValue(assignment[tp.reference]));
    } else if (meta !== 'invalid') {
      values.set(tp.name, metaValue(meta, identity, spec, metadata));
    }
  }
  return values;
}

function metaValue(
  ref: MetaReference,
  identity: TrialIdentity,
  spec: Readonly<Record<string, unknown>>,
  metadata: { annotations?: Record<string, string>; labels?: Record<string, string> },
): string {
  switch (ref.key) {
    case 'Name':
      return identity.trialName;
    case 'Namespace':
      return identity.namespace;
    case 'Kind':
      return String(spec['kind'] ?? '');
    case 'APIVersion':
      return String(spec['apiVersion'] ?? '');
    case 'Annotations':
      return metadata.annotations?.[ref.index] ?? '';
    case 'Labels':
      return metadata.labels?.[ref.index] ?? '';
  }
}

/**
 * trialParameters bound to a study parameter the assignment leaves out (an inactive
 * conditional parameter): their placeholders render as the empty string, and the local
 * runtime drops the command arguments that carry them (src/runtimes/local/argv.ts).
 */
export function inactiveTrialParameters(template: TrialTemplateSpec, assignment: Assignment): Set<string> {
  const names = new Set<string>();
  for (const tp of template.trialParameters) {
    if (parseMetaReference(tp.reference) === undefined && assignment[tp.reference] === undefined) names.add(tp.name);
  }
  return names;
}

export function formatValue(v: number | string | undefined): string {
  return v === undefined ? '' : String(v);
}

/** Replaces every placeholder in a text (Katib does a plain string replace too). */
export function substitute(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => values.get(name) ?? whole);
}

/** A text that is one placeholder and nothing else. */
export function isBarePlaceholder(text: string): boolean {
  return /^\$\{trialParameters\.[^{}]+\}$/.test(text);
}

/**
 * Types, in place, the values of a substituted object at `paths` (a ConfigMap template's bare
 * placeholders): a value YAML reads as a finite number or a boolean becomes one; any other text
 * stays the string it is. Unlike Katib's plain text replace, a value can never add structure
 * (`a: b` stays a string).
 */
export function typeBareValues(object: Record<string, unknown>, paths: readonly TemplatePath[]): void {
  for (const path of paths) {
    let holder: any = object;
    for (const key of path.slice(0, -1)) holder = holder?.[key];
    const last = path.at(-1);
    if (last === undefined || holder === null || typeof holder !== 'object' || typeof holder[last] !== 'string') continue;
    const typed = scalarOf(holder[last]);
    if (typed !== undefined) holder[last] = typed;
  }
}

function scalarOf(text: string): number | boolean | undefined {
  try {
    const value: unknown = parse(text, { schema: 'core' });
    return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' ? value : undefined;
  } catch {
    return undefined; // not YAML on its own: it stays text
  }
}
