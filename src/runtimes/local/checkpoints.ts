// Checkpoint folders of local trials (pbt): `<data dir>/checkpoints/<study>/<trial>/`, beside
// the trial logs in `<data dir>/logs/`. Katib mounts a trial's folder at the study's
// `suggestion_trial_dir` inside the trial; a local process has no mounts, so its argv is
// rewritten instead: that path, wherever it appears as a path (`--checkpoint=/ckpt/`,
// `/ckpt/model.bin`), becomes the trial's real folder. The trial also finds the folder in
// SIBYL_CHECKPOINT_DIR, and its parent's name in SIBYL_PARENT_TRIAL.
//
// Every launch starts the folder afresh: a new trial from an empty one or from a copy of its
// parent's (pbt's exploit), and a trial launched again after a restart from the same start, so
// that a re-run never continues from a half-written checkpoint of the run that died.
import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { CheckpointRequest } from '../types.js';

export const CHECKPOINTS = 'checkpoints';

export function checkpointDir(dataDir: string, studyName: string, trialName: string): string {
  return join(dataDir, CHECKPOINTS, safeName(studyName), safeName(trialName));
}

/** Katib's layout on its suggestion volume: `<volume>/<experiment>/<trial>` (the trial mounts that subPath). */
export function katibCheckpointDir(volume: string, experiment: string, trialName: string): string {
  return join(volume, safeName(experiment), safeName(trialName));
}

/** Names become folder names: a name that is not one plain path segment is refused. */
function safeName(name: string): string {
  if (name === '' || name === '.' || name === '..' || basename(name) !== name || name.includes('\\')) {
    throw new Error(`${JSON.stringify(name)} cannot name a checkpoint folder`);
  }
  return name;
}

/** Creates the trial's folder, empty or as a copy of its parent's (async: a large copy never blocks the event loop). */
export async function prepareCheckpoint(dataDir: string, studyName: string, trialName: string, request: CheckpointRequest): Promise<string> {
  const dir = checkpointDir(dataDir, studyName, trialName);
  const parent = request.parentTrial;
  await prepareFolder(dir, parent === undefined ? undefined : { trial: parent, dir: checkpointDir(dataDir, studyName, parent) });
  return dir;
}

/** A folder made afresh: empty, or a copy of a parent trial's folder (which must exist). */
export async function prepareFolder(dir: string, parent?: { readonly trial: string; readonly dir: string }): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  if (parent === undefined) {
    await mkdir(dir, { recursive: true });
    return;
  }
  const found = await stat(parent.dir).catch(() => undefined);
  if (!found?.isDirectory()) throw new Error(`the checkpoint folder of its parent trial ${parent.trial} is missing (${parent.dir})`);
  await mkdir(dirname(dir), { recursive: true });
  await cp(parent.dir, dir, { recursive: true, errorOnExist: false, force: true, preserveTimestamps: true });
}

export async function deleteStudyCheckpoints(dataDir: string, studyName: string): Promise<void> {
  await rm(join(dataDir, CHECKPOINTS, safeName(studyName)), { recursive: true, force: true });
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
