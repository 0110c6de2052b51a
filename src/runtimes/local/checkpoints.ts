// Checkpoint folders of local trials (pbt): `<data dir>/checkpoints/<study>/<trial>/`, beside
// the trial logs in `<data dir>/logs/`. Katib mounts a trial's folder at the study's
// `suggestion_trial_dir` inside the trial; a local process has no mounts, so its argv is
// rewritten instead: that path, wherever it appears as a path (`--checkpoint=/ckpt/`,
// `/ckpt/model.bin`), becomes the trial's real folder. The trial also finds the folder in
// SIBYL_CHECKPOINT_DIR, and its parent's name in SIBYL_PARENT_TRIAL. Every launch makes the
// folder afresh (checkpoint-folders.ts).
import { join } from 'node:path';
import { checkpointFolder, deleteStudyFolders, prepareTrialFolder } from '../checkpoint-folders.js';
import type { CheckpointRequest } from '../types.js';

export const CHECKPOINTS = 'checkpoints';

export function checkpointDir(dataDir: string, studyName: string, trialName: string): string {
  return checkpointFolder(join(dataDir, CHECKPOINTS), studyName, trialName);
}

/** Creates the trial's folder, empty or as a copy of its parent's. */
export function prepareCheckpoint(dataDir: string, studyName: string, trialName: string, request: CheckpointRequest): Promise<string> {
  return prepareTrialFolder(join(dataDir, CHECKPOINTS), studyName, trialName, request.parentTrial);
}

export function deleteStudyCheckpoints(dataDir: string, studyName: string): Promise<void> {
  return deleteStudyFolders(join(dataDir, CHECKPOINTS), studyName);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The argv with the mount path replaced by the real folder wherever it is a whole path or the
 * start of one: `/ckpt`, `/ckpt/`, `--dir=/ckpt/x`, but not `/ckpt2` or `/a/ckpt`.
 */
export function rewriteMountPath(argv: readonly string[], mountPath: string, dir: string): string[] {
  const mount = mountPath.replace(/\/+$/, '');
  const pattern = new RegExp(`(^|[^\\w.\\-/~])${escape(mount)}(?=$|/|[^\\w.\\-])`, 'g');
  return argv.map((arg) => arg.replace(pattern, (_whole, before: string) => `${before}${dir}`));
}
