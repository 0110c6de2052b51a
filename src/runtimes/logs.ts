// Trial log files, `<data dir>/logs/<trial>.log`, written by the local and Kubernetes runtimes
// and read by the dashboard: appended without blocking the event loop, complete once `close`
// resolves, tailed by reading backwards from the end, deleted with their study.
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class TrialLogFile {
  private readonly stream: WriteStream;
  private readonly done: Promise<void>;

  /** `startOver`: the file is emptied first (a pod log read again from its start after a restart). */
  constructor(readonly path: string, { startOver = false } = {}) {
    this.stream = createWriteStream(path, { flags: startOver ? 'w' : 'a' });
    this.done = new Promise((resolve) => {
      this.stream.once('close', resolve);
      // A log that cannot be written (a full disk) must not take the trial down with it.
      this.stream.on('error', () => resolve());
    });
  }

  write(chunk: string | Buffer): void {
    if (!this.stream.destroyed) this.stream.write(chunk);
  }

  /** Resolves when everything written is on disk (in the file). */
  close(): Promise<void> {
    if (!this.stream.writableEnded) this.stream.end();
    return this.done;
  }
}

const TAIL_READ_LIMIT = 1024 * 1024;
const TAIL_CHUNK = 64 * 1024;

/** The last n lines of a file, reading backwards from its end at most 1 MiB; a missing file has none. */
export async function tailLog(path: string, n: number): Promise<{ lines: string[]; size: number }> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return { lines: [], size: 0 };
  }
  try {
    const { size } = await file.stat();
    const limit = Math.min(size, TAIL_READ_LIMIT);
    const chunks: Buffer[] = [];
    let read = 0;
    let newlines = 0;
    while (read < limit && newlines <= n) {
      const len = Math.min(TAIL_CHUNK, limit - read);
      const buf = Buffer.alloc(len);
      await file.read(buf, 0, len, size - read - len);
      chunks.unshift(buf);
      read += len;
      for (const b of buf) if (b === 10) newlines++;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (read < size) lines.shift(); // a partial first line
    return { lines: lines.slice(-n), size };
  } finally {
    await file.close();
  }
}

/** Deletes the log files of these trials (those that exist). */
export async function deleteTrialLogs(logDir: string, trialNames: readonly string[]): Promise<void> {
  await Promise.all(trialNames.map((name) => rm(join(logDir, `${name}.log`), { force: true })));
}
