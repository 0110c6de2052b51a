// A trial's Kubernetes object: the template's trialSpec with its placeholders substituted
// (Katib substitutes over the serialized template; here over its JSON, with each value
// JSON-escaped so a quote in a categorical value cannot break the document), named after the
// trial, in the study's namespace, labelled (object and every pod template) so the runtime can
// find it and its pods, and with the trial's name in the primary container's environment
// (wherever the kind keeps it: a pod template, a TrainJob's trainer, an Argo template, a Tekton step).
import { substitute, trialParameterValues, typeBareValues } from '../../spec/template.js';
import { findPodTemplateContainer, podTemplates, primaryContainer } from '../../spec/containers.js';
import { isObject } from '../../spec/read.js';
import type { TrialTemplateSpec } from '../../spec/types.js';
import type { LaunchRequest } from '../types.js';
import { compileCondition, type JobConditions } from './conditions.js';
import { defaultConditions, defaultPrimaryPodLabels, primaryPodSelector, resourceOf, STUDY_LABEL, TRIAL_LABEL, type Resource } from './resources.js';

export type KubeObject = Record<string, any>;

export interface RenderedTrial {
  readonly object: KubeObject;
  readonly resource: Resource;
  readonly namespace: string;
}

export interface RenderOptions {
  /** Passed to the trial as SIBYL_PUSH_ENDPOINT. */
  readonly pushEndpoint?: string;
  /** Passed to the trial as SIBYL_PUSH_TOKEN: it may push this trial's metrics, nothing else. */
  readonly pushToken?: string;
}

export function renderTrial(req: LaunchRequest, options: RenderOptions = {}): RenderedTrial {
  const spec = req.template.trialSpec;
  if (!spec) throw new Error('the trial template has no trialSpec (required by the kubernetes runtime)');
  const values = trialParameterValues(req.template, req.assignment, { trialName: req.trialName, namespace: req.namespace });
  const escaped = new Map([...values].map(([k, v]) => [k, JSON.stringify(v).slice(1, -1)]));
  const object = JSON.parse(substitute(JSON.stringify(spec), escaped)) as KubeObject;
  if (req.template.bareValues) typeBareValues(object, req.template.bareValues);
  const labels = { [STUDY_LABEL]: labelValue(req.studyName), [TRIAL_LABEL]: labelValue(req.trialName) };

  const metadata = (object['metadata'] ??= {});
  metadata.name = req.trialName;
  metadata.namespace = req.namespace;
  metadata.labels = { ...(metadata.labels ?? {}), ...labels };
  for (const { template } of podTemplates(object['spec'], 'spec')) {
    const m = (template['metadata'] ??= {}) as KubeObject;
    m.labels = { ...(m.labels ?? {}), ...labels };
  }

  const name = req.template.primaryContainerName;
  const found = name ? primaryContainer(object, name, req.template.primaryPodLabels, true) : undefined;
  if (found && 'podMetadataOf' in found && found.podMetadataOf) {
    // An Argo template's labels go to its pod, which has no pod template Sibyl could label.
    const m = (found.podMetadataOf.object['metadata'] ??= {}) as KubeObject;
    m['labels'] = { ...(m['labels'] ?? {}), ...labels };
  }
  const container = found && 'container' in found ? (found.container as KubeObject) : undefined;
  if (container) {
    const extra: Record<string, string> = { KATIB_TRIAL_NAME: req.trialName, SIBYL_TRIAL_NAME: req.trialName, SIBYL_STUDY_NAME: req.studyName };
    if (options.pushEndpoint) extra['SIBYL_PUSH_ENDPOINT'] = options.pushEndpoint;
    if (options.pushToken) extra['SIBYL_PUSH_TOKEN'] = options.pushToken;
    setEnv(container, extra);
  }
  return { object, resource: resourceOf(String(object['apiVersion'] ?? ''), String(object['kind'] ?? '')), namespace: req.namespace };
}

/** Sets variables in a container's env (in place), replacing those of the same names. */
export function setEnv(container: KubeObject, values: Readonly<Record<string, string>>): void {
  const env: KubeObject[] = Array.isArray(container['env']) ? container['env'] : [];
  // Own names only: an env var called `constructor` is the template's, not an inherited key.
  const ours = (e: unknown) => isObject(e) && typeof e['name'] === 'string' && Object.hasOwn(values, e['name']);
  container['env'] = [...env.filter((e) => !ours(e)), ...Object.entries(values).map(([name, value]) => ({ name, value }))];
}

/** A container of a pod template, with the pod spec that holds it, as the runtime edits them. */
export interface PodTemplateContainer {
  readonly podSpec: KubeObject;
  readonly container: KubeObject;
}

/** The pod spec holding the first container named `name`, depth-first in document order. */
export function podSpecOf(root: unknown, name: string): PodTemplateContainer | undefined {
  return findPodTemplateContainer(root, name);
}

/** Label values: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(text: string): string {
  const v = text.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v;
}

export interface TrialPlan {
  readonly resource: Resource;
  readonly conditions: JobConditions;
  readonly podSelector: (trialName: string) => string;
  readonly container?: string;
}

/**
 * The labels of a trial's primary pod besides its controller's own: the template's, else what the
 * kind's rule found in the spec (Tekton's task of the primary step), else Katib's default.
 */
function primaryPodLabelsOf(template: TrialTemplateSpec, resource: Resource): Readonly<Record<string, string>> {
  if (template.primaryPodLabels) return template.primaryPodLabels;
  const spec = template.trialSpec;
  const found = spec && template.primaryContainerName ? primaryContainer(spec, template.primaryContainerName) : undefined;
  if (found && 'container' in found && found.podLabels) return found.podLabels;
  return defaultPrimaryPodLabels(resource);
}

/** How a template's trials are followed: conditions (Katib's defaults per kind) and pods. */
export function planFor(template: TrialTemplateSpec): TrialPlan {
  const spec = template.trialSpec ?? {};
  const resource = resourceOf(String(spec['apiVersion'] ?? ''), String(spec['kind'] ?? ''));
  const podLabels = primaryPodLabelsOf(template, resource);
  const defaults = defaultConditions(resource);
  const success = template.successCondition ?? defaults?.success;
  const failure = template.failureCondition ?? defaults?.failure;
  if (success === undefined || failure === undefined) {
    throw new Error(`kind ${resource.kind} (${spec['apiVersion']}) has no default success/failure condition: set trialTemplate.successCondition and failureCondition`);
  }
  return {
    resource,
    conditions: { success: compileCondition(success), failure: compileCondition(failure) },
    podSelector: (trialName) => primaryPodSelector(resource, trialName, podLabels),
    ...(template.primaryContainerName ? { container: template.primaryContainerName } : {}),
  };
}
