// What the kubernetes runtime needs from a study beyond what the spec parser checks: a trialSpec
// of a namespaced API-group kind, its primary container (found by the kind's rule, see
// spec/containers.ts), and success/failure conditions (Katib's defaults per kind, or given)
// written in the GJSON subset conditions.ts implements; for a study that keeps checkpoints, a
// volume to keep them on (checkpoint-volume.ts).
import { podTemplates, primaryContainer } from '../../spec/containers.js';
import { SpecError } from '../../spec/errors.js';
import { checkObjectMeta } from '../../spec/object-meta.js';
import type { StudySpec } from '../../spec/types.js';
import { validateCheckpointVolume, type CheckpointVolume } from './checkpoint-volume.js';
import { compileCondition } from './conditions.js';
import { validateMetricsDump } from './metrics-dump.js';
import { defaultConditions, exampleConditions, resourceOf } from './resources.js';

export interface KubernetesRuntimeFacts {
  /** Where trials keep checkpoint folders; without it a study that keeps them is refused. */
  readonly checkpointVolume?: CheckpointVolume;
}

export function validateForKubernetes(spec: StudySpec, facts: KubernetesRuntimeFacts = {}): void {
  const t = spec.trialTemplate;
  const trialSpec = t.trialSpec;
  if (!trialSpec) throw new SpecError('spec.trialTemplate.trialSpec', 'required by the kubernetes runtime');
  const apiVersion = trialSpec['apiVersion'];
  const kind = trialSpec['kind'];
  if (typeof apiVersion !== 'string' || apiVersion === '') throw new SpecError('spec.trialTemplate.trialSpec.apiVersion', 'required by the kubernetes runtime');
  if (typeof kind !== 'string' || kind === '') throw new SpecError('spec.trialTemplate.trialSpec.kind', 'required by the kubernetes runtime');
  const resource = resourceOf(apiVersion, kind);
  if (resource.group === '') {
    // A bare Pod (or any core kind) has no controller whose status says the trial ended.
    throw new SpecError('spec.trialTemplate.trialSpec.apiVersion', `core-group kinds (${apiVersion} ${kind}) are not supported as trials, as they have no job status to judge: wrap the pod in a Job (batch/v1) or a training job`);
  }
  const name = t.primaryContainerName;
  if (!name) throw new SpecError('spec.trialTemplate.primaryContainerName', 'required by the kubernetes runtime');
  const found = primaryContainer(trialSpec, name, t.primaryPodLabels);
  if ('problem' in found) throw new SpecError('spec.trialTemplate.primaryContainerName', found.problem);
  // Each trial's labels go into every pod template's metadata (and an Argo template's).
  for (const { template, path } of podTemplates(trialSpec['spec'], 'spec.trialTemplate.trialSpec.spec')) checkObjectMeta(template['metadata'], `${path}.metadata`);
  if (found.podMetadataOf) checkObjectMeta(found.podMetadataOf.object['metadata'], `spec.trialTemplate.trialSpec.${found.podMetadataOf.path}.metadata`);
  // Both the file collectors' wrap and the checkpoint mount edit the primary container where it
  // sits in a pod template; kinds that keep it elsewhere (TrainJob's trainer, Argo steps) have none.
  const primaryInTemplate = found.podSpec ? { podSpec: found.podSpec, container: found.container } : undefined;
  validateMetricsDump(spec, primaryInTemplate);
  validateCheckpointVolume(spec, primaryInTemplate, facts.checkpointVolume);
  const defaults = defaultConditions(resource);
  const examples = exampleConditions(resource);
  for (const [field, given, fallback, example] of [
    ['successCondition', t.successCondition, defaults?.success, examples?.success],
    ['failureCondition', t.failureCondition, defaults?.failure, examples?.failure],
  ] as const) {
    const expr = given ?? fallback;
    if (expr === undefined) {
      throw new SpecError(`spec.trialTemplate.${field}`, `required for kind ${kind} (${apiVersion}): Katib has no default for it${example ? `; Katib's example uses ${example}` : ''}`);
    }
    try {
      compileCondition(expr);
    } catch (err) {
      throw new SpecError(`spec.trialTemplate.${field}`, (err as Error).message);
    }
  }
}
