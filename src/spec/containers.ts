// Finding the primary container of a trial in its trialSpec, per kind. Most kinds (TFJob,
// PyTorchJob, MPIJob, XGBoostJob, batch Job, …) keep it in a pod template's `containers` list,
// under the name the pod will show. Three kinds describe it otherwise, and their controllers
// name the pod's container after a convention, which primaryContainerName follows (as Katib's
// examples do):
//   TrainJob (trainer.kubeflow.org)  `spec.trainer` overrides the runtime's container "node"
//   Argo Workflow (argoproj.io)      a template's `container` or `script` runs as "main"
//   Tekton PipelineRun (tekton.dev)  step <s> of an embedded task runs as "step-<s>"
import { isObject, type Doc } from './read.js';

export interface ContainerView {
  readonly name?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
}

export type PrimaryContainer =
  | {
      /** The container-like object in the trialSpec (its env reaches the primary container). */
      readonly container: Doc;
      /** The pod spec holding it, where the kind keeps it in a pod template's `containers` list. */
      readonly podSpec?: Doc;
      /** The object whose `metadata.labels` the primary pod gets (an Argo template), and its path in the trialSpec. */
      readonly podMetadataOf?: { readonly object: Doc; readonly path: string };
      /** Labels the kind's controller gives the primary pod, known from the spec (Tekton's task). */
      readonly podLabels?: Readonly<Record<string, string>>;
    }
  | { readonly problem: string };

export const TRAINJOB_CONTAINER = 'node';
export const ARGO_CONTAINER = 'main';
export const TEKTON_STEP_PREFIX = 'step-';

type TrialKindName = 'TrainJob' | 'ArgoWorkflow' | 'TektonPipelineRun' | 'PodTemplates';

/** Which rule finds the primary container of an object of this apiVersion and kind. */
export function containerRuleOf(apiVersion: unknown, kind: unknown): TrialKindName {
  const group = typeof apiVersion === 'string' && apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  if (group === 'trainer.kubeflow.org' && kind === 'TrainJob') return 'TrainJob';
  if (group === 'argoproj.io' && kind === 'Workflow') return 'ArgoWorkflow';
  if (group === 'tekton.dev' && kind === 'PipelineRun') return 'TektonPipelineRun';
  return 'PodTemplates';
}

/**
 * The primary container `name` of a trialSpec, or what is wrong. `primaryPodLabels` narrows the
 * search where the kind puts a pod's labels in the spec (Argo templates, Tekton tasks). With
 * `create`, a TrainJob without `spec.trainer` gets one (to carry the trial's env).
 */
export function primaryContainer(trialSpec: Doc, name: string, primaryPodLabels?: Readonly<Record<string, string>>, create = false): PrimaryContainer {
  const spec = trialSpec['spec'];
  switch (containerRuleOf(trialSpec['apiVersion'], trialSpec['kind'])) {
    case 'TrainJob':
      return trainJobContainer(spec, name, create);
    case 'ArgoWorkflow':
      return argoContainer(spec, name, primaryPodLabels);
    case 'TektonPipelineRun':
      return tektonStep(spec, name, primaryPodLabels);
    case 'PodTemplates': {
      const found = findPodTemplateContainer(spec, name);
      if (found) return found;
      const names = containerNames(spec);
      return { problem: `no container named "${name}" in the trialSpec (${names.length > 0 ? `its containers: ${names.join(', ')}` : 'it has no pod template with a containers list'})` };
    }
  }
}

function trainJobContainer(spec: unknown, name: string, create: boolean): PrimaryContainer {
  if (name !== TRAINJOB_CONTAINER) {
    return { problem: `a TrainJob runs its trainer (spec.trainer) in the runtime's container "${TRAINJOB_CONTAINER}": "${name}" is not a container Sibyl can find in it; set primaryContainerName to "${TRAINJOB_CONTAINER}"` };
  }
  if (!isObject(spec)) return { problem: 'a TrainJob needs a spec (with runtimeRef and, usually, trainer)' };
  if (spec['trainer'] !== undefined && !isObject(spec['trainer'])) return { problem: 'spec.trainer of the TrainJob must be an object' };
  if (spec['trainer'] === undefined && create) spec['trainer'] = {};
  // No trainer: the runtime's own container runs as it is; the env still goes into spec.trainer.
  return { container: (spec['trainer'] as Doc | undefined) ?? {} };
}

function argoContainer(spec: unknown, name: string, labels: Readonly<Record<string, string>> | undefined): PrimaryContainer {
  if (!isObject(spec) || !Array.isArray(spec['templates'])) return { problem: 'an Argo Workflow needs spec.templates (a list)' };
  // Kept with their positions (a YAML alias may list one object twice: it counts twice).
  const runnable = (spec['templates'] as unknown[]).flatMap((template, index) =>
    (isObject(template) && (isObject(template['container']) || isObject(template['script'])) ? [{ template, index }] : []));
  const body = (t: Doc) => (isObject(t['container']) ? t['container'] : t['script']) as Doc;
  const names = (list: typeof runnable) => list.map(({ template }) => String(template['name'])).join(', ');
  if (name !== ARGO_CONTAINER) {
    const named = runnable.find(({ template }) => body(template)['name'] === name)?.template;
    const what = named ? `"${name}" is the container of template ${String(named['name'] ?? '?')}, but Argo runs a template's container as "${ARGO_CONTAINER}" in its pod` : `Argo runs a template's container as "${ARGO_CONTAINER}" in its pod, and no template's container is named "${name}"`;
    return { problem: `${what}: set primaryContainerName to "${ARGO_CONTAINER}"` };
  }
  if (runnable.length === 0) return { problem: 'the Argo Workflow has no template with a container or script (spec.templates[].container)' };
  const matching = labels ? runnable.filter(({ template }) => hasLabels(template, labels)) : runnable;
  if (matching.length === 1) {
    const { template, index } = matching[0]!;
    return { container: body(template), podMetadataOf: { object: template, path: `spec.templates[${index}]` } };
  }
  if (matching.length === 0) {
    return { problem: `no template with a container has the primaryPodLabels (${formatLabels(labels!)}) in its metadata.labels (templates: ${names(runnable)})` };
  }
  return {
    problem: `${matching.length} templates run a container (${names(matching)}): set primaryPodLabels to labels that only the primary one has in its metadata.labels`,
  };
}

function tektonStep(spec: unknown, name: string, labels: Readonly<Record<string, string>> | undefined): PrimaryContainer {
  if (!isObject(spec)) return { problem: 'a PipelineRun needs a spec' };
  const pipeline = spec['pipelineSpec'];
  if (!isObject(pipeline)) {
    return { problem: spec['pipelineRef'] !== undefined ? 'the PipelineRun refers to a Pipeline (spec.pipelineRef) whose steps Sibyl cannot see: embed it as spec.pipelineSpec' : 'a PipelineRun trial needs spec.pipelineSpec' };
  }
  const steps: { task: string; step: Doc }[] = [];
  for (const task of [...listOf(pipeline['tasks']), ...listOf(pipeline['finally'])]) {
    const taskSpec = task['taskSpec'];
    for (const step of isObject(taskSpec) ? listOf(taskSpec['steps']) : []) steps.push({ task: String(task['name'] ?? '?'), step });
  }
  if (!name.startsWith(TEKTON_STEP_PREFIX)) {
    const same = steps.some((s) => s.step['name'] === name);
    return { problem: `Tekton runs step <s> as container "${TEKTON_STEP_PREFIX}<s>"${same ? `: set primaryContainerName to "${TEKTON_STEP_PREFIX}${name}" for step ${name}` : `, and "${name}" has no such prefix`}` };
  }
  const stepName = name.slice(TEKTON_STEP_PREFIX.length);
  const task = labels?.['tekton.dev/pipelineTask'];
  const found = steps.filter((s) => s.step['name'] === stepName && (task === undefined || s.task === task));
  if (found.length === 1) return { container: found[0]!.step, podLabels: { 'tekton.dev/pipelineTask': found[0]!.task } };
  if (found.length === 0) {
    return { problem: `no step named "${stepName}" in spec.pipelineSpec.tasks[].taskSpec.steps${task !== undefined ? ` of task ${task} (primaryPodLabels tekton.dev/pipelineTask)` : ''} (steps: ${steps.map((s) => `${s.task}/${String(s.step['name'])}`).join(', ') || 'none'})` };
  }
  return { problem: `step "${stepName}" is in tasks ${found.map((s) => s.task).join(', ')}: set primaryPodLabels {tekton.dev/pipelineTask: <task>} to pick one` };
}

const listOf = (v: unknown): Doc[] => (Array.isArray(v) ? v.filter(isObject) : []);

function hasLabels(template: Doc, labels: Readonly<Record<string, string>>): boolean {
  const own = isObject(template['metadata']) && isObject(template['metadata']['labels']) ? template['metadata']['labels'] : {};
  return Object.entries(labels).every(([k, v]) => own[k] === v);
}

const formatLabels = (labels: Readonly<Record<string, string>>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(', ');

/** A pod template in a trialSpec (an object under a `template` key with a `spec.containers` list), and its path. */
export interface PodTemplate {
  readonly template: Doc;
  readonly path: string;
}

/** Every pod template below `root`, whose own path is `path`, in document order. */
export function podTemplates(root: unknown, path: string, out: PodTemplate[] = []): PodTemplate[] {
  if (Array.isArray(root)) root.forEach((item, i) => podTemplates(item, `${path}[${i}]`, out));
  else if (isObject(root)) {
    for (const [key, value] of Object.entries(root)) {
      const at = `${path}.${key}`;
      if (key === 'template' && isObject(value) && isObject(value['spec']) && Array.isArray(value['spec']['containers'])) out.push({ template: value, path: at });
      else podTemplates(value, at, out);
    }
  }
  return out;
}

/** A container of a pod template, with the pod spec whose `containers` list holds it. */
export interface PodTemplateContainer {
  readonly podSpec: Doc;
  readonly container: Doc;
}

/** The first container named `name` in a `containers` list, searched depth-first in document order. */
export function findPodTemplateContainer(root: unknown, name: string): PodTemplateContainer | undefined {
  if (Array.isArray(root)) {
    for (const item of root) {
      const found = findPodTemplateContainer(item, name);
      if (found) return found;
    }
    return undefined;
  }
  if (!isObject(root)) return undefined;
  const containers = root['containers'];
  if (Array.isArray(containers)) {
    const hit = containers.find((c) => isObject(c) && c['name'] === name);
    if (hit) return { podSpec: root, container: hit as Doc };
  }
  for (const value of Object.values(root)) {
    const found = findPodTemplateContainer(value, name);
    if (found) return found;
  }
  return undefined;
}

/** Every container name in `containers` lists, for messages. */
function containerNames(root: unknown, out: string[] = []): string[] {
  if (Array.isArray(root)) for (const item of root) containerNames(item, out);
  else if (isObject(root)) {
    if (Array.isArray(root['containers'])) for (const c of root['containers']) if (isObject(c) && typeof c['name'] === 'string' && !out.includes(c['name'])) out.push(c['name']);
    for (const value of Object.values(root)) containerNames(value, out);
  }
  return out;
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** The argv a container would run: its command followed by its args. */
export function containerArgv(c: ContainerView): string[] | undefined {
  const command = isStringList(c.command) ? c.command : [];
  const args = isStringList(c.args) ? c.args : [];
  const argv = [...command, ...args];
  return argv.length > 0 ? argv : undefined;
}
