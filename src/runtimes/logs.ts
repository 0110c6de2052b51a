// Trial log files, `<data dir>/logs/<trial>.log`, written by the local and Kubernetes runtimes
// and read by the dashboard: appended in order without blocking the event loop, complete once
// `close` resolves, tailed by reading backwards from the end, deleted with their study. A trial
// may print for days: past LIMITS.maxTrialLogBytes the file rotates to `<trial>.log.1` (replacing
// the one before), so the newest one to two times that is kept, as the kubelet rotates pod logs.
import type { FileHandle } from 'node:fs/promises';
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../model/limits.js';

export const trialLogPath = (logDir: string, trialName: string): string => join(logDir, `${trialName}.log`);
/** Where a log's older part goes when it rotates. */
export const rotatedLogPath = (path: string): string => `${path}.1`;

/** Bytes waiting to be written beyond which `write` asks its caller to wait for `drained()`. */
const HIGH_WATER = 1024 * 1024;

export class TrialLogFile {
  private handle: Promise<FileHandle | undefined>;
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private size = 0;
  private flushing?: Promise<void>;
  private closed?: Promise<void>;
  /** A log that cannot be written (a full disk) must not take the trial down with it: it stops. */
  private broken = false;
  private waiters: (() => void)[] = [];
  private readonly maxBytes: number;

  /** `startOver`: the log is emptied first (a pod log read again from its start after a restart). */
  constructor(readonly path: string, { startOver = false, maxBytes = LIMITS.maxTrialLogBytes as number } = {}) {
    this.maxBytes = maxBytes;
    this.handle = this.openLog(startOver);
  }

  /** Appends a chunk; false when enough waits to be written that the caller should await `drained()`. */
  write(chunk: string | Buffer): boolean {
    if (this.closed || this.broken) return true;
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.queue.push(data);
    this.queued += data.length;
    this.flushing ??= this.flush();
    return this.queued < HIGH_WATER;
  }

  /** Resolves once what waits to be written is below the high-water mark again. */
  drained(): Promise<void> {
    if (this.queued < HIGH_WATER || this.broken) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves when everything written so far is in the file. */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Resolves when everything written is in the file; later writes are ignored. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      await this.flushed();
      await (await this.handle)?.close().catch(() => {});
    })();
    return this.closed;
  }

  private async openLog(startOver: boolean): Promise<FileHandle | undefined> {
    try {
      if (startOver) await rm(rotatedLogPath(this.path), { force: true });
      const handle = await open(this.path, startOver ? 'w' : 'a');
      this.size = (await handle.stat()).size;
      return handle;
    } catch {
      this.broken = true;
      return undefined;
    }
  }

  /** Writes what is queued, a batch at a time, rotating before a batch that would pass the limit. */
  private async flush(): Promise<void> {
    let handle = await this.handle;
    while (this.queue.length > 0 && handle && !this.broken) {
      const batch = Buffer.concat(this.queue.splice(0));
      try {
        if (this.size > 0 && this.size + batch.length > this.maxBytes) handle = await this.rotate(handle);
        await handle.writeFile(batch); // from the current position: appends, as every write here does
        this.size += batch.length;
      } catch {
        this.broken = true;
      }
      this.queued -= batch.length;
      if (this.queued < HIGH_WATER || this.broken) for (const wake of this.waiters.splice(0)) wake();
    }
    if (this.broken) {
      this.queue.length = 0;
      this.queued = 0;
      for (const wake of this.waiters.splice(0)) wake();
    }
    this.flushing = undefined;
  }

  private async rotate(handle: FileHandle): Promise<FileHandle> {
    await handle.close();
    await rename(this.path, rotatedLogPath(this.path));
    const next = await open(this.path, 'w');
    this.handle = Promise.resolve(next);
    this.size = 0;
    return next;
  }
}

const TAIL_READ_LIMIT = 1024 * 1024;
const TAIL_CHUNK = 64 * 1024;

/**
 * The last n lines of a trial's log, reading backwards from its end (into the rotated part when
 * the newest one has too few) at most 1 MiB; `size` is the bytes kept of it; a missing log has none.
 */
export async function tailLog(path: string, n: number): Promise<{ lines: string[]; size: number }> {
  const parts: { file: FileHandle; size: number }[] = [];
  try {
    for (const p of [path, rotatedLogPath(path)]) {
      const file = await open(p, 'r').catch(() => undefined);
      if (!file) continue;
      parts.push({ file, size: (await file.stat()).size });
    }
    const size = parts.reduce((sum, p) => sum + p.size, 0);
    const limit = Math.min(size, TAIL_READ_LIMIT);
    const chunks: Buffer[] = [];
    let read = 0;
    let newlines = 0;
    for (const part of parts) {
      let end = part.size;
      while (end > 0 && read < limit && newlines <= n) {
        const len = Math.min(TAIL_CHUNK, end, limit - read);
        const buf = Buffer.alloc(len);
        await part.file.read(buf, 0, len, end - len);
        chunks.unshift(buf);
        end -= len;
        read += len;
        for (const b of buf) if (b === 10) newlines++;
      }
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (read < size) lines.shift(); // a partial first line
    return { lines: lines.slice(-n), size };
  } finally {
    await Promise.all(parts.map((p) => p.file.close()));
  }
}

/** Deletes the log files of these trials (those that exist), rotated parts included. */
export async function deleteTrialLogs(logDir: string, trialNames: readonly string[]): Promise<void> {
  await Promise.all(trialNames.flatMap((name) => {
    const path = trialLogPath(logDir, name);
    return [rm(path, { force: true }), rm(rotatedLogPath(path), { force: true })];
  }));
}
