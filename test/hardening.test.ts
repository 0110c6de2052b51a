// One regression test per finding of the hardening issue (#9), numbered as there. Findings 3
// (the dashboard) and 4 (the data-directory lock) are tested with the browser and the store
// (dashboard.test.ts, store.test.ts); 5 (metrics regexes) also in metrics.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../src/api/grpc/protos.js';
import { startServer } from '../src/server/app.js';
import { processesOwnedBy } from '../src/runtimes/local/orphans.js';
import { braninStudy, evaluateBranin } from './support/branin.js';
import { runCli, startCli } from './support/cli.js';
import { MISBEHAVING_WORKER } from './support/misbehaving-worker.js';
import { bearer, call, startTestServer, type TestServer } from './support/server.js';
import { harness, studySpec, tempDir } from './support/study.js';
import { until } from './support/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function rawRequest(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Worst latency of /healthz polled every 20 ms while `work` runs. */
async function healthLatencyDuring(s: TestServer, work: Promise<unknown>): Promise<{ max: number; p99: number; samples: number }> {
  let done = false;
  void work.finally(() => (done = true));
  const times: number[] = [];
  while (!done) {
    const started = performance.now();
    assert.equal((await s.http('GET', '/healthz')).status, 200);
    times.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 20));
  }
  await work;
  times.sort((a, b) => a - b);
  return { max: times.at(-1) ?? 0, p99: times[Math.floor(times.length * 0.99)] ?? 0, samples: times.length };
}

test('#1 Katib GetSuggestions with current_request_number 2147483647 is refused at once; the server lives and still suggests', async () => {
  const s = await startTestServer();
  try {
    const experiment = {
      name: 'e',
      spec: {
        parameterSpecs: { parameters: [{ name: 'x', parameterType: 'DOUBLE', feasibleSpace: { min: '0', max: '1' } }] },
        objective: { type: 'MINIMIZE', objectiveMetricName: 'loss' },
        algorithm: { algorithmName: 'random', algorithmSettings: [] },
      },
    };
    const suggestion = s.client('Suggestion');
    const before = process.memoryUsage().rss;
    await assert.rejects(call(suggestion, 'getSuggestions', { experiment, currentRequestNumber: 2147483647 }), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.match(e.details, /^current_request_number: must be a whole number from 0 to 1000 \(got 2147483647\)/);
      return true;
    });
    assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'no memory was spent on it');
    const reply = await call(suggestion, 'getSuggestions', { experiment, currentRequestNumber: 3 });
    assert.equal(reply.parameterAssignments.length, 3);
    assert.equal((await s.http('GET', '/healthz')).status, 200);
  } finally {
    await s.close();
  }
});

test('#2 no-token loopback mode: a rebinding Host and cross-site state changes are refused; the dashboard\'s own requests and --allowed-hosts pass', async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('target', 'random', 5) });
    const host = new URL(s.base).host;
    // A page of attacker.example whose name now resolves to 127.0.0.1 sends its own Host.
    const rebound = await rawRequest(s.base, 'POST', '/api/v1/studies/target/stop', { host: 'attacker.example:8080' });
    assert.equal(rebound.status, 403);
    assert.equal(rebound.body.error.field, 'host');
    assert.equal((await rawRequest(s.base, 'GET', '/api/v1/studies', { host: 'attacker.example' })).status, 403, 'reads too');
    assert.equal((await rawRequest(s.base, 'GET', '/', { host: 'attacker.example' })).status, 403, 'the dashboard too');
    assert.equal((await rawRequest(s.base, 'GET', '/healthz', { host: '10.0.0.7:8080' })).status, 200, 'probes answer any Host (a kubelet uses the pod IP)');
    // A form or text/plain POST from another site, with the right Host (no rebinding needed).
    const crossSite = await rawRequest(s.base, 'POST', '/api/v1/studies/target/stop', { host, origin: 'https://attacker.example', 'content-type': 'text/plain' }, 'x');
    assert.equal(crossSite.status, 403);
    assert.equal(crossSite.body.error.field, 'origin');
    const plain = await rawRequest(s.base, 'POST', '/api/v1/studies/target/stop', { host, 'content-type': 'text/plain' }, 'x');
    assert.equal(plain.status, 415);
    assert.equal((await rawRequest(s.base, 'POST', '/api/v1/studies/target/stop', { host, 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await s.http('GET', '/api/v1/studies/target')).body.state, 'RUNNING', 'nothing was stopped');
    // The dashboard's own request: same origin.
    const own = await rawRequest(s.base, 'POST', '/api/v1/studies/target/stop', { host, origin: s.base, 'sec-fetch-site': 'same-origin' });
    assert.equal(own.status, 200);
    assert.equal(own.body.state, 'STOPPED');
  } finally {
    await s.close();
  }
  const named = await startTestServer({ allowedHosts: 'sibyl.internal, *.example.org' });
  try {
    assert.equal((await rawRequest(named.base, 'GET', '/api/v1/studies', { host: 'sibyl.internal:8080' })).status, 200);
    assert.equal((await rawRequest(named.base, 'GET', '/api/v1/studies', { host: 'a.example.org' })).status, 200);
    assert.equal((await rawRequest(named.base, 'GET', '/api/v1/studies', { host: 'example.org.attacker.net' })).status, 403);
    assert.equal((await rawRequest(named.base, 'GET', '/api/v1/studies', { host: 'localhost:1' })).status, 403, 'a list replaces the defaults');
  } finally {
    await named.close();
  }
});

test('#5 a user regex that backtracks, on long trial output lines, does not hold the server: /healthz answers while the trial prints', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    const line = `loss ${'a'.repeat(20_000)}!`;
    const doc = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'regex' },
      spec: {
        objective: { type: 'minimize', objectiveMetricName: 'loss' }, algorithm: { algorithmName: 'grid' }, parallelTrialCount: 2,
        parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '2' } }],
        trialTemplate: {
          trialParameters: [{ name: 'x', reference: 'x' }],
          command: ['sh', '-c', `for i in $(seq 20); do echo '${line}'; done; echo 'loss=\${trialParameters.x}'`],
        },
        // On a backtracking engine the first pattern takes minutes on each of those lines.
        metricsCollectorSpec: { source: { filter: { metricsFormat: ['(loss)((a+)+)=', '(loss)=(\\d+)'] } } },
      },
    };
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: doc, runtime: 'local' })).status, 201);
    const work = until('the regex study ends', 60_000, async () => ['SUCCEEDED', 'FAILED'].includes((await s.http('GET', '/api/v1/studies/regex')).body.state));
    const latency = await healthLatencyDuring(s, work);
    assert.ok(latency.max < 1000, `/healthz took up to ${latency.max.toFixed(0)} ms`);
    const study = (await s.http('GET', '/api/v1/studies/regex')).body;
    assert.equal(study.state, 'SUCCEEDED');
    assert.equal(study.best.value, 1);
  } finally {
    await s.close();
  }
});

test('#6 WatchStudy ends at once with its error: unknown study, empty name, bad token; and when the study is deleted', async () => {
  const s = await startTestServer({ token: 'sesame' });
  try {
    const studies = s.client('Studies');
    const watch = (request: unknown, md?: grpc.Metadata) => new Promise<{ code: number; details: string; events: number }>((resolve) => {
      const stream = studies.watchStudy(request, md ?? new grpc.Metadata(), { deadline: Date.now() + 20_000 });
      let events = 0;
      stream.on('data', () => events++);
      stream.on('error', (e: grpc.ServiceError) => resolve({ code: e.code, details: e.details, events }));
      stream.on('end', () => resolve({ code: grpc.status.OK, details: '', events }));
    });
    const timed = async (p: Promise<{ code: number; details: string; events: number }>) => {
      const started = Date.now();
      const r = await p;
      assert.ok(Date.now() - started < 5000, 'it did not wait for the deadline');
      return r;
    };
    assert.deepEqual(await timed(watch({ name: 'nope' }, bearer('sesame'))), { code: grpc.status.NOT_FOUND, details: 'name: study "nope" not found', events: 0 });
    assert.equal((await timed(watch({ name: '' }, bearer('sesame')))).code, grpc.status.INVALID_ARGUMENT);
    assert.equal((await timed(watch({ name: 'nope' }, bearer('wrong')))).code, grpc.status.UNAUTHENTICATED);
    assert.equal((await timed(watch({ name: 'nope' }))).code, grpc.status.UNAUTHENTICATED);
    await call(studies, 'createStudy', { specText: braninStudy('watched', 'random', 5) }, bearer('sesame'));
    const ended = watch({ name: 'watched' }, bearer('sesame'));
    await new Promise((r) => setTimeout(r, 200));
    await call(studies, 'deleteStudy', { name: 'watched' }, bearer('sesame'));
    const r = await timed(ended);
    assert.equal(r.code, grpc.status.OK, 'a deleted study\'s stream ends');
    assert.ok(r.events >= 1);
  } finally {
    await s.close();
  }
});

test('#7 Katib ReportObservationLog refuses a finished trial of Sibyl\'s; its metrics stay as they were', async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('k', 'random', 5) });
    const [trial] = (await s.http('POST', '/api/v1/studies/k/suggest', { clientId: 'a' })).body.trials;
    await s.http('POST', `/api/v1/trials/${trial.name}/complete`, { metrics: [{ metric: 'f', value: 3 }] });
    const log = { trialName: trial.name, observationLog: { metricLogs: [{ timeStamp: '2026-12-01T00:00:00Z', metric: { name: 'f', value: '-100' } }] } };
    await assert.rejects(call(s.client('DBManager'), 'reportObservationLog', log), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.FAILED_PRECONDITION);
      assert.match(e.details, /^trial_name: trial "k-0001" has ended \(SUCCEEDED\)/);
      return true;
    });
    const after = (await s.http('GET', `/api/v1/trials/${trial.name}`)).body;
    assert.equal(after.objectiveValue, 3);
    assert.deepEqual(after.metrics.map((m: { min: number; count: number }) => [m.min, m.count]), [[3, 1]]);
    assert.deepEqual((await call(s.client('DBManager'), 'getObservationLog', { trialName: trial.name })).observationLog.metricLogs ?? [], [], 'nothing was logged either');
  } finally {
    await s.close();
  }
});

test('#8 numbers beyond the wire types are refused, and what is stored is reported exactly', async () => {
  const s = await startTestServer();
  try {
    const big = await s.http('POST', '/api/v1/studies', { specText: braninStudy('big', 'random', 1).replace('maxTrialCount: 1', 'maxTrialCount: 3000000000') });
    assert.equal(big.status, 400);
    assert.equal(big.body.error.field, 'specText.spec.maxTrialCount');
    const edges = await s.http('POST', '/api/v1/studies', { specText: braninStudy('edges', 'random', 5).replace('min: "-5", max: "10"', 'min: "-1.7e308", max: "1.7e308"') });
    assert.equal(edges.status, 400);
    assert.equal(edges.body.error.field, 'specText.spec.parameters[0].feasibleSpace.min');
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: braninStudy('max', 'random', 1_000_000) })).status, 201);
    assert.equal((await call(s.client('Studies'), 'getStudy', { name: 'max' })).maxTrialCount, 1_000_000, 'gRPC reports the stored value');
    const budget = await s.http('PATCH', '/api/v1/studies/max/budget', '{"maxTrialCount": 1e20}');
    assert.equal(budget.status, 400);
    assert.equal(budget.body.error.field, 'maxTrialCount');
    await assert.rejects(call(s.client('Studies'), 'updateStudyBudget', { name: 'max', maxTrialCount: 2147483647 }), (e: grpc.ServiceError) => /^maxTrialCount: must be at most 1000000/.test(e.details));
    assert.equal((await s.http('GET', '/api/v1/studies/max')).body.maxTrialCount, 1_000_000);
  } finally {
    await s.close();
  }
});

test('#9 parallelTrialCount beyond 1000 is refused; a study at 1000 creates and launches them without holding the server', { timeout: 240_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    const doc = (name: string, parallel: number) => ({
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
      spec: {
        objective: { type: 'maximize', objectiveMetricName: 'score' },
        algorithm: { algorithmName: 'random' },
        parallelTrialCount: parallel, maxTrialCount: 5000,
        parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } }],
        trialTemplate: { trialParameters: [{ name: 'x', reference: 'x' }], command: ['sh', '-c', 'exec sleep 120 # ${trialParameters.x}'] },
      },
    });
    const refused = await s.http('POST', '/api/v1/studies', { spec: doc('wide', 20_000), runtime: 'local' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.field, 'spec.spec.parallelTrialCount');
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: doc('thousand', 1000), runtime: 'local' })).status, 201);
    const work = until('a thousand trials run', 180_000, async () => (await s.http('GET', '/api/v1/studies/thousand')).body.trials.RUNNING === 1000);
    const latency = await healthLatencyDuring(s, work);
    assert.ok(latency.p99 < 1000, `/healthz p99 ${latency.p99.toFixed(0)} ms while the trials were created (max ${latency.max.toFixed(0)} ms)`);
    const stopped = await s.http('POST', '/api/v1/studies/thousand/stop');
    assert.equal(stopped.body.state, 'STOPPED');
    await until('every trial ended', 120_000, async () => (await s.http('GET', '/api/v1/studies/thousand')).body.trials.KILLED === 1000);
    assert.deepEqual(processesOwnedBy(s.dataDir), []);
  } finally {
    await s.close();
  }
});

test('#10 alias bombs, long names and a 1 MB gRPC name get shaped refusals; white-space tokens are refused at start-up; "bearer" in any case works', async () => {
  await assert.rejects(startServer({ dataDir: join(tempDir(), 'd'), host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'external', token: '   ' }), /refusing the token: the token is empty or white space/);
  await assert.rejects(startServer({ dataDir: join(tempDir(), 'd'), host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'external', token: '' }), /refusing the token/);
  await assert.rejects(startServer({ dataDir: join(tempDir(), 'd'), host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'external', token: ' pad ' }), /white space/);
  const s = await startTestServer({ token: 'open sesame' });
  try {
    for (const scheme of ['bearer', 'BEARER', 'Bearer', 'beArer']) {
      assert.equal((await s.http('GET', '/api/v1/studies', undefined, { authorization: `${scheme} open sesame` })).status, 200, scheme);
    }
    assert.equal((await call(s.client('Studies'), 'listStudies', {}, (() => { const m = new grpc.Metadata(); m.set('authorization', 'bearer open sesame'); return m; })())).studies ?? null, null);
    const auth = { authorization: 'Bearer open sesame' };
    const bomb = await s.http('POST', '/api/v1/studies', { specText: 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n' }, auth);
    assert.equal(bomb.status, 400);
    assert.deepEqual([bomb.body.error.field, bomb.body.error.message], ['specText', 'the YAML uses aliases too often (at most 100 expansions)']);
    for (const n of [101, 200, 253, 254, 300, 4000]) {
      const r = await s.http('GET', `/api/v1/studies/${'a'.repeat(n)}`, undefined, auth);
      assert.equal(r.status, n <= 253 ? 404 : 400, `${n} characters`);
      assert.equal(r.body.error.field, 'name');
      assert.ok(r.body.error.message.length < 300, 'the name is not echoed whole');
    }
    const studies = s.client('Studies');
    const started = Date.now();
    await assert.rejects(call(studies, 'getStudy', { name: 'x'.repeat(1 << 20) }, bearer('open sesame')), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(e.details, 'name: must be at most 253 characters (got 1048576)');
      return true;
    });
    assert.ok(Date.now() - started < 5000);
    assert.equal((await call(studies, 'listStudies', {}, bearer('open sesame'))).studies, undefined, 'the same channel still works');
  } finally {
    await s.close();
  }
});

test('#11 an algorithm that throws, and one that never returns, each end their study FAILED (AlgorithmFailed) within a bounded time', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ algorithmWorker: MISBEHAVING_WORKER, algorithmTimeoutMs: 1500, algorithmRetry: { attempts: 3, backoffMs: 200 } });
  try {
    // The stand-in worker makes sobol throw and grid never return; random still works beside them.
    const grid = braninStudy('hangs', 'grid', 5).replace('algorithmSettings: [{name: random_state, value: "3"}]', 'algorithmSettings: []').replace(/min: "-5", max: "10"/, 'min: "-5", max: "10", step: "1"').replace(/min: "0", max: "15"/, 'min: "0", max: "15", step: "1"');
    for (const [name, text] of [['throws', braninStudy('throws', 'sobol', 5)], ['hangs', grid]] as const) {
      assert.equal((await s.http('POST', '/api/v1/studies', { specText: text })).status, 201, name);
      const started = Date.now();
      const r = await s.http('POST', `/api/v1/studies/${name}/suggest`, { clientId: 'a' });
      const elapsed = Date.now() - started;
      assert.equal(r.status, 409, `${name}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.message, name === 'throws' ? /sobol failed: the stand-in algorithm throws on purpose \(after 3 attempts\)/ : /grid gave no answer within 1\.5 s \(after 3 attempts\)/);
      assert.ok(elapsed < 20_000, `${name}: ${elapsed} ms`);
      const study = (await s.http('GET', `/api/v1/studies/${name}`)).body;
      assert.deepEqual([study.state, study.reason], ['FAILED', 'AlgorithmFailed'], name);
      assert.match(study.message, /after 3 attempts/);
    }
    // The server and the other algorithms are fine.
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('fine', 'random', 5) });
    assert.equal((await s.http('POST', '/api/v1/studies/fine/suggest', { clientId: 'a' })).body.trials.length, 1);
  } finally {
    await s.close();
  }
  // A launching study (as `sibyl run` drives it) ends too instead of waiting forever.
  const h = harness();
  const { Scheduler } = await import('../src/scheduler/scheduler.js');
  const { LocalRuntime } = await import('../src/runtimes/local/index.js');
  const { AlgorithmPool } = await import('../src/algorithms/pool.js');
  const pool = new AlgorithmPool({ worker: MISBEHAVING_WORKER, timeoutMs: 1000 });
  const scheduler = new Scheduler({ store: h.store, algorithms: pool, retry: { attempts: 2, backoffMs: 100 }, runtime: (listener) => new LocalRuntime({ dataDir: h.dataDir, listener }) });
  try {
    const spec = studySpec({ name: 'run-hangs', parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '3' } }], trialParameters: [{ name: 'x', reference: 'x' }], command: ['echo', 'score=${trialParameters.x}'] });
    const created = await h.store.createStudy(spec, process.cwd(), 1);
    await scheduler.adopt([created.id]);
    const ended = await Promise.race([scheduler.waitForEnd(created.id), new Promise<undefined>((r) => setTimeout(() => r(undefined), 30_000))]);
    assert.ok(ended, 'the study ended');
    assert.deepEqual([ended.state, ended.reason], ['FAILED', 'AlgorithmFailed']);
  } finally {
    await scheduler.close();
    await pool.close();
    await h.close();
  }
});

test('#12 suggestions run off the event loop: /healthz stays quick while a Bayesian-optimisation study suggests continuously', { timeout: 180_000 }, async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('bo', 'bayesianoptimization', 200).replace('algorithmSettings: [{name: random_state, value: "3"}]', 'algorithmSettings: [{name: random_state, value: "3"}, {name: n_initial_points, value: "5"}]') });
    // An ask/tell client that evaluates at once: the study suggests back to back.
    const client = (async () => {
      for (let i = 0; i < 60; i++) {
        const [t] = (await s.http('POST', '/api/v1/studies/bo/suggest', { clientId: 'fast' })).body.trials;
        await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'f', value: evaluateBranin(t.assignment) }] });
      }
    })();
    const latency = await healthLatencyDuring(s, client);
    assert.ok(latency.samples > 20);
    assert.ok(latency.p99 < 250, `/healthz p99 ${latency.p99.toFixed(0)} ms (max ${latency.max.toFixed(0)} ms) over ${latency.samples} samples`);
  } finally {
    await s.close();
  }
});

test('#13 a silent ask/tell client loses its trial after heartbeatSeconds; the assignment goes to the next client; the budgeted study finishes', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    // The expired trial counts as a failed one, as every failed trial does; its retry is a trial of its own.
    const created = await s.http('POST', '/api/v1/studies', { specText: braninStudy('hb', 'random', 3).replace('parallelTrialCount: 1', 'parallelTrialCount: 3'), heartbeatSeconds: 2 });
    assert.equal(created.body.heartbeatSeconds, 2);
    const [lost] = (await s.http('POST', '/api/v1/studies/hb/suggest', { clientId: 'silent' })).body.trials;
    const [kept] = (await s.http('POST', '/api/v1/studies/hb/suggest', { clientId: 'alive' })).body.trials;
    // The live client beats (and reports); the silent one says nothing.
    const beats = setInterval(() => void s.http('POST', `/api/v1/trials/${kept.name}/heartbeat`), 500);
    try {
      const expired = await until('the silent trial expires', 10_000, async () => {
        const t = (await s.http('GET', `/api/v1/trials/${lost.name}`)).body;
        return t.state === 'FAILED' ? t : undefined;
      });
      assert.equal(expired.reason, 'HeartbeatExpired');
      assert.match(expired.message, /client "silent" neither reported nor beat for 2 s/);
      assert.equal((await s.http('GET', `/api/v1/trials/${kept.name}`)).body.state, 'RUNNING', 'the live client kept its trial');
    } finally {
      clearInterval(beats);
    }
    // The late client is told; the next client gets the same assignment.
    const late = await s.http('POST', `/api/v1/trials/${lost.name}/complete`, { metrics: [{ metric: 'f', value: 1 }] });
    assert.equal(late.status, 409);
    const [retry] = (await s.http('POST', '/api/v1/studies/hb/suggest', { clientId: 'next' })).body.trials;
    assert.notEqual(retry.name, lost.name);
    assert.deepEqual(retry.assignment, lost.assignment);
    for (const t of [kept, retry]) await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'f', value: evaluateBranin(t.assignment) }] });
    const study = await until('the study ends', 10_000, async () => {
      const st = (await s.http('GET', '/api/v1/studies/hb')).body;
      return st.state !== 'RUNNING' ? st : undefined;
    });
    assert.deepEqual([study.state, study.reason, study.trials.SUCCEEDED, study.trials.FAILED], ['SUCCEEDED', 'MaxTrialsReached', 2, 1]);
  } finally {
    await s.close();
  }
});

test('#14 the README\'s service example works from the repository root; a command that cannot be found is refused when the study is created', { timeout: 180_000 }, async () => {
  const dataDir = join(tempDir(), 'data');
  const proc = startCli(['serve', '--data-dir', dataDir, '--grpc-port', '0', '--http-port', '0'], {}, ROOT);
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      proc.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /HTTP on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      void proc.done.then((r) => reject(new Error(`serve exited: ${r.code} ${r.stderr}`)));
    });
    const submitted = await runCli(['submit', 'examples/mlp/grid.yaml', '--server', url], {}, ROOT);
    assert.equal(submitted.code, 0, submitted.stderr);
    const study = await until('the grid study ends', 150_000, async () => {
      const r = await fetch(`${url}/api/v1/studies/mlp-grid`);
      const body = await r.json() as { state: string };
      return body.state !== 'RUNNING' && body.state !== 'CREATED' ? body : undefined;
    }) as { state: string; reason: string; trials: Record<string, number> };
    assert.deepEqual([study.state, study.reason, study.trials['SUCCEEDED']], ['SUCCEEDED', 'MaxTrialsReached', 9]);

    const missing = join(tempDir(), 'missing.yaml');
    writeFileSync(missing, `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: missing-program}
spec:
  objective: {type: maximize, objectiveMetricName: score}
  algorithm: {algorithmName: grid}
  parameters: [{name: x, parameterType: int, feasibleSpace: {min: "1", max: "2"}}]
  trialTemplate:
    trialParameters: [{name: x, reference: x}]
    command: [./no-such-train.sh, '\${trialParameters.x}']
`);
    const refused = await runCli(['submit', missing, '--server', url]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /specText\.spec\.trialTemplate\.command\[0\]: "\.\/no-such-train\.sh" is not an executable file in \/tmp\//);
    assert.equal((await fetch(`${url}/api/v1/studies/missing-program`)).status, 404, 'nothing was created');
  } finally {
    proc.child.kill('SIGTERM');
    await proc.done;
  }
});

test('deleting a study deletes everything it owns: trials, observations, their logs and Katib log entries', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    const doc = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'gone' },
      spec: {
        objective: { type: 'maximize', objectiveMetricName: 'score' }, algorithm: { algorithmName: 'grid' }, parallelTrialCount: 2,
        parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '2' } }],
        trialTemplate: { trialParameters: [{ name: 'x', reference: 'x' }], command: ['sh', '-c', 'echo score=${trialParameters.x}'] },
      },
    };
    await s.http('POST', '/api/v1/studies', { spec: doc, runtime: 'local' });
    await until('the study ends', 30_000, async () => (await s.http('GET', '/api/v1/studies/gone')).body.state === 'SUCCEEDED');
    await call(s.client('DBManager'), 'reportObservationLog', { trialName: 'gone-0001', observationLog: { metricLogs: [] } }).catch(() => {});
    const logs = () => readdirSync(join(s.dataDir, 'logs')).filter((f) => f.startsWith('gone-'));
    assert.equal(logs().length, 2);
    assert.equal((await s.http('DELETE', '/api/v1/studies/gone')).status, 204);
    assert.deepEqual(logs(), [], 'the trials\' logs are gone');
    // A new study under the same name starts with clean logs.
    await s.http('POST', '/api/v1/studies', { spec: doc, runtime: 'local' });
    await until('the new study ends', 30_000, async () => (await s.http('GET', '/api/v1/studies/gone')).body.state === 'SUCCEEDED');
    const tail = (await s.http('GET', '/api/v1/trials/gone-0001/log')).body.lines as string[];
    assert.equal(tail.filter((l) => l.startsWith('── ')).length, 1, 'one run in the log, not two');
  } finally {
    await s.close();
  }
});

test('TLS: --tls-cert/--tls-key serve HTTPS and gRPC over TLS', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const running = await startServer({ dataDir: join(dir, 'data'), host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'external', tlsCert: join(dir, 'cert.pem'), tlsKey: join(dir, 'key.pem') });
  try {
    const ca = readFileSync(join(dir, 'cert.pem'));
    const status = await new Promise<number>((resolve, reject) => {
      https.get(`https://127.0.0.1:${running.httpPort}/healthz`, { ca }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);
    });
    assert.equal(status, 200);
    const protos = loadProtos();
    const client = new protos.health.Health(`127.0.0.1:${running.grpcPort}`, grpc.credentials.createSsl(ca));
    assert.deepEqual(await call(client, 'check', { service: '' }), { status: 'SERVING' });
    client.close();
    const plain: any = new protos.health.Health(`127.0.0.1:${running.grpcPort}`, grpc.credentials.createInsecure());
    await assert.rejects(new Promise((resolve, reject) => plain.check({ service: '' }, { deadline: Date.now() + 3000 }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r)))), 'plain gRPC is not served');
    plain.close();
  } finally {
    await running.close();
  }
});

test('a study created after another was deleted sees only its own trials, even when it is given the same id', async () => {
  const s = await startTestServer();
  try {
    const grid = braninStudy('again', 'grid', 4).replace('algorithmSettings: [{name: random_state, value: "3"}]', 'algorithmSettings: []')
      .replace('min: "-5", max: "10"', 'min: "-5", max: "10", step: "15"').replace('min: "0", max: "15"', 'min: "0", max: "15", step: "15"');
    await s.http('POST', '/api/v1/studies', { specText: grid });
    const first = (await s.http('POST', '/api/v1/studies/again/suggest', { clientId: 'a', count: 2 })).body.trials;
    for (const t of first) await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'f', value: 1 }] });
    assert.equal((await s.http('DELETE', '/api/v1/studies/again')).status, 204);
    await s.http('POST', '/api/v1/studies', { specText: grid });
    const again = (await s.http('POST', '/api/v1/studies/again/suggest', { clientId: 'b', count: 4 })).body.trials;
    assert.equal(again.length, 4, 'all four grid points are offered again');
    assert.equal(new Set(again.map((t: { assignment: unknown }) => JSON.stringify(t.assignment))).size, 4);
  } finally {
    await s.close();
  }
});
