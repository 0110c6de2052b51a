// API throughput and latency against a real `sibyl serve` on 127.0.0.1, run as a CHILD PROCESS
// (node dist/src/cli/main.js serve ... --runtime external) so that the server and this load
// generator do not share one event loop.
//
//   setup        a study with 10,000 trials built through the API: SuggestTrials (count 100) for
//                100 client ids, then CompleteTrial for 90% of them (10 steps × 2 metrics each),
//                so the study has real per-state counts, a best trial and metric summaries
//   reads        p50/p99 of ListTrials (page of 100 at a random afterId) and GetStudy, REST and
//                gRPC, one call at a time
//   grpc ingest  Trials/ReportObservations: batches of 1,000 points (no step: the server
//                numbers them), several channels with several calls in flight, for N seconds
//   rest ingest  POST /api/v1/trials/:name/observations: 50 concurrent clients (keep-alive),
//                batches of 100 points, for N seconds
//
//   tune()       trials/s through the Python client's tune() (clients/python) with a trivial
//                objective and 1/4/16 worker threads against a fresh server child, and the same
//                loop with Optuna 3.1's ask/tell on its SQLite storage (bench/tune_bench.py,
//                Debian's python3 with python3-optuna); target: tune() at least 10× Optuna's rate
//
//   responsiveness  p50/p99 of /healthz (REST) and GetStudy (gRPC), polled one at a time, first on
//                an idle server, then while an ask/tell client keeps a 500-trial Bayesian-
//                optimisation study suggesting back to back (each suggestion runs in the
//                algorithm pool); the study is seeded with 500 completed trials through the store
//
// Request bodies are encoded once per trial (the same batch is sent again; the server assigns
// steps), so the load generator's CPU goes to sending, not to protobuf/JSON encoding.
//
// Flags: --seconds N (each ingest phase, default 10), --trials N (default 10000),
//        --samples N (per read, default 500), --tune-trials N (per tune() row, default 150),
//        --profile (server --cpu-prof into bench/results/prof)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { json, request } from './http.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../src/api/grpc/protos.js';
import { parseStudyText } from '../src/spec/parse.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { braninStudy } from '../test/support/branin.js';
import { startServe, stopServe, type ServeChild } from './serve-child.js';
import { branin } from './functions.js';
import { describeMachine, machineLine, RESULTS_DIR, writeResults } from './results.js';

// ── options ────────────────────────────────────────────────────────────────

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} needs a positive number`);
  return n;
}
const SECONDS = flag('seconds', 10);
const TRIALS = flag('trials', 10_000);
const SAMPLES = flag('samples', 500);
const TUNE_TRIALS = flag('tune-trials', 150);
const PROFILE = process.argv.includes('--profile');
const SUGGEST_BATCH = 100;
const COMPLETE_FRACTION = 0.9;
const COMPLETE_CONCURRENCY = 16;
const STEPS_PER_TRIAL = 10;
const PAGE = 100;
const WARMUP = 50;
const GRPC_CHANNELS = 4;
const GRPC_IN_FLIGHT = 2; // per channel, each on its own trial
const GRPC_BATCH = 1000;
const REST_CLIENTS = 50;
const REST_BATCH = 100;
const WARMUP_SECONDS = 1;
const TARGETS = { grpcPointsPerSecond: 50_000, readP99Ms: 20, responsivenessP99Ms: 20, tuneVsOptuna: 10 };
const TUNE_WORKERS = [1, 4, 16];
const PYTHON = '/usr/bin/python3';
const RESPONSIVE_TRIALS = 500;
const PROBE_GAP_MS = 10;

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');

// ── helpers ────────────────────────────────────────────────────────────────

const now = () => performance.now();
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
interface Latency { p50: number; p90: number; p99: number; max: number; n: number }
function latency(values: readonly number[]): Latency {
  const s = [...values].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), max: s[s.length - 1] ?? Number.NaN, n: s.length };
}
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const randomInt = (n: number) => Math.floor(Math.random() * n);

function studyText(name: string, maxTrialCount: number): string {
  return `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ${name}}
spec:
  objective: {type: minimize, objectiveMetricName: loss, additionalMetricNames: [accuracy]}
  algorithm: {algorithmName: random}
  parallelTrialCount: 1
  maxTrialCount: ${maxTrialCount}
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.0001", max: "0.1", distribution: logUniform}}
    - {name: layers, parameterType: int, feasibleSpace: {min: "1", max: "8"}}
    - {name: optimizer, parameterType: categorical, feasibleSpace: {list: [sgd, adam, rmsprop]}}
`;
}

// ── the server child ───────────────────────────────────────────────────────

const startChild = (dataDir: string, profDir: string | undefined): Promise<ServeChild> => startServe({ main: MAIN, dataDir, profDir });
const stopChild = stopServe;

// ── clients ────────────────────────────────────────────────────────────────

const protos = loadProtos();
type MethodDef = { path: string; requestSerialize: (v: unknown) => Buffer; responseDeserialize: (b: Buffer) => any };
const trialsMethod = (name: string) => (protos.sibyl.Trials.service as unknown as Record<string, MethodDef>)[name]!;

/** Its own HTTP/2 connection (no shared subchannel pool). */
function grpcClient(ctor: grpc.ServiceClientConstructor, address: string): any {
  return new ctor(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

function unary<T = any>(client: any, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
}

/** A unary call with a body that is already protobuf bytes. */
function rawUnary(client: grpc.Client, method: MethodDef, body: Buffer): Promise<any> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method.path, (b: Buffer) => b, method.responseDeserialize, body, (err, res) => (err ? reject(err) : resolve(res)));
  });
}


/** Runs `fn` on `items` with at most `n` at a time. */
async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Loops `fn` in `workers` concurrent loops: WARMUP_SECONDS unmeasured, then SECONDS measured. */
async function timed(workers: number, fn: (worker: number) => Promise<number>): Promise<{ seconds: number; calls: number; points: number; latencies: number[] }> {
  let measuring = false;
  let stop = false;
  let calls = 0;
  let points = 0;
  const latencies: number[] = [];
  const loops = Array.from({ length: workers }, async (_, w) => {
    while (!stop) {
      const t0 = now();
      const n = await fn(w);
      if (measuring && !stop) {
        latencies.push(now() - t0);
        calls += 1;
        points += n;
      }
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  measuring = true;
  const start = now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  stop = true;
  const seconds = (now() - start) / 1000;
  await Promise.all(loops);
  return { seconds, calls, points, latencies };
}

// ── phases ─────────────────────────────────────────────────────────────────

async function buildStudy(c: ServeChild, agent: http.Agent, trialsClient: any): Promise<{ name: string; suggestSeconds: number; completeSeconds: number; counts: unknown; best: unknown }> {
  const name = 'bench-reads';
  await json(agent, c.httpPort, 'POST', '/api/v1/studies', { specText: studyText(name, TRIALS), runtime: 'external' });
  const t0 = now();
  const trials: { name: string; assignment: { name: string; number?: number; text?: string }[] }[] = [];
  for (let k = 0; trials.length < TRIALS; k += 1) {
    const res = await unary(trialsClient, 'suggestTrials', { study: name, count: Math.min(SUGGEST_BATCH, TRIALS - trials.length), clientId: `client-${k}` });
    if (!res.trials?.length) throw new Error(`SuggestTrials gave no trials after ${trials.length}`);
    trials.push(...res.trials);
  }
  const suggestSeconds = (now() - t0) / 1000;
  const t1 = now();
  const toComplete = trials.slice(0, Math.round(trials.length * COMPLETE_FRACTION));
  await pool(toComplete, COMPLETE_CONCURRENCY, async (t) => {
    const lr = t.assignment.find((a) => a.name === 'lr')?.number ?? 0.01;
    const quality = Math.min(1, Math.max(0, 1 - Math.abs(Math.log10(lr) + 2.5) / 2 + 0.05 * Math.random()));
    const metrics = [];
    for (let step = 1; step <= STEPS_PER_TRIAL; step += 1) {
      const p = step / STEPS_PER_TRIAL;
      metrics.push({ metric: 'loss', value: (1 - quality) / p + 0.01 * Math.random(), step }, { metric: 'accuracy', value: quality * p, step });
    }
    await unary(trialsClient, 'completeTrial', { trial: t.name, metrics });
  });
  const completeSeconds = (now() - t1) / 1000;
  const study = await json(agent, c.httpPort, 'GET', `/api/v1/studies/${name}`);
  return { name, suggestSeconds, completeSeconds, counts: study.trials, best: study.best };
}

async function measureReads(c: ServeChild, study: string, agent: http.Agent, trialsClient: any, studiesClient: any): Promise<Record<string, Latency>> {
  const maxAfter = TRIALS - PAGE;
  const ops: Record<string, () => Promise<void>> = {
    'REST ListTrials': async () => {
      const res = await request(agent, c.httpPort, 'GET', `/api/v1/studies/${study}/trials?pageSize=${PAGE}&afterId=${randomInt(maxAfter + 1)}`);
      if (res.status !== 200) throw new Error(`ListTrials: ${res.status} ${res.body}`);
    },
    'gRPC ListTrials': async () => {
      const res = await unary(trialsClient, 'listTrials', { study, pageSize: PAGE, afterId: randomInt(maxAfter + 1) });
      if (res.trials?.length !== PAGE) throw new Error(`ListTrials gave ${res.trials?.length} trials`);
    },
    'REST GetStudy': async () => {
      const res = await request(agent, c.httpPort, 'GET', `/api/v1/studies/${study}`);
      if (res.status !== 200) throw new Error(`GetStudy: ${res.status} ${res.body}`);
    },
    'gRPC GetStudy': async () => {
      await unary(studiesClient, 'getStudy', { name: study });
    },
  };
  // A check that REST pages are full too.
  const page = await json(agent, c.httpPort, 'GET', `/api/v1/studies/${study}/trials?pageSize=${PAGE}`);
  if (page.trials.length !== PAGE || page.trials[0].metrics.length !== 2) throw new Error('unexpected ListTrials page');
  const out: Record<string, Latency> = {};
  for (const [label, op] of Object.entries(ops)) {
    for (let i = 0; i < WARMUP; i += 1) await op();
    const times: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const t0 = now();
      await op();
      times.push(now() - t0);
    }
    out[label] = latency(times);
  }
  return out;
}

/** Active trials of a fresh ingest study, one per client id. */
async function ingestTrials(trialsClient: any, agent: http.Agent, port: number, name: string, n: number): Promise<string[]> {
  await json(agent, port, 'POST', '/api/v1/studies', { specText: studyText(name, 1000), runtime: 'external' });
  const names: string[] = [];
  for (let k = 0; k < n; k += 1) {
    const res = await unary(trialsClient, 'suggestTrials', { study: name, count: 1, clientId: `ingest-${k}` });
    names.push(res.trials[0].name);
  }
  return names;
}

/** `n` points alternating loss/accuracy, without steps or times (the server fills them in). */
function batch(n: number): { metric: string; value: number }[] {
  return Array.from({ length: n }, (_, i) => (i % 2 === 0 ? { metric: 'loss', value: 1 / (1 + i) + Math.random() * 1e-3 } : { metric: 'accuracy', value: Math.random() }));
}

async function grpcIngest(c: ServeChild, agent: http.Agent, trialsClient: any) {
  const workers = GRPC_CHANNELS * GRPC_IN_FLIGHT;
  const trials = await ingestTrials(trialsClient, agent, c.httpPort, 'bench-ingest-grpc', workers);
  const method = trialsMethod('ReportObservations');
  const bodies = trials.map((t) => method.requestSerialize({ trial: t, observations: batch(GRPC_BATCH) }));
  const channels = Array.from({ length: GRPC_CHANNELS }, () => grpcClient(protos.sibyl.Trials, `127.0.0.1:${c.grpcPort}`) as grpc.Client);
  const r = await timed(workers, async (w) => {
    const res = await rawUnary(channels[w % GRPC_CHANNELS]!, method, bodies[w]!);
    if (res.accepted !== GRPC_BATCH) throw new Error(`accepted ${res.accepted}`);
    return GRPC_BATCH;
  });
  channels.forEach((ch) => ch.close());
  return { channels: GRPC_CHANNELS, inFlightPerChannel: GRPC_IN_FLIGHT, batch: GRPC_BATCH, seconds: round(r.seconds), calls: r.calls, points: r.points, callsPerSecond: r.calls / r.seconds, pointsPerSecond: r.points / r.seconds, latencyMs: latency(r.latencies) };
}

async function restIngest(c: ServeChild, agent: http.Agent, trialsClient: any) {
  const trials = await ingestTrials(trialsClient, agent, c.httpPort, 'bench-ingest-rest', REST_CLIENTS);
  const bodies = trials.map(() => JSON.stringify({ observations: batch(REST_BATCH) }));
  const loadAgent = new http.Agent({ keepAlive: true, maxSockets: REST_CLIENTS });
  const r = await timed(REST_CLIENTS, async (w) => {
    const res = await request(loadAgent, c.httpPort, 'POST', `/api/v1/trials/${trials[w]}/observations`, bodies[w]);
    if (res.status !== 200) throw new Error(`observations: ${res.status} ${res.body}`);
    return REST_BATCH;
  });
  loadAgent.destroy();
  return { clients: REST_CLIENTS, batch: REST_BATCH, seconds: round(r.seconds), requests: r.calls, points: r.points, requestsPerSecond: r.calls / r.seconds, pointsPerSecond: r.points / r.seconds, latencyMs: latency(r.latencies) };
}

// ── main ───────────────────────────────────────────────────────────────────

// ── responsiveness while an expensive algorithm suggests ────────────────────

/** A study with RESPONSIVE_TRIALS completed Branin trials, written through the store before the server starts. */
async function seedBoStudy(dataDir: string, name: string): Promise<void> {
  const store = SqliteStore.open(dataDir);
  try {
    const study = await store.createStudy(parseStudyText(braninStudy(name, 'bayesianoptimization', 100_000)), dataDir, 1, 'external');
    await store.transitionStudy(study.id, 'start');
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const points = Array.from({ length: RESPONSIVE_TRIALS }, () => ({ x1: -5 + 15 * random(), x2: 15 * random() }));
    for (const t of await store.addClientTrials(study.id, points, 'client:seed')) {
      const value = branin.f([t.assignment['x1'] as number, t.assignment['x2'] as number]);
      await store.addObservations([{ trialId: t.id, observations: [{ metric: 'f', value, step: 1, time: new Date().toISOString() }] }]);
      await store.transitionTrial(t.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: value });
    }
  } finally {
    await store.close();
  }
}

/** /healthz and GetStudy, one at a time, PROBE_GAP_MS apart, until `until` resolves. */
async function probe(c: ServeChild, agent: http.Agent, studiesClient: any, study: string, until: Promise<unknown>): Promise<{ healthz: Latency; getStudy: Latency }> {
  let done = false;
  void until.finally(() => (done = true));
  const healthz: number[] = [];
  const getStudy: number[] = [];
  while (!done) {
    let t = now();
    const r = await request(agent, c.httpPort, 'GET', '/healthz');
    if (r.status !== 200) throw new Error(`/healthz answered ${r.status}`);
    healthz.push(now() - t);
    t = now();
    await unary(studiesClient, 'getStudy', { name: study });
    getStudy.push(now() - t);
    await new Promise((r2) => setTimeout(r2, PROBE_GAP_MS));
  }
  await until;
  return { healthz: latency(healthz), getStudy: latency(getStudy) };
}

async function responsiveness(profDir: string | undefined) {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-responsive-'));
  const name = 'responsive';
  await seedBoStudy(join(dataDir, 'data'), name);
  const c = await startChild(join(dataDir, 'data'), profDir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const studiesClient = grpcClient(protos.sibyl.Studies, `127.0.0.1:${c.grpcPort}`);
  const trialsClient = grpcClient(protos.sibyl.Trials, `127.0.0.1:${c.grpcPort}`);
  try {
    const idle = await probe(c, agent, studiesClient, name, new Promise((r) => setTimeout(r, 3000)));
    // The ask/tell client: suggest, evaluate at once, complete, again.
    const suggestMs: number[] = [];
    const deadline = now() + SECONDS * 2000;
    const load = (async () => {
      while (now() < deadline) {
        const t = now();
        const { trials } = await unary(trialsClient, 'suggestTrials', { study: name, count: 1, clientId: 'bench' });
        suggestMs.push(now() - t);
        const a = Object.fromEntries(trials[0].assignment.map((p: { name: string; number: number }) => [p.name, p.number]));
        await unary(trialsClient, 'completeTrial', { trial: trials[0].name, metrics: [{ metric: 'f', value: branin.f([a.x1, a.x2]) }] });
      }
    })();
    const busy = await probe(c, agent, studiesClient, name, load);
    return { idle, busy, suggestions: suggestMs.length, suggestMs: latency(suggestMs), trialsAtStart: RESPONSIVE_TRIALS };
  } finally {
    studiesClient.close();
    trialsClient.close();
    agent.destroy();
    await stopChild(c);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ── tune() against Optuna's ask/tell ────────────────────────────────────────

interface TuneRow { workers: number; trials: number; seconds: number; trialsPerSecond: number; errors?: string[] }
interface TuneResult { python: string; trials: number; sibyl: TuneRow[]; optuna: TuneRow[]; optunaVersion: string | null; optunaError?: string }

/** bench/tune_bench.py against a fresh server child: one JSON document on its stdout. */
async function tuneRates(): Promise<TuneResult> {
  const script = join(ROOT, 'bench', 'tune_bench.py');
  const probe = spawnSync(PYTHON, ['-c', 'import sys; print(sys.version)']);
  if (probe.status !== 0) throw new Error(`${PYTHON} is missing: the tune() rows need Debian's python3`);
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-tune-'));
  const c = await startChild(join(dataDir, 'data'), undefined);
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const py = spawn(PYTHON, [script, '--url', `http://127.0.0.1:${c.httpPort}`, '--trials', String(TUNE_TRIALS), '--workers', TUNE_WORKERS.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      py.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
      py.on('error', reject);
      py.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`tune_bench.py exited with ${code}`))));
    });
    return JSON.parse(out) as TuneResult;
  } finally {
    await stopChild(c);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-bench-api-'));
  const profDir = PROFILE ? join(RESULTS_DIR, 'prof') : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const child = await startChild(join(dataDir, 'data'), profDir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const address = `127.0.0.1:${child.grpcPort}`;
  const trialsClient = grpcClient(protos.sibyl.Trials, address);
  const studiesClient = grpcClient(protos.sibyl.Studies, address);
  const machine = describeMachine();
  try {
    console.log(`Sibyl API benchmark — server child pid ${child.proc.pid}, gRPC :${child.grpcPort}, HTTP :${child.httpPort}`);
    console.log(`machine: ${machineLine(machine)}\n`);

    process.stdout.write(`setup: ${TRIALS} trials via SuggestTrials(count ${SUGGEST_BATCH}), ${COMPLETE_FRACTION * 100}% completed via CompleteTrial ... `);
    const built = await buildStudy(child, agent, trialsClient);
    console.log(`suggest ${built.suggestSeconds.toFixed(1)} s, complete ${built.completeSeconds.toFixed(1)} s`);

    process.stdout.write(`reads: ${SAMPLES} calls each, one at a time ... `);
    const reads = await measureReads(child, built.name, agent, trialsClient, studiesClient);
    console.log('done');

    process.stdout.write(`gRPC ingest: ${GRPC_CHANNELS} channels × ${GRPC_IN_FLIGHT} in flight, batches of ${GRPC_BATCH}, ${SECONDS} s ... `);
    const grpcIn = await grpcIngest(child, agent, trialsClient);
    console.log('done');

    process.stdout.write(`REST ingest: ${REST_CLIENTS} clients, batches of ${REST_BATCH}, ${SECONDS} s ... `);
    const restIn = await restIngest(child, agent, trialsClient);
    console.log('done');

    process.stdout.write(`responsiveness: probes idle 3 s, then ${SECONDS * 2} s while a ${RESPONSIVE_TRIALS}-trial BO study suggests back to back ... `);
    const responsive = await responsiveness(undefined);
    console.log(`done (${responsive.suggestions} suggestions, median ${responsive.suggestMs.p50.toFixed(0)} ms each)\n`);

    console.log(`tune(): ${TUNE_TRIALS} trials per row with ${TUNE_WORKERS.join('/')} workers, then Optuna ask/tell on SQLite ... `);
    const tuned = await tuneRates();
    console.log('done\n');

    const pad = (s: string, n: number) => s.padEnd(n);
    const num = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }).padStart(10);
    console.log(`${pad('ingest', 30)}${'calls/s'.padStart(10)}${'points/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`);
    console.log(`${pad(`gRPC ReportObservations ×${GRPC_BATCH}`, 30)}${num(grpcIn.callsPerSecond)}${num(grpcIn.pointsPerSecond)}${num(grpcIn.latencyMs.p50, 1)}${num(grpcIn.latencyMs.p99, 1)}`);
    console.log(`${pad(`REST observations ×${REST_BATCH}`, 30)}${num(restIn.requestsPerSecond)}${num(restIn.pointsPerSecond)}${num(restIn.latencyMs.p50, 1)}${num(restIn.latencyMs.p99, 1)}`);
    console.log(`\n${pad(`reads (study of ${TRIALS} trials)`, 30)}${'p50 ms'.padStart(10)}${'p90 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}`);
    for (const [label, l] of Object.entries(reads)) console.log(`${pad(label, 30)}${num(l.p50, 2)}${num(l.p90, 2)}${num(l.p99, 2)}${num(l.max, 2)}`);

    console.log(`\n${pad(`responsiveness`, 30)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'max ms'.padStart(10)}${'samples'.padStart(10)}`);
    for (const [phase, r] of [['idle', responsive.idle], ['while BO suggests', responsive.busy]] as const) {
      console.log(`${pad(`/healthz, ${phase}`, 30)}${num(r.healthz.p50, 2)}${num(r.healthz.p99, 2)}${num(r.healthz.max, 2)}${num(r.healthz.n)}`);
      console.log(`${pad(`GetStudy, ${phase}`, 30)}${num(r.getStudy.p50, 2)}${num(r.getStudy.p99, 2)}${num(r.getStudy.max, 2)}${num(r.getStudy.n)}`);
    }
    console.log(`${pad('SuggestTrials (BO, 500+ trials)', 30)}${num(responsive.suggestMs.p50, 0)}${num(responsive.suggestMs.p99, 0)}${num(responsive.suggestMs.max, 0)}${num(responsive.suggestMs.n)}`);

    console.log(`\n${pad(`trials/s (${tuned.trials} trials, trivial objective)`, 40)}${'tune()'.padStart(10)}${`optuna ${tuned.optunaVersion ?? '-'}`.padStart(14)}${'ratio'.padStart(8)}`);
    const ratios = tuned.sibyl.map((row) => {
      const o = tuned.optuna.find((r) => r.workers === row.workers);
      const ratio = o && o.trialsPerSecond > 0 && !o.errors ? row.trialsPerSecond / o.trialsPerSecond : Number.NaN;
      console.log(`${pad(`${row.workers} worker${row.workers === 1 ? '' : 's'}`, 40)}${num(row.trialsPerSecond, 1)}${(o ? num(o.trialsPerSecond, 1) : '-'.padStart(10)).padStart(14)}${(Number.isNaN(ratio) ? '-' : `${ratio.toFixed(1)}×`).padStart(8)}`);
      return ratio;
    });
    if (tuned.optunaError) console.log(`optuna: ${tuned.optunaError}`);

    const worstRead = Math.max(...Object.values(reads).map((l) => l.p99));
    const worstBusy = Math.max(responsive.busy.healthz.p99, responsive.busy.getStudy.p99);
    const met = { grpcIngest: grpcIn.pointsPerSecond >= TARGETS.grpcPointsPerSecond, readsP99: worstRead <= TARGETS.readP99Ms, responsivenessP99: worstBusy <= TARGETS.responsivenessP99Ms, tuneVsOptuna: ratios.length > 0 && ratios.every((r) => r >= TARGETS.tuneVsOptuna) };
    console.log(`\ntarget gRPC ingest ≥ ${TARGETS.grpcPointsPerSecond.toLocaleString('en-US')} points/s: ${met.grpcIngest ? 'met' : 'MISSED'} (${Math.round(grpcIn.pointsPerSecond).toLocaleString('en-US')})`);
    console.log(`target read p99 ≤ ${TARGETS.readP99Ms} ms: ${met.readsP99 ? 'met' : 'MISSED'} (worst ${worstRead.toFixed(2)} ms)`);
    console.log(`target p99 of /healthz and GetStudy while BO suggests ≤ ${TARGETS.responsivenessP99Ms} ms: ${met.responsivenessP99 ? 'met' : 'MISSED'} (worst ${worstBusy.toFixed(2)} ms; idle ${Math.max(responsive.idle.healthz.p99, responsive.idle.getStudy.p99).toFixed(2)} ms)`);

    console.log(`target tune() ≥ ${TARGETS.tuneVsOptuna}× Optuna's ask/tell rate at every worker count: ${met.tuneVsOptuna ? 'met' : 'MISSED'} (${ratios.map((r) => (Number.isNaN(r) ? '-' : `${r.toFixed(1)}×`)).join(', ')})`);

    const rounded = (l: Latency) => ({ p50: round(l.p50, 3), p90: round(l.p90, 3), p99: round(l.p99, 3), max: round(l.max, 3), n: l.n });
    const out = writeResults('api', {
      server: 'child process: node dist/src/cli/main.js serve --runtime external (127.0.0.1)',
      setup: { trials: TRIALS, suggestCount: SUGGEST_BATCH, completed: Math.round(TRIALS * COMPLETE_FRACTION), stepsPerCompletedTrial: STEPS_PER_TRIAL, metrics: 2, suggestSeconds: round(built.suggestSeconds), completeSeconds: round(built.completeSeconds), counts: built.counts, best: built.best },
      reads: { pageSize: PAGE, samples: SAMPLES, warmup: WARMUP, unit: 'ms', ...Object.fromEntries(Object.entries(reads).map(([k, v]) => [k, rounded(v)])) },
      grpcIngest: { ...grpcIn, callsPerSecond: Math.round(grpcIn.callsPerSecond), pointsPerSecond: Math.round(grpcIn.pointsPerSecond), latencyMs: rounded(grpcIn.latencyMs) },
      restIngest: { ...restIn, requestsPerSecond: Math.round(restIn.requestsPerSecond), pointsPerSecond: Math.round(restIn.pointsPerSecond), latencyMs: rounded(restIn.latencyMs) },
      responsiveness: {
        trialsAtStart: responsive.trialsAtStart, suggestions: responsive.suggestions, probeGapMs: PROBE_GAP_MS, unit: 'ms',
        idle: { healthz: rounded(responsive.idle.healthz), getStudy: rounded(responsive.idle.getStudy) },
        whileSuggesting: { healthz: rounded(responsive.busy.healthz), getStudy: rounded(responsive.busy.getStudy) },
        suggestTrials: rounded(responsive.suggestMs),
      },
      tune: { ...tuned, ratios: Object.fromEntries(tuned.sibyl.map((row, i) => [String(row.workers), Number.isNaN(ratios[i]!) ? null : round(ratios[i]!, 2)])) },
      targets: TARGETS,
      met,
    }, machine);
    console.log(`results: ${out}`);
  } finally {
    trialsClient.close();
    studiesClient.close();
    agent.destroy();
    const code = await stopChild(child);
    if (code !== 0) console.error(`server exited with ${code}:\n${child.stderr.join('')}`);
    else if (child.stderr.length > 0) console.error(`server stderr:\n${child.stderr.join('').slice(-4000)}`);
    if (profDir) console.log(`server CPU profile in ${profDir}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
