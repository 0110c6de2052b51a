// `spec.trialTemplate.configMap`: Katib's trial template kept in a ConfigMap, as the YAML of the
// trial object under one key of its data. The spec keeps the reference; the service layer reads
// the ConfigMap through a TrialTemplateSource (the cluster's, on the kubernetes runtime) and the
// parser checks the template it holds as it checks an inline trialSpec.
import { isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { MAX_YAML_NESTING, yamlNesting } from './yaml-depth.js';
import { excerpt, LIMITS } from '../model/limits.js';
import { SpecError } from './errors.js';
import { isBarePlaceholder } from './template.js';
import type { TemplatePath } from './types.js';
import { isNamespaceName, isObjectName, NAMESPACE_NAME_RULE, OBJECT_NAME_RULE } from './kube-names.js';
import * as read from './read.js';

export interface ConfigMapReference {
  readonly configMapName: string;
  readonly configMapNamespace: string;
  readonly templatePath: string;
}

/** What the service layer needs to resolve a reference: the ConfigMap's data, or undefined when there is no such ConfigMap. */
export interface TrialTemplateSource {
  configMapData(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

const isConfigMapKey = (key: string) => /^[-._a-zA-Z0-9]+$/.test(key);

/** Katib's rule: all three fields are required. */
export function readConfigMapReference(v: unknown, path: string): ConfigMapReference {
  const o = read.object(v, path);
  read.noUnknownKeys(o, path, ['configMapName', 'configMapNamespace', 'templatePath']);
  const field = (key: keyof ConfigMapReference, valid: (value: string) => boolean, max: number, what: string) => {
    const value = read.string(o[key], `${path}.${key}`, max);
    if (!valid(value)) throw new SpecError(`${path}.${key}`, `must be ${what} (got ${read.describe(value)})`);
    return value;
  };
  return {
    configMapName: field('configMapName', isObjectName, 253, `a Kubernetes object name: ${OBJECT_NAME_RULE}`),
    configMapNamespace: field('configMapNamespace', isNamespaceName, 63, `a Kubernetes namespace name: ${NAMESPACE_NAME_RULE}`),
    templatePath: field('templatePath', isConfigMapKey, 253, 'a ConfigMap key: letters, digits, \'-\', \'_\' and \'.\''),
  };
}

/** The reference in an unchecked Experiment document, if it has a well-formed one (the parser reports the rest). */
export function configMapReferenceOf(doc: unknown): ConfigMapReference | undefined {
  const spec = read.isObject(doc) ? doc['spec'] : undefined;
  const template = read.isObject(spec) ? spec['trialTemplate'] : undefined;
  const ref = read.isObject(template) ? template['configMap'] : undefined;
  return ref === undefined || ref === null ? undefined : readConfigMapReference(ref, 'spec.trialTemplate.configMap');
}

/**
 * A ConfigMap's template: the trial object, and where a value in its YAML is a placeholder alone,
 * unquoted (`replicas: ${trialParameters.workers}`). Katib substitutes a ConfigMap template's
 * text before it reads it as YAML, so such a value is typed by what is put there
 * (spec/template.ts: typeBareValues).
 */
export interface ConfigMapTemplate {
  readonly object: unknown;
  readonly bareValues: readonly TemplatePath[];
}

/** A source that could not answer (the cluster unreachable, a server error): not the spec's fault. */
export class TemplateSourceError extends Error {
  override name = 'TemplateSourceError';
}

/**
 * The template an Experiment document's `trialTemplate.configMap` names, read from the source
 * (undefined when it names none, or when there is no source: the parser then says why).
 */
export async function resolveConfigMapTemplate(doc: unknown, source: TrialTemplateSource | undefined): Promise<ConfigMapTemplate | undefined> {
  const ref = configMapReferenceOf(doc);
  if (ref === undefined || source === undefined) return undefined;
  let data: Readonly<Record<string, string>> | undefined;
  try {
    data = await source.configMapData(ref.configMapNamespace, ref.configMapName);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new TemplateSourceError(`could not read ConfigMap ${ref.configMapNamespace}/${ref.configMapName}: ${excerpt(err instanceof Error ? err.message : String(err), 200)}`);
  }
  return templateFromConfigMap(ref, data);
}

/** The trial object a ConfigMap holds for a reference; a missing ConfigMap, key or bad YAML is a SpecError naming the field. */
export function templateFromConfigMap(ref: ConfigMapReference, data: Readonly<Record<string, string>> | undefined): ConfigMapTemplate {
  const path = 'spec.trialTemplate.configMap';
  const where = `ConfigMap ${ref.configMapNamespace}/${ref.configMapName}`;
  if (data === undefined) throw new SpecError(`${path}.configMapName`, `${where} not found`);
  const text = Object.hasOwn(data, ref.templatePath) ? data[ref.templatePath] : undefined;
  if (text === undefined) {
    const keys = Object.keys(data).sort();
    throw new SpecError(`${path}.templatePath`, `${where} has no key ${JSON.stringify(ref.templatePath)} (its keys: ${keys.length > 0 ? keys.map((k) => JSON.stringify(excerpt(k, 60))).join(', ') : 'none'})`);
  }
  if (text.length > LIMITS.maxBodyBytes) throw new SpecError(`${path}.templatePath`, `the template in ${where} must be at most ${LIMITS.maxBodyBytes} characters (got ${text.length})`);
  if (yamlNesting(text) > MAX_YAML_NESTING) throw new SpecError(`${path}.templatePath`, `the template in ${where}, key ${JSON.stringify(ref.templatePath)}, is nested too deeply (at most ${LIMITS.maxDocumentDepth} levels)`);
  let template: unknown;
  const bareValues: TemplatePath[] = [];
  try {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
    const error = doc.errors[0];
    if (error) throw new SpecError(`${path}.templatePath`, `the template in ${where}, key ${JSON.stringify(ref.templatePath)}, is not valid YAML: ${excerpt(error.message.split('\n')[0] ?? '', 200)}`);
    template = doc.toJS({ maxAliasCount: LIMITS.maxYamlAliases });
    if (doc.contents) collectBareValues(doc.contents, [], bareValues);
  } catch (err) {
    if (err instanceof SpecError) throw err;
    throw new SpecError(`${path}.templatePath`, `the template in ${where}, key ${JSON.stringify(ref.templatePath)}, is not usable YAML: ${excerpt((err as Error).message, 200)}`);
  }
  if (!read.isObject(template)) {
    throw new SpecError(`${path}.templatePath`, `the template in ${where}, key ${JSON.stringify(ref.templatePath)}, must be a Kubernetes object in YAML (got ${read.describe(template)})`);
  }
  read.checkDepth(template, `${path}.templatePath`);
  return { object: template, bareValues };
}

/** The paths of the plain (unquoted) scalars that are a placeholder alone. Aliases are left as they read. */
function collectBareValues(node: Node, at: TemplatePath, out: TemplatePath[]): void {
  if (isScalar(node)) {
    if (node.type === 'PLAIN' && typeof node.value === 'string' && isBarePlaceholder(node.value)) out.push(at);
  } else if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if ((typeof key === 'string' || typeof key === 'number') && pair.value && typeof pair.value === 'object') collectBareValues(pair.value as Node, [...at, String(key)], out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      if (item && typeof item === 'object') collectBareValues(item as Node, [...at, i], out);
    });
  }
}
