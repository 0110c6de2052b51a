// `sibyl serve` replicas on one PostgreSQL store, as child processes, and what tests need of
// them: which one leads (GET /healthz), a study's events as a client sees them over SSE, and
// teardown by pid.
import { startCli, type CliResult } from './cli.js';
import type { ChildProcess } from 'node:child_process';

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  readonly url: string;
  readonly dataDir: string;
  /** What it wrote to stderr so far (its log). */
  log(): string;
  alive(): boolean;
}

export async function startReplica(name: string, storeUrl: string, dataDir: string, extra: readonly string[] = []): Promise<Replica> {
  const proc = startCli(['serve', '--store', storeUrl, '--data-dir', dataDir, '--grpc-port', '0', '--http-port', '0', ...extra]);
  let out = '';
  let err = '';
  let exited = false;
  proc.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  void proc.done.then(() => (exited = true));
  const http = await new Promise<number>((resolve, reject) => {
    proc.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /HTTP on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void proc.done.then((r) => reject(new Error(`replica ${name} exited (${r.code ?? r.signal}) before serving:\n${r.stderr}`)));
  });
  return { name, child: proc.child, done: proc.done, url: `http://127.0.0.1:${http}`, dataDir, log: () => err, alive: () => !exited };
}

/** Whether the replica says it leads now; undefined when it does not answer. */
export async function leads(r: Replica): Promise<boolean | undefined> {
  if (!r.alive()) return undefined;
  try {
    const res = await fetch(`${r.url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { leader: boolean }).leader;
  } catch {
    return undefined;
  }
}

/** Ends replicas still running (SIGTERM, then SIGKILL after `graceMs`), by their pids. */
export async function stopReplicas(replicas: readonly Replica[], graceMs = 10_000): Promise<void> {
  await Promise.all(replicas.filter((r) => r.alive()).map(async (r) => {
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
    await r.done;
    clearTimeout(timer);
  }));
}

export interface SseEvent {
  readonly type: string;
  readonly data: any;
}

/** A study's Server-Sent Events, collected as they arrive until close(). */
export interface SseWatch {
  readonly events: SseEvent[];
  /** Whether the stream is still open. */
  open(): boolean;
  close(): void;
}

export async function watchSse(url: string): Promise<SseWatch> {
  const abort = new AbortController();
  const res = await fetch(url, { signal: abort.signal, headers: { accept: 'text/event-stream' } });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  const events: SseEvent[] = [];
  let open = true;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type && data) events.push({ type, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted, or the replica died
    } finally {
      open = false;
    }
  })();
  return { events, open: () => open, close: () => abort.abort() };
}
