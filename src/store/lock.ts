// One process owns a data directory: the store's file and the trial processes tagged with it.
// The lock is an operating-system lock, not a file's contents: SQLite's exclusive lock on
// `sibyl.lock` (a POSIX record lock), held for the owner's lifetime. The kernel releases it when
// the owner dies, even by SIGKILL, so there is no stale lock to take over and no moment in
// which two processes both believe they hold it. The owner's pid is written beside it, for the
// message a second process gets.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

export class DataDirBusyError extends Error {
  override name = 'DataDirBusyError';
}

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'sibyl.lock';
const OWNER_FILE = 'sibyl.lock.pid';

export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; ; attempt += 1) {
    const db = new Database(path, { timeout: 0 });
    try {
      db.exec('BEGIN EXCLUSIVE'); // SQLITE_BUSY at once when another process holds it
    } catch (err) {
      db.close();
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_BUSY') {
        const owner = readOwner(dataDir);
        throw new DataDirBusyError(`the data directory ${dataDir} is in use by ${owner ? `process ${owner}` : 'another process'}`);
      }
      // An older Sibyl's lock was a text file with a pid in it: replace it by an empty file, in
      // one rename, and try again (two processes doing this at once still end with one owner).
      if (code === 'SQLITE_NOTADB' && attempt === 0) {
        const legacyOwner = Number(readText(path).trim());
        if (Number.isInteger(legacyOwner) && legacyOwner > 0 && legacyOwner !== process.pid && isAlive(legacyOwner)) {
          throw new DataDirBusyError(`the data directory ${dataDir} is in use by process ${legacyOwner} (an older Sibyl)`);
        }
        const fresh = `${path}.${process.pid}.tmp`;
        writeFileSync(fresh, '');
        renameSync(fresh, path);
        continue;
      }
      throw err;
    }
    writeFileSync(join(dataDir, OWNER_FILE), `${process.pid}\n`);
    return {
      release: () => {
        if (!db.open) return;
        if (readOwner(dataDir) === process.pid) rmSync(join(dataDir, OWNER_FILE), { force: true });
        db.exec('ROLLBACK');
        db.close();
      },
    };
  }
}

function readOwner(dataDir: string): number | undefined {
  const pid = Number(readText(join(dataDir, OWNER_FILE)).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Whether a process with this id exists (one of another user's counts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
