// Checkpoint folders (Katib's `suggestion_trial_dir`, pbt) on the kubernetes runtime, kept as
// Katib keeps them: one PersistentVolumeClaim holds a `<study>/<trial>` folder per trial, and the
// trial's primary container mounts its own folder (subPath) at the setting's path. Katib's
// suggestion pod mounts the claim and makes each folder (a copy of the parent's for pbt's
// exploit); here Sibyl does, through `dir`, where its own process sees the same claim (its pod
// mounts it; on one machine, a hostPath volume's folder), before the trial's object is created.
import { statSync } from 'node:fs';
import { checkpointMountPath, CHECKPOINT_SETTING } from '../checkpoint.js';
import { checkpointSubPath } from '../checkpoint-folders.js';
import { SpecError } from '../../spec/errors.js';
import { isObjectName, OBJECT_NAME_RULE } from '../../spec/kube-names.js';
import type { StudySpec } from '../../spec/types.js';
import type { LaunchRequest } from '../types.js';
import { podSpecOf, setEnv, type KubeObject, type PodTemplateContainer } from './render.js';

export interface CheckpointVolume {
  /** A PersistentVolumeClaim of this name in each study's namespace, shared by all its trials (ReadWriteMany across nodes). */
  readonly claimName: string;
  /** The claim's root as this process sees it. */
  readonly dir: string;
}

/** The volume's name in a trial's pod. */
export const CHECKPOINT_VOLUME = 'sibyl-checkpoint';

/** The configured volume (both settings or neither); a reason in the error otherwise. `flag` names each setting as the user wrote it. */
export function readCheckpointVolume(claimName: string | undefined, dir: string | undefined, flag: (setting: 'claim' | 'dir') => string): CheckpointVolume | undefined {
  if (claimName === undefined && dir === undefined) return undefined;
  if (claimName === undefined) throw new Error(`${flag('dir')} needs ${flag('claim')}: the PersistentVolumeClaim trials mount`);
  if (dir === undefined) throw new Error(`${flag('claim')} needs ${flag('dir')}: where this process sees that claim's root`);
  if (!isObjectName(claimName)) throw new Error(`${flag('claim')} must name a PersistentVolumeClaim (${OBJECT_NAME_RULE}; got ${JSON.stringify(claimName)})`);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw new Error(`${flag('dir')} ${JSON.stringify(dir)} is not a folder`);
  return { claimName, dir };
}

/**
 * A study whose trials keep checkpoints: refused without a volume, or where its trials could not
 * mount one. `primary` is the primary container in its pod template, if it is in one.
 */
export function validateCheckpointVolume(spec: StudySpec, primary: PodTemplateContainer | undefined, volume: CheckpointVolume | undefined): void {
  const mountPath = checkpointMountPath(spec);
  if (mountPath === undefined) return;
  const field = `spec.algorithm.algorithmSettings[${CHECKPOINT_SETTING}]`;
  if (volume === undefined) {
    throw new SpecError(field, `trial checkpoint folders (algorithm ${spec.algorithm.algorithmName}) need a volume shared by all trials: start Sibyl with --kube-checkpoint-claim <PersistentVolumeClaim> and --kube-checkpoint-dir <where Sibyl sees it>, or run this study on the local runtime`);
  }
  if (!primary) {
    throw new SpecError(field, `the checkpoint folder is mounted into the primary container of a pod template, which a ${String(spec.trialTemplate.trialSpec?.['kind'])} trial does not have`);
  }
  const mounts: unknown[] = Array.isArray(primary.container['volumeMounts']) ? primary.container['volumeMounts'] : [];
  if (mounts.some((m) => normal(String((m as KubeObject)?.['mountPath'])) === normal(mountPath))) {
    throw new SpecError(field, `the primary container mounts a volume of its own at ${mountPath}, where the trial's checkpoint folder goes`);
  }
  const volumes: unknown[] = Array.isArray(primary.podSpec['volumes']) ? primary.podSpec['volumes'] : [];
  if (volumes.some((v) => (v as KubeObject)?.['name'] === CHECKPOINT_VOLUME)) {
    throw new SpecError('spec.trialTemplate.trialSpec', `the pod template has a volume named ${CHECKPOINT_VOLUME}, the name Sibyl gives the checkpoint volume`);
  }
}

const normal = (path: string) => path.replace(/\/+$/, '') || '/';

/**
 * Mounts the trial's folder into its primary container (in place), with its path and its parent's
 * name in SIBYL_CHECKPOINT_DIR and SIBYL_PARENT_TRIAL, as on the local runtime.
 */
export function mountCheckpoint(object: KubeObject, req: LaunchRequest & { checkpoint: NonNullable<LaunchRequest['checkpoint']> }, volume: CheckpointVolume): void {
  const found = podSpecOf(object['spec'], req.template.primaryContainerName ?? '');
  if (!found) throw new Error(`trial ${req.trialName}: no pod template holds the primary container, to mount its checkpoint folder in`);
  const { podSpec, container } = found;
  podSpec['volumes'] = [...(Array.isArray(podSpec['volumes']) ? podSpec['volumes'] : []), { name: CHECKPOINT_VOLUME, persistentVolumeClaim: { claimName: volume.claimName } }];
  const mounts: KubeObject[] = Array.isArray(container['volumeMounts']) ? container['volumeMounts'] : [];
  container['volumeMounts'] = [...mounts, { name: CHECKPOINT_VOLUME, mountPath: req.checkpoint.mountPath, subPath: checkpointSubPath(req.studyName, req.trialName) }];
  setEnv(container, { SIBYL_CHECKPOINT_DIR: req.checkpoint.mountPath, ...(req.checkpoint.parentTrial ? { SIBYL_PARENT_TRIAL: req.checkpoint.parentTrial } : {}) });
}
