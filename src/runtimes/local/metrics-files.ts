// The File and TensorFlowEvent collectors on the local runtime. Katib's paths are absolute
// (/var/log/katib/metrics.log), which a process on a laptop cannot write, and parallel trials
// would share them. So each trial gets its own folder, `<data dir>/metrics/<study>/<trial>/`,
// and the collector's path is re-rooted in it: /var/log/katib/metrics.log is read at
// `<folder>/var/log/katib/metrics.log`. The trial is told where:
// - its argv is rewritten, as for checkpoints: the collector's folder (the File's directory;
//   the parent of a TensorFlowEvent directory, the `--logdir` that gets `train/` and `test/`)
//   becomes its re-rooted twin wherever it is a whole path or the start of one;
// - SIBYL_METRICS_PATH holds the re-rooted path itself.
// The files are followed while the trial runs (a poll every half second, reads of at most
// 256 KiB at a time, 4 MiB per poll and file, so a large file never holds up the event loop)
// and read to their end once it has exited. A file only grows: one that shrinks is reported.
import { mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, posix, relative, sep } from 'node:path';
import type { MetricsCollectorSpec } from '../../spec/types.js';
import { rewriteMountPath } from './checkpoints.js';

export const METRICS = 'metrics';
const READ_BYTES = 256 * 1024;
const POLL_BUDGET_BYTES = 4 * 1024 * 1024;
const MAX_FILES = 1000;

export interface LocalMetricsPlace {
  /** Where the trial writes (the collector path re-rooted in its folder). */
  readonly path: string;
  readonly kind: 'File' | 'Directory';
  /** The argv with the collector's folder re-rooted. */
  readonly argv: string[];
  readonly env: Record<string, string>;
}

/** Collectors that read files the trial writes. */
export function readsFiles(c: MetricsCollectorSpec | undefined): c is MetricsCollectorSpec & { path: string } {
  return (c?.kind === 'File' || c?.kind === 'TensorFlowEvent') && c.path !== undefined;
}

export function trialMetricsDir(dataDir: string, studyName: string, trialName: string): string {
  return join(dataDir, METRICS, studyName, trialName);
}

/** Prepares the trial's folder afresh (a re-run never reads what the run before it wrote). */
export async function prepareMetricsPlace(
  dataDir: string, studyName: string, trialName: string, collector: MetricsCollectorSpec & { path: string }, argv: readonly string[],
): Promise<LocalMetricsPlace> {
  const root = trialMetricsDir(dataDir, studyName, trialName);
  await rm(root, { recursive: true, force: true });
  const kind = collector.kind === 'File' ? 'File' : 'Directory';
  const given = collector.path.replace(/\/+$/, '') || '/';
  const reroot = (p: string) => join(root, ...p.split('/').filter(Boolean));
  const path = reroot(given);
  await mkdir(kind === 'File' ? dirname(path) : path, { recursive: true });
  // The File's directory, or the parent of a summary directory; the path itself when that is `/`.
  const folder = posix.dirname(given) === '/' ? given : posix.dirname(given);
  const rewritten = folder === '/' ? [...argv] : rewriteMountPath(argv, folder, reroot(folder));
  return { path, kind, argv: rewritten, env: { SIBYL_METRICS_PATH: path } };
}

export async function deleteStudyMetrics(dataDir: string, studyName: string): Promise<void> {
  await rm(join(dataDir, METRICS, studyName), { recursive: true, force: true });
}

export interface FollowerOptions {
  readonly place: Pick<LocalMetricsPlace, 'path' | 'kind'>;
  /** Bytes of a file, in order; `file` relative to the collector path ('' for a File collector). */
  readonly data: (file: string, chunk: Buffer) => void;
  readonly problem: (message: string) => void;
  readonly pollMs?: number;
}

/** Follows a trial's metrics files from the start of the trial to its end. */
export class MetricsFileFollower {
  private readonly offsets = new Map<string, number>();
  private readonly reported = new Set<string>();
  private timer?: NodeJS.Timeout;
  private polling: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: FollowerOptions) {}

  start(): void {
    const tick = () => {
      this.polling = this.poll(POLL_BUDGET_BYTES).finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.o.pollMs ?? 500);
      });
    };
    this.timer = setTimeout(tick, this.o.pollMs ?? 500);
  }

  /** The trial has exited: reads every file to its end. */
  async finish(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    await this.poll(Infinity);
    if (this.offsets.size === 0) {
      const what = this.o.place.kind === 'File' ? 'metrics file' : 'summary file under';
      this.o.problem(`the trial wrote no ${what} ${this.o.place.path} (given to it as SIBYL_METRICS_PATH)`);
    }
  }

  private async poll(budget: number): Promise<void> {
    for (const file of await this.files()) await this.readNew(file, budget);
  }

  /** The files to read, relative to the collector path. */
  private async files(): Promise<string[]> {
    if (this.o.place.kind === 'File') return [''];
    let entries;
    try {
      entries = await readdir(this.o.place.path, { recursive: true, withFileTypes: true });
    } catch {
      return []; // not there (yet): the end reports a missing directory
    }
    const files = entries
      .filter((e) => e.isFile())
      .map((e) => relative(this.o.place.path, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'))
      .sort();
    if (files.length > MAX_FILES) this.once('too-many', `more than ${MAX_FILES} files under ${this.o.place.path}: only the first ${MAX_FILES} are read`);
    return files.slice(0, MAX_FILES);
  }

  private async readNew(file: string, budget: number): Promise<void> {
    const full = file === '' ? this.o.place.path : join(this.o.place.path, file);
    const offset = this.offsets.get(file) ?? 0;
    let handle;
    try {
      const s = await stat(full);
      if (!s.isFile()) return this.once(`not-file:${file}`, `${full} is not a regular file`);
      if (!this.offsets.has(file)) this.offsets.set(file, 0); // it exists, even empty
      if (s.size < offset) return this.once(`shrank:${file}`, `${full} shrank from ${offset} to ${s.size} bytes: a metrics file must only grow (what was read is kept, the rest is not read)`);
      if (s.size === offset) return;
      handle = await open(full, 'r');
      let at = offset;
      while (at < s.size && at - offset < budget) {
        const buffer = Buffer.alloc(Math.min(READ_BYTES, s.size - at));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) break;
        at += bytesRead;
        this.offsets.set(file, at);
        this.o.data(file, buffer.subarray(0, bytesRead));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // not written yet
      this.once(`error:${file}`, `reading ${full} failed: ${(err as Error).message}`);
    } finally {
      await handle?.close();
    }
  }

  private once(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.o.problem(message);
  }
}
