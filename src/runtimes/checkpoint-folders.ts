// Checkpoint folders on disk, one layout for every place that keeps them: `<root>/<study>/<trial>`
// (Katib's layout on its suggestion volume, which its trials mount by that subPath). The local
// runtime's root is `<data dir>/checkpoints`; a shared volume's root is where this process sees it.
//
// A folder is made afresh at each launch: empty for a new trial, a copy of its parent's for pbt's
// exploit, and from the same start again for a trial relaunched after a restart, so that a re-run
// never continues from a half-written checkpoint of the run that died.
import { cp, lchown, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function checkpointFolder(root: string, studyName: string, trialName: string): string {
  return join(root, checkpointSubPath(studyName, trialName));
}

/** The folder's path below the root (a volume mount's subPath). */
export function checkpointSubPath(studyName: string, trialName: string): string {
  return `${safeName(studyName)}/${safeName(trialName)}`;
}

/** Names become folder names: a name that is not one plain path segment is refused. */
function safeName(name: string): string {
  if (name === '' || name === '.' || name === '..' || basename(name) !== name || name.includes('\\')) {
    throw new Error(`${JSON.stringify(name)} cannot name a checkpoint folder`);
  }
  return name;
}

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * A trial's folder made afresh below `root`: empty, or a copy of its parent trial's (async: a
 * large copy never blocks the event loop). With `owner`, the folder and all in it are given to
 * that user, who runs the trials.
 */
export async function prepareTrialFolder(root: string, studyName: string, trialName: string, parentTrial: string | undefined, owner?: Owner): Promise<string> {
  const dir = checkpointFolder(root, studyName, trialName);
  await prepareFolder(dir, parentTrial === undefined ? undefined : { trial: parentTrial, dir: checkpointFolder(root, studyName, parentTrial) });
  if (owner) {
    await lchown(dirname(dir), owner.uid, owner.gid);
    await lchown(dir, owner.uid, owner.gid);
    for (const entry of await readdir(dir, { recursive: true })) await lchown(join(dir, entry), owner.uid, owner.gid);
  }
  return dir;
}

/** A folder made afresh: empty, or a copy of a parent trial's folder (which must exist). */
async function prepareFolder(dir: string, parent?: { readonly trial: string; readonly dir: string }): Promise<void> {
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

/** Every checkpoint folder of a study below `root`. */
export async function deleteStudyFolders(root: string, studyName: string): Promise<void> {
  await rm(join(root, safeName(studyName)), { recursive: true, force: true });
}
