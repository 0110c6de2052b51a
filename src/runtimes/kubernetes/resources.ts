// What the runtime needs to know about a trial's kind: where its objects live (group, version,
// plural), Katib's default success/failure conditions and primary pod labels, and which labels
// the controller puts on the pods it creates.

export interface Resource {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
}

/** Kinds whose plural is not "lower-case kind + s" (Katib uses the same guess). */
const PLURALS: Readonly<Record<string, string>> = {
  endpoints: 'endpoints',
  networkpolicy: 'networkpolicies',
  ingress: 'ingresses',
  ingressclass: 'ingressclasses',
  priorityclass: 'priorityclasses',
  storageclass: 'storageclasses',
  runtimeclass: 'runtimeclasses',
};

export function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  const known = PLURALS[lower];
  if (known) return known;
  if (lower.endsWith('s') || lower.endsWith('x') || lower.endsWith('ch') || lower.endsWith('sh')) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}

export function resourceOf(apiVersion: string, kind: string): Resource {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return { group, version, plural: pluralOf(kind), kind };
}

/** The collection path of a resource in a namespace (for watches). */
export function collectionPath(r: Resource, namespace: string): string {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`;
}

/** Kubeflow training-operator kinds (kubeflow.org): operator pod labels, job-role=master. */
const KUBEFLOW_JOBS = new Set(['TFJob', 'PyTorchJob', 'MPIJob', 'XGBoostJob', 'PaddleJob', 'JAXJob']);

export const isKubeflowJob = (r: Resource) => r.group === 'kubeflow.org' && KUBEFLOW_JOBS.has(r.kind);
export const isBatchJob = (r: Resource) => r.group === 'batch' && r.kind === 'Job';
export const isTrainJob = (r: Resource) => r.group === 'trainer.kubeflow.org' && r.kind === 'TrainJob';
export const isArgoWorkflow = (r: Resource) => r.group === 'argoproj.io' && r.kind === 'Workflow';
export const isTektonPipelineRun = (r: Resource) => r.group === 'tekton.dev' && r.kind === 'PipelineRun';

const conditionPath = (type: string, status = 'True') => `status.conditions.#(type=="${type}")#|#(status=="${status}")#`;

export interface Conditions {
  readonly success: string;
  readonly failure: string;
}

/** Katib's defaults (experiment_defaults.go); undefined for kinds that have none. */
export function defaultConditions(r: Resource): Conditions | undefined {
  if (isKubeflowJob(r)) return { success: conditionPath('Succeeded'), failure: conditionPath('Failed') };
  if (isBatchJob(r) || isTrainJob(r)) return { success: conditionPath('Complete'), failure: conditionPath('Failed') };
  return undefined;
}

/** For kinds Katib has no default for: the conditions its examples use, to name in the refusal. */
export function exampleConditions(r: Resource): Conditions | undefined {
  if (isArgoWorkflow(r)) return { success: 'status.[@this].#(phase=="Succeeded")#', failure: 'status.[@this].#(phase=="Failed")#' };
  if (isTektonPipelineRun(r)) return { success: conditionPath('Succeeded'), failure: conditionPath('Succeeded', 'False') };
  return undefined;
}

export function defaultPrimaryPodLabels(r: Resource): Readonly<Record<string, string>> {
  if (isKubeflowJob(r)) return { 'training.kubeflow.org/job-role': 'master' };
  if (isTrainJob(r)) return { 'jobset.sigs.k8s.io/replicatedjob-name': 'node', 'batch.kubernetes.io/job-completion-index': '0' };
  return {};
}

export const STUDY_LABEL = 'sibyl.dev/study';
export const TRIAL_LABEL = 'sibyl.dev/trial';

/**
 * The label the kind's controller puts on every pod of the object named `trialName`; for kinds
 * Sibyl does not know, Sibyl's trial label, which the runtime puts on every pod template.
 */
export function ownPodLabels(r: Resource, trialName: string): Readonly<Record<string, string>> {
  if (isKubeflowJob(r)) return { 'training.kubeflow.org/job-name': trialName };
  if (isBatchJob(r)) return { 'job-name': trialName };
  if (isTrainJob(r)) return { 'jobset.sigs.k8s.io/jobset-name': trialName };
  if (isArgoWorkflow(r)) return { 'workflows.argoproj.io/workflow': trialName };
  if (isTektonPipelineRun(r)) return { 'tekton.dev/pipelineRun': trialName };
  return { [TRIAL_LABEL]: trialName };
}

/** The labels that pick a trial's primary pod: the controller's own plus the primary pod labels. */
export function primaryPodSelector(r: Resource, trialName: string, primaryPodLabels: Readonly<Record<string, string>>): string {
  const labels = { ...ownPodLabels(r, trialName), ...primaryPodLabels };
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}
