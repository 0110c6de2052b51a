// A `sibyl serve` child process for the benches: started on free ports with the external
// runtime (the bench drives every trial itself), ready once it prints its first line (the
// addresses), and stopped with SIGTERM. Its last stderr lines are kept for error reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServeChild {
  readonly proc: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly stderr: string[];
}

export interface ServeOptions {
  /** dist/src/cli/main.js */
  readonly main: string;
  readonly dataDir: string;
  /** A store URL (PostgreSQL); SQLite in dataDir when absent. */
  readonly store?: string;
  /** Writes a V8 CPU profile of the server there. */
  readonly profDir?: string;
  /** How many stderr chunks to keep (default 200). */
  readonly keep?: number;
}

export async function startServe(o: ServeOptions): Promise<ServeChild> {
  const node = o.profDir ? ['--cpu-prof', '--cpu-prof-dir', o.profDir] : [];
  const store = o.store ? ['--store', o.store] : [];
  const proc = spawn(process.execPath, [...node, o.main, 'serve', '--data-dir', o.dataDir, '--grpc-port', '0', '--http-port', '0', '--runtime', 'external', ...store], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  const keep = o.keep ?? 200;
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr.push(d);
    if (stderr.length > keep) stderr.shift();
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`serve exited (${code}) before serving: ${stderr.join('')}`)));
  });
  const m = /gRPC on 127\.0\.0\.1:(\d+) and HTTP on http:\/\/127\.0\.0\.1:(\d+)/.exec(first);
  if (!m) throw new Error(`unexpected first line from serve: ${first}`);
  return { proc, grpcPort: Number(m[1]), httpPort: Number(m[2]), stderr };
}

/** SIGTERM, then its exit code once it has exited (at once if it already has). */
export function stopServe(child: ServeChild): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) return resolve(child.proc.exitCode);
    child.proc.once('exit', (code) => resolve(code));
    child.proc.kill('SIGTERM');
  });
}
