// Several Sibyl replicas on one PostgreSQL (issue #13): the advisory-lock leader election, the
// event bus between replicas (NOTIFY's size limit, a LISTEN session that is re-made), and
// ask/tell against two replicas at once. The failover test is replicas-failover.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServer, type RunningServer } from '../src/server/app.js';
import { PostgresLeaderElector } from '../src/store/pg-leader.js';
import { MAX_PAYLOAD_BYTES } from '../src/store/pg-event-bus.js';
import { PostgresStore } from '../src/store/postgres.js';
import { startPostgres, withClient, type PostgresServer } from './support/postgres.js';
import { startReplica, stopReplicas, watchSse, leads, type Replica } from './support/replicas.js';
import { braninStudy } from './support/branin.js';
import { startTestServer } from './support/server.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
});

const terminate = (url: string, applicationName: string) =>
  withClient(url, async (c) => (await c.query('SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name LIKE $1', [applicationName])).rowCount ?? 0);

test('PostgreSQL leader lock: one leader of three; a leader whose session is ended steps down at once and another takes over', { timeout: 60_000 }, async () => {
  const url = await server.createDatabase('lock');
  const events: string[] = [];
  // A renew deadline a busy machine's database can meet; the step-down on a lost session must come well before it.
  const renewDeadlineMs = 4000;
  const electors = ['a', 'b', 'c'].map((id) => new PostgresLeaderElector(url, { identity: id, retryPeriodMs: 200, renewDeadlineMs }, {
    onStartedLeading: () => void events.push(`${id} leads`),
    onStoppedLeading: () => void events.push(`${id} stopped`),
  }));
  try {
    for (const e of electors) e.start();
    const first = await until('a leader', 10_000, () => electors.find((e) => e.isLeader()));
    await sleep(800); // several rounds of the others trying
    assert.deepEqual(electors.filter((e) => e.isLeader()), [first], 'exactly one leader');
    assert.deepEqual(events, [`${first.identity} leads`]);

    // Its session ends (as when the database drops it): it stops leading at once, for good.
    const cut = Date.now();
    assert.equal(await terminate(url, `sibyl-leader ${first.identity}`), 1);
    await until('the leader to step down', 5_000, () => !first.isLeader());
    assert.ok(Date.now() - cut < renewDeadlineMs - 1000, `stepped down ${Date.now() - cut} ms after its session ended: at its next confirmation, not its renew deadline`);
    const second = await until('another leader', 5_000, () => electors.find((e) => e !== first && e.isLeader()));
    await sleep(600);
    assert.equal(first.isLeader(), false, 'a leader that stepped down does not campaign again');
    assert.deepEqual(electors.filter((e) => e.isLeader()), [second]);
    assert.deepEqual(events, [`${first.identity} leads`, `${first.identity} stopped`, `${second.identity} leads`]);

    // stop() releases the lock for the remaining candidate.
    await second.stop();
    const third = electors.find((e) => e !== first && e !== second)!;
    await until('the last candidate to lead', 5_000, () => third.isLeader());
  } finally {
    await Promise.all(electors.map((e) => e.stop()));
  }
});

/** An ask/tell study whose spec (and so every study event) is larger than NOTIFY allows. */
function largeStudy(name: string, maxTrialCount: number) {
  return {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
    spec: {
      objective: { type: 'minimize', objectiveMetricName: 'loss' },
      algorithm: { algorithmName: 'random' },
      parallelTrialCount: 2, maxTrialCount,
      parameters: [
        { name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } },
        { name: 'c', parameterType: 'categorical', feasibleSpace: { list: Array.from({ length: 800 }, (_, i) => `choice-${String(i).padStart(4, '0')}`) } },
      ],
    },
  };
}

test('event bus: a study event over NOTIFY\'s limit reaches the other replica whole; a LISTEN session that ends is re-made and the watched study re-read', { timeout: 90_000 }, async () => {
  const url = await server.createDatabase('bus');
  const dir = tempDir();
  const logs: string[] = [];
  const servers: RunningServer[] = [];
  const start = async (name: string) => {
    const s = await startServer({ dataDir: join(dir, name), storeUrl: url, host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'local', log: (m) => logs.push(`${name}: ${m}`) });
    servers.push(s);
    return s;
  };
  try {
    const a = await start('a');
    const b = await start('b');
    const post = (s: RunningServer, path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${s.httpPort}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post(a, '/studies', { spec: largeStudy('big', 3), runtime: 'external' })).status, 201);
    const watch = await watchSse(`http://127.0.0.1:${b.httpPort}/api/v1/studies/big/events`);
    try {
      // Asking on A starts the study there: B hears of it.
      const asked = (await (await post(a, '/studies/big/suggest', { clientId: 'c1' })).json()) as { trials: { name: string }[] };
      const trial = asked.trials[0]!.name;
      const running = await until('B\'s watcher sees the study RUNNING', 10_000, () => watch.events.find((e) => e.type === 'study' && e.data.state === 'RUNNING'));
      assert.ok(Buffer.byteLength(JSON.stringify(running.data)) > MAX_PAYLOAD_BYTES, 'the event is larger than a NOTIFY payload');
      assert.ok(JSON.stringify(running.data.spec).includes('choice-0799'), 'it arrived whole (read back from the store)');
      await until('B\'s watcher sees the trial', 10_000, () => watch.events.find((e) => e.type === 'trial' && e.data.name === trial && e.data.state === 'RUNNING'));

      // B's LISTEN session ends; the trial completes on A meanwhile.
      assert.ok((await terminate(url, 'sibyl-events-in')) >= 2, 'both replicas LISTEN');
      assert.equal((await post(a, `/trials/${trial}/complete`, { metrics: [{ metric: 'loss', value: 0.5 }] })).status, 200);
      await until('B to re-make its LISTEN session and re-read the study', 15_000, () => logs.some((l) => /^b: event bus: LISTEN session re-made; re-reading 1 watched study/.test(l)), () => logs.join('\n'));
      await until('B\'s watcher sees the trial SUCCEEDED', 10_000, () => watch.events.find((e) => e.type === 'trial' && e.data.name === trial && e.data.state === 'SUCCEEDED'));
      // And it keeps hearing A afterwards.
      const next = (await (await post(a, '/studies/big/suggest', { clientId: 'c2' })).json()) as { trials: { name: string }[] };
      await until('B\'s watcher sees a trial handed out after the reconnect', 10_000, () => watch.events.find((e) => e.type === 'trial' && e.data.name === next.trials[0]!.name));
    } finally {
      watch.close();
    }
  } finally {
    for (const s of servers.reverse()) await s.close();
  }
});

test('ask/tell on two replicas: concurrent clients on both; each of the 40 trials is handed to exactly one client, and the budget holds', { timeout: 120_000 }, async (t) => {
  const url = await server.createDatabase('asktell');
  const dir = tempDir();
  const replicas: Replica[] = [];
  const store = await PostgresStore.open(url);
  try {
    replicas.push(await startReplica('a', url, join(dir, 'a')), await startReplica('b', url, join(dir, 'b')));
    await until('a leader', 20_000, async () => (await Promise.all(replicas.map(leads))).some(Boolean));
    const spec = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'asktell' },
      spec: {
        objective: { type: 'minimize', objectiveMetricName: 'loss' }, algorithm: { algorithmName: 'random' },
        parallelTrialCount: 8, maxTrialCount: 40,
        parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } }],
      },
    };
    const json = { 'content-type': 'application/json' };
    const created = await fetch(`${replicas[1]!.url}/api/v1/studies`, { method: 'POST', headers: json, body: JSON.stringify({ spec, runtime: 'external' }) });
    assert.equal(created.status, 201, await created.text());

    const handed: { client: string; trial: string }[] = [];
    const client = async (replica: Replica, id: string) => {
      for (let idle = 0; idle < 100;) {
        const res = await fetch(`${replica.url}/api/v1/studies/asktell/suggest`, { method: 'POST', headers: json, body: JSON.stringify({ clientId: id, count: 2 }) });
        if (res.status === 400 || res.status === 409 || res.status === 412) break; // the study has ended
        assert.equal(res.status, 200, await res.clone().text());
        const { trials } = (await res.json()) as { trials: { name: string; assignment: { x: number } }[] };
        if (trials.length === 0) {
          idle += 1;
          await sleep(50);
          continue;
        }
        for (const trial of trials) {
          handed.push({ client: id, trial: trial.name });
          const done = await fetch(`${replica.url}/api/v1/trials/${trial.name}/complete`, { method: 'POST', headers: json, body: JSON.stringify({ metrics: [{ metric: 'loss', value: trial.assignment.x }] }) });
          assert.equal(done.status, 200, await done.clone().text());
        }
      }
    };
    await Promise.all(replicas.flatMap((r) => [1, 2, 3].map((i) => client(r, `${r.name}-${i}`))));

    const byTrial = new Map<string, string[]>();
    for (const h of handed) byTrial.set(h.trial, [...(byTrial.get(h.trial) ?? []), h.client]);
    const shared = [...byTrial].filter(([, clients]) => clients.length > 1);
    assert.deepEqual(shared, [], 'a trial handed to two clients');
    assert.equal(byTrial.size, 40, 'trials handed out');
    const perReplica = ['a', 'b'].map((r) => handed.filter((h) => h.client.startsWith(`${r}-`)).length);
    t.diagnostic(`trials handed out through replica a: ${perReplica[0]}, b: ${perReplica[1]}`);
    assert.ok(perReplica.every((n) => n > 0), 'both replicas handed out trials');
    const study = await until('the study to end', 20_000, async () => {
      const s = await store.getStudyByName('asktell');
      return s?.state === 'SUCCEEDED' && s;
    });
    assert.equal(study.reason, 'MaxTrialsReached');
    const trials = await store.listTrials(study.id);
    assert.equal(trials.length, 40, 'total == maxTrialCount');
    assert.deepEqual(trials.map((tr) => tr.name).sort(), [...byTrial.keys()].sort());
    assert.ok(trials.every((tr) => tr.state === 'SUCCEEDED'));
  } finally {
    await stopReplicas(replicas);
    await store.close();
  }
});

test('ask/tell on PostgreSQL: reports sent at once without steps get steps after each other, none shared', async () => {
  // On PostgreSQL each store call is a real wait, so two reports' reads and writes can interleave.
  const s = await startTestServer({ storeUrl: await server.createDatabase('stepless') });
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('stepless', 'random', 5) });
    const [trial] = (await s.http('POST', '/api/v1/studies/stepless/suggest', { count: 1, clientId: 'c' })).body.trials;
    // 20 reports in flight together, two values each, none naming a step.
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      s.http('POST', `/api/v1/trials/${trial.name}/observations`, { observations: [{ metric: 'f', value: 2 * i }, { metric: 'f', value: 2 * i + 1 }] })));
    for (const r of replies) assert.equal(r.status, 200, JSON.stringify(r.body));
    const { observations } = (await s.http('GET', `/api/v1/trials/${trial.name}/observations`)).body as { observations: { step: number; value: number }[] };
    assert.equal(observations.length, 40);
    assert.deepEqual(observations.map((o) => o.step).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i + 1), 'steps 1..40, each once');
    // Within a report the steps follow its order.
    for (let i = 0; i < 20; i++) {
      const [a, b] = [observations.find((o) => o.value === 2 * i)!, observations.find((o) => o.value === 2 * i + 1)!];
      assert.equal(b.step, a.step + 1);
    }
  } finally {
    await s.close();
  }
});
