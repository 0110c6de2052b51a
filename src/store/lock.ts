// One process owns a data directory: the store's file and the trial processes tagged with it.
// The lock is a file holding the owner's pid; a lock left by a dead process is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, 'sibyl.lock');
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { release: () => releaseIfOurs(path) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSafe(path).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new DataDirBusyError(`the data directory ${dataDir} is in use by process ${owner} (remove ${path} if that process is not Sibyl)`);
      }
      try {
        unlinkSync(path); // stale: its owner is gone
      } catch {
        // somebody else removed it first
      }
    }
  }
  throw new DataDirBusyError(`could not lock the data directory ${dataDir}`);
}

function releaseIfOurs(path: string): void {
  if (Number(readFileSafe(path).trim()) === process.pid) {
    try {
      unlinkSync(path);
    } catch {
      // already gone
    }
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
