// What the kubernetes runtime needs from a study beyond what the spec parser checks: a trialSpec
// of a namespaced API-group kind, its primary container (found by the kind's rule, see
// spec/containers.ts), and success/failure conditions (Katib's defaults per kind, or given)
// written in the GJSON subset conditions.ts implements.
import { checkpointMountPath, CHECKPOINT_SETTING } from '../checkpoint.js';
import { primaryContainer } from '../../spec/containers.js';
import { SpecError } from '../../spec/errors.js';
import type { StudySpec } from '../../spec/types.js';
import { compileCondition } from './conditions.js';
import { validateMetricsDump } from './metrics-dump.js';
import { defaultConditions, exampleConditions, resourceOf } from './resources.js';

export function validateForKubernetes(spec: StudySpec): void {
  // Katib mounts a ReadWriteMany volume's folder per trial at this path and copies a parent's
  // folder into its child's; Sibyl provisions no such volume (yet): refused rather than run
  // with checkpoints that silently go nowhere.
  if (checkpointMountPath(spec) !== undefined) {
    throw new SpecError(
      `spec.algorithm.algorithmSettings[${CHECKPOINT_SETTING}]`,
      `trial checkpoint folders (algorithm ${spec.algorithm.algorithmName}) need a volume shared by all trials (ReadWriteMany), which the kubernetes runtime does not provide yet: run this study on the local runtime`,
    );
  }
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
  validateMetricsDump(spec, found.container);
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
