// Where every benchmark writes its results (bench/results/<name>.json, git-ignored) and the one
// description of the machine a run was measured on, so that two runs' files compare field by field.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Compiled to dist/bench/, run from there: the sources' bench/ is two levels up.
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  platform: string;
  arch: string;
  kernel: string;
  node: string;
  /** The 1-, 5- and 15-minute load averages when the description was taken: the noise of the run. */
  load: number[];
}

export function describeMachine(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown CPU',
    cores: cpu.length,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    platform: process.platform,
    arch: process.arch,
    kernel: release(),
    node: process.version,
    load: loadavg().map((l) => +l.toFixed(2)),
  };
}

/** One line for a table's heading: "2 cores, <cpu>, Node v20.20.2, linux/x64". */
export function machineLine(m: Machine = describeMachine()): string {
  return `${m.cores} cores, ${m.cpu}, Node ${m.node}, ${m.platform}/${m.arch}`;
}

/**
 * Writes bench/results/<name>.json: the benchmark's name, the date, the machine, then `body`.
 * A non-finite number (a study that never reached a target counts as Infinity) is written as its
 * name, since JSON would turn it into null. Returns the file's path.
 */
export function writeResults(name: string, body: Record<string, unknown>, machine: Machine = describeMachine()): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  const document = { benchmark: name, date: new Date().toISOString(), machine, ...body };
  const finite = (_key: string, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? String(value) : value);
  writeFileSync(file, `${JSON.stringify(document, finite, 1)}\n`);
  return file;
}
