// `sibyl migrate-store` (issue #13, item 3): a SQLite store with 3 studies and 10,000
// observations, moved by the real CLI into a real PostgreSQL, reads back equal through the
// Store interface; a second run into the now non-empty database is refused and changes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

import { PostgresStore } from '../src/store/postgres.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { ObservationInput, Store } from '../src/store/store.js';
import { startPostgres, type PostgresServer } from './support/postgres.js';
import { spec } from './support/store-spec.js';

const CLI = new URL('../src/cli/main.js', import.meta.url).pathname;
let server: PostgresServer;
const dirs: string[] = [];
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** Three studies with trials in every state the store writes, 10,000 observations, and the rest. */
async function fillSource(store: Store): Promise<void> {
  const time = (i: number) => new Date(Date.UTC(2026, 10, 28) + i * 1000).toISOString();
  const obs = (metric: string, value: number, step: number, i: number): ObservationInput => ({ metric, value, step, time: time(i) });
  let made = 0;
  const observe = async (trialId: number, n: number) => {
    const rows: ObservationInput[] = [];
    for (let k = 0; k < n; k++, made++) rows.push(obs(k % 2 ? 'accuracy' : 'loss', Math.sin(made) * 1e3 + 1 / (made + 3), Math.floor(k / 2) + 1, made));
    await store.addObservations([{ trialId, observations: rows }]);
  };

  const a = await store.createStudy(spec('alpha'), '/base/a', 42, 'local');
  await store.transitionStudy(a.id, 'start');
  const ta = await store.addTrials(a.id, Array.from({ length: 30 }, (_, i) => ({ lr: 0.001 * (i + 1), opt: i % 2 ? 'sgd' : 'adam' })), { cursor: '30', nested: '{"x":1}' },
    Array.from({ length: 30 }, (_, i) => (i % 3 ? undefined : { generation: String(i), parent: `alpha-${i}` })));
  for (const [i, tr] of ta.entries()) {
    await store.transitionTrial(tr.id, 'start', { runtimeRef: `pgid:${1000 + i}` });
    await observe(tr.id, 200);
    if (i === 4) await store.requestEarlyStop(tr.id, 50, 'medianstop: below the median at step 50');
    const end = i % 5 === 0 ? 'fail' : i === 4 ? 'earlyStop' : i % 7 === 0 ? 'missMetrics' : 'succeed';
    const reason = { fail: 'NonZeroExit', earlyStop: 'EarlyStopped', missMetrics: 'MetricsUnavailable', succeed: 'TrialSucceeded' }[end];
    await store.transitionTrial(tr.id, end, { reason, message: `exit ${i}`, ...(end === 'succeed' || end === 'earlyStop' ? { objectiveValue: await store.strategyValue(tr.id, 'loss', 'min') } : {}) });
  }
  await store.transitionStudy(a.id, 'succeed', 'MaxTrialsReached', '30 trials completed');

  const b = await store.createStudy(spec('beta', 'maximize'), '/base/b', 7, 'external', { heartbeatSeconds: 30, owner: 'kubeflow.org/v1beta1 Experiment default/beta 1234' });
  await store.transitionStudy(b.id, 'start');
  const tb = await store.addClientTrials(b.id, Array.from({ length: 10 }, (_, i) => ({ lr: i / 10 })), 'client:one');
  for (const tr of tb) await observe(tr.id, 300);
  await store.beat(tb.slice(0, 5).map((tr) => tr.id));
  const { retry } = await store.expireTrial(tb[9]!.id, 'client "one" neither reported nor beat for 30 s');
  assert.ok(retry);
  await store.appendObservationLog(
    [{ trialName: tb[0]!.name, metricName: 'loss', value: '0.25', time: time(1) }, { trialName: 'katib-only-trial', metricName: 'loss', value: 'unavailable', time: time(2) }],
    [{ trialId: tb[0]!.id, observation: obs('loss', 0.25, 999, 1) }],
  );
  made += 1;

  const c = await store.createStudy(spec('gamma'), '/base/c', 3, 'kubernetes');
  await store.transitionStudy(c.id, 'start');
  const tc = await store.addTrials(c.id, Array.from({ length: 10 }, (_, i) => ({ lr: i })));
  for (const tr of tc) {
    await store.transitionTrial(tr.id, 'start', { runtimeRef: `tfjob/default/${tr.name}` });
    if (tr === tc[0]) await store.transitionTrial(tr.id, 'requeue'); // queued again, observed while CREATED
    await observe(tr.id, tr.seq === 10 ? 99 : 100);
  }
  await store.transitionTrial(tc[1]!.id, 'kill', { reason: 'StoppedByUser' });
  await store.transitionStudy(c.id, 'stop', 'StoppedByUser');
  assert.equal(made, 6000 + 3000 + 1 + 999, 'observations written');
}

/** Everything the Store interface reads, for one store. */
async function snapshot(store: Store) {
  const studies = await store.listStudies();
  return Promise.all(studies.map(async (s) => {
    const trials = await store.listTrials(s.id);
    return {
      study: s,
      trials,
      views: await store.trialViews(s.id),
      counts: await store.trialCounts(s.id),
      active: await store.activeTrials(s.id),
      best: [await store.bestTrial(s.id, 'minimize'), await store.bestTrial(s.id, 'maximize')],
      stopping: await store.earlyStoppingSummary(s.id, 'loss'),
      curves: await store.curveRows(s.id, 'loss'),
      page: await store.listTrialsPage(s.id, 3, 4, 'SUCCEEDED'),
      perTrial: await Promise.all(trials.map(async (t) => ({
        observations: await store.observations(t.id),
        summaries: await store.metricSummaries(t.id),
        maxStep: [await store.maxStep(t.id, 'loss'), await store.maxStep(t.id, 'accuracy')],
        strategies: [await store.strategyValue(t.id, 'loss', 'min'), await store.strategyValue(t.id, 'accuracy', 'max'), await store.strategyValue(t.id, 'loss', 'latest')],
        log: await store.observationLog(t.name, undefined, -8.64e15, 8.64e15, 1e6),
        ofClient: await store.trialsOfRuntimeRef(s.id, 'client:one'),
      }))),
    };
  }));
}

test('migrate-store: 3 studies and 10,000 observations move to PostgreSQL and read back equal through the Store interface; ids go on after the copied ones', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-migrate-'));
  dirs.push(dir);
  const source = SqliteStore.open(dir);
  await fillSource(source);
  const want = await snapshot(source);
  const wantLog = await source.observationLog('katib-only-trial', undefined, -8.64e15, 8.64e15, 1e6);
  await source.close();
  assert.equal(want.length, 3);
  assert.equal(want.flatMap((s) => s.perTrial).reduce((n, t) => n + t.observations.length, 0), 10_000);

  const url = await server.createDatabase('moved');
  const run = await cli(['migrate-store', '--from', dir, '--to', url]);
  assert.equal(run.code, 0, run.err);
  assert.match(run.out, /every row read back equal/);
  assert.match(run.out, /studies\s+3\n/);
  assert.match(run.out, /observations\s+10000\n/);
  assert.match(run.out, /observation_logs\s+2\n/);

  const target = await PostgresStore.open(url);
  try {
    assert.deepEqual(await snapshot(target), want);
    assert.deepEqual(await target.observationLog('katib-only-trial', undefined, -8.64e15, 8.64e15, 1e6), wantLog);
    // The identities continue past the copied ids.
    const maxTrialId = Math.max(...want.flatMap((s) => s.trials.map((t) => t.id)));
    const d = await target.createStudy(spec('delta'), '/d', 1);
    assert.equal(d.id, 4);
    const [tr] = await target.addTrials(d.id, [{ lr: 1 }]);
    assert.equal(tr!.id, maxTrialId + 1);
    await target.deleteStudy(d.id);
  } finally {
    await target.close();
  }

  // Into a database that has studies: refused, and nothing changes.
  const again = await cli(['migrate-store', '--from', dir, '--to', url]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already has 3 studies; migrate-store copies into an empty store only; nothing was copied/);
  const check = await PostgresStore.open(url);
  try {
    assert.deepEqual((await check.listStudies()).map((s) => s.name), ['alpha', 'beta', 'gamma']);
  } finally {
    await check.close();
  }
});

test('migrate-store: bad arguments are usage errors (exit 2) naming the flag; a directory without a store is refused', async () => {
  const none = await cli(['migrate-store', '--from', '/tmp']);
  assert.equal(none.code, 2);
  assert.match(none.err, /usage: sibyl migrate-store --from <data dir> --to postgres:/);
  const notPg = await cli(['migrate-store', '--from', '/tmp', '--to', 'mysql://x:secret@h/db']);
  assert.equal(notPg.code, 2);
  assert.match(notPg.err, /--to must be a postgres:\/\/ or postgresql:\/\/ URL \(got "mysql:\/\/x:\*\*\*@h\/db"\)/);
  const empty = mkdtempSync(join(tmpdir(), 'sibyl-migrate-empty-'));
  dirs.push(empty);
  const url = await server.createDatabase('untouched');
  const missing = await cli(['migrate-store', '--from', empty, '--to', url]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no Sibyl store there \(no sibyl\.db\)/);
});

test('migrate-store: a source whose aggregates disagree with its observations is refused, and the target stays empty', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-migrate-drift-'));
  dirs.push(dir);
  const source = SqliteStore.open(dir);
  const s = await source.createStudy(spec('drift'), '/d', 1);
  const [tr] = await source.addTrials(s.id, [{ lr: 1 }]);
  await source.addObservations([{ trialId: tr!.id, observations: [{ metric: 'loss', value: 1, step: 1, time: '2026-11-28T00:00:00.000Z' }] }]);
  await source.close();
  const raw = new Database(join(dir, 'sibyl.db'));
  raw.prepare('UPDATE trial_metrics SET max_value = 2').run();
  raw.close();
  const url = await server.createDatabase('drift');
  const run = await cli(['migrate-store', '--from', dir, '--to', url]);
  assert.equal(run.code, 1, run.out);
  assert.match(run.err, /per-trial metric aggregates disagree with a recount of the observations for trial 1 loss; nothing was copied/);
  const target = await PostgresStore.open(url);
  try {
    assert.deepEqual(await target.listStudies(), []);
  } finally {
    await target.close();
  }
});
