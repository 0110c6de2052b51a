// The REST API's observation ingest rate with N `sibyl serve` processes on one store, behind a
// round-robin client: POST /api/v1/trials/:name/observations, CLIENTS concurrent clients
// (keep-alive), each on its own trial of an external (ask/tell) study, BATCH points a request,
// request k of every client going to replica k mod N.
//
// The replicas are `serve --runtime external` children, each with a data directory of its own
// and the same --store. Observations for external trials need no scheduling: any replica, leader or
// follower, takes them.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { json as call, request } from './http.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/open.js';
import { startServe, stopServe, type ServeChild } from './serve-child.js';
import { nowMs, stats, type Stats } from './stats.js';

export const CLIENTS = 50;
export const BATCH = 100;

interface Replica { readonly child: ServeChild; readonly port: number; readonly dataDir: string }

async function startReplica(main: string, storeUrl: string | undefined): Promise<Replica> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-replica-'));
  const child = await startServe({ main, dataDir, store: storeUrl, keep: 100 });
  return { child, port: child.httpPort, dataDir };
}

async function stopReplica(r: Replica): Promise<void> {
  await stopServe(r.child);
  rmSync(r.dataDir, { recursive: true, force: true });
}

const studyText = (name: string) => `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ${name}}
spec:
  objective: {type: minimize, objectiveMetricName: loss, additionalMetricNames: [accuracy]}
  algorithm: {algorithmName: random}
  parallelTrialCount: ${CLIENTS}
  maxTrialCount: ${CLIENTS}
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.0001", max: "0.1"}}
`;

export interface ApiIngestResult { store: string; replicas: number; clients: number; batch: number; seconds: number; requests: number; points: number; requestsPerSecond: number; pointsPerSecond: number; latencyMs: Stats; perReplicaRequests: number[] }

/** Starts `replicas` servers on `storeUrl` (SQLite in the first one's data dir when undefined), measures, stops them. */
export async function apiIngest(main: string, label: string, storeUrl: string | undefined, replicas: number, study: string, seconds: number, warmupSeconds = 1): Promise<ApiIngestResult> {
  if (!storeUrl && replicas !== 1) throw new Error('SQLite is one process\'s store: one replica only');
  const servers: Replica[] = [];
  try {
    for (let i = 0; i < replicas; i += 1) servers.push(await startReplica(main, storeUrl));
    const setup = new http.Agent({ keepAlive: true });
    await call(setup, servers[0]!.port, 'POST', '/api/v1/studies', { specText: studyText(study), runtime: 'external' });
    const trials: string[] = [];
    for (let k = 0; k < CLIENTS; k += 1) {
      // Asked of the replicas in turn too: each must see the others' trials in the store.
      const res = await call(setup, servers[k % replicas]!.port, 'POST', `/api/v1/studies/${study}/suggest`, { count: 1, clientId: `ingest-${k}` });
      trials.push(res.trials[0].name);
    }
    setup.destroy();
    if (new Set(trials).size !== CLIENTS) throw new Error(`the replicas handed one trial to two clients: ${trials.join(' ')}`);

    const body = (k: number) => JSON.stringify({ observations: Array.from({ length: BATCH }, (_, i) => (i % 2 === 0 ? { metric: 'loss', value: 1 / (1 + i + k) } : { metric: 'accuracy', value: Math.random() })) });
    const bodies = trials.map((_, k) => body(k));
    const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
    const sent = new Array<number>(CLIENTS).fill(0);
    const perReplica = new Array<number>(replicas).fill(0);
    let measuring = false;
    let stop = false;
    const latencies: number[] = [];
    const loops = trials.map(async (trial, k) => {
      for (let n = k; !stop; n += 1) {
        const r = n % replicas;
        const a = nowMs();
        const res = await request(agent, servers[r]!.port, 'POST', `/api/v1/trials/${trial}/observations`, bodies[k]);
        if (res.status !== 200) throw new Error(`observations to replica ${r}: ${res.status} ${res.body}`);
        sent[k]! += BATCH;
        if (measuring && !stop) {
          latencies.push(nowMs() - a);
          perReplica[r]! += 1;
        }
      }
    });
    // A failed request ends the measurement at once (and the finally below stops the replicas).
    const all = Promise.all(loops).finally(() => (stop = true));
    const pause = (s: number) => Promise.race([new Promise((r) => setTimeout(r, s * 1000)), all]);
    await pause(warmupSeconds);
    measuring = true;
    const start = nowMs();
    await pause(seconds);
    stop = true;
    const elapsed = (nowMs() - start) / 1000;
    await all;
    agent.destroy();

    // Every point every replica accepted is in the store, once.
    const store = await openStore(storeUrl ?? servers[0]!.dataDir);
    try {
      for (const [k, name] of [[0, trials[0]!], [CLIENTS - 1, trials[CLIENTS - 1]!]] as const) {
        const t = (await store.getTrialByName(name))!;
        const rows = (await store.observations(t.id)).length;
        if (rows !== sent[k]) throw new Error(`${name}: ${rows} observations stored, ${sent[k]} accepted`);
      }
    } finally {
      await store.close();
    }
    const requests = latencies.length;
    return {
      store: label, replicas, clients: CLIENTS, batch: BATCH, seconds: elapsed, requests, points: requests * BATCH,
      requestsPerSecond: requests / elapsed, pointsPerSecond: (requests * BATCH) / elapsed, latencyMs: stats(latencies), perReplicaRequests: perReplica,
    };
  } catch (err) {
    const logs = servers.map((s, i) => `--- replica ${i} stderr ---\n${s.child.stderr.join('')}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`);
  } finally {
    await Promise.all(servers.map(stopReplica));
  }
}
