// The store against a real SQLite file: migrations, write-ahead trials, guarded state changes,
// observations and the scheduler's reads; and the data-directory lock across processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

import type { StudySpec } from '../src/spec/types.js';
import { loadMigrations, migrate } from '../src/store/migrate.js';
import { DataDirBusyError, lockDataDir } from '../src/store/lock.js';
import { StateConflictError, trialName, type ObservationInput, type Store } from '../src/store/store.js';
import { inspect } from './support/sqlite.js';
import { IllegalTransitionError } from '../src/model/transitions.js';
import { SqliteStore } from '../src/store/sqlite.js';

// ---- helpers ----

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-store-test-'));
  dirs.push(dir);
  return dir;
}
process.on('exit', () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function spec(name: string, type: 'minimize' | 'maximize' = 'minimize'): StudySpec {
  return {
    name,
    namespace: 'default',
    parameters: [{ name: 'lr', parameterType: 'double', min: 0.001, max: 0.1, distribution: 'uniform' }],
    objective: {
      type,
      objectiveMetricName: 'loss',
      additionalMetricNames: ['accuracy'],
      metricStrategies: [
        { name: 'loss', value: 'min' },
        { name: 'accuracy', value: 'max' },
      ],
    },
    algorithm: { algorithmName: 'random', algorithmSettings: [] },
    parallelTrialCount: 2,
    maxTrialCount: 10,
    trialTemplate: { trialParameters: [{ name: 'lr', reference: 'lr' }], retain: false, command: ['true'] },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

/** A fresh store in a fresh directory, closed after the test. */
function withStore(t: { after(fn: () => void): void }): { store: SqliteStore; dir: string } {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  t.after(() => {
    store.close();
  });
  return { store, dir };
}

const obs = (metric: string, value: number, step = 1): ObservationInput => ({ metric, value, step, time: '2026-11-28T00:00:00.000Z' });
const rowCount = (store: SqliteStore, table: string): number =>
  (inspect(store).prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

// ---- migrations ----

test('migrations: a new store records every migration, in WAL mode', (t) => {
  const { store } = withStore(t);
  const known = loadMigrations();
  assert.ok(known.length >= 1);
  const rows = inspect(store).prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[];
  assert.deepEqual(
    rows.map((r) => [r.version, r.name]),
    known.map((m) => [m.version, m.name]),
  );
  assert.equal(inspect(store).pragma('journal_mode', { simple: true }), 'wal');
  assert.equal(inspect(store).pragma('foreign_keys', { simple: true }), 1);
});

test('migrations: reopening applies nothing again', () => {
  const dir = tempDir();
  const first = SqliteStore.open(dir);
  const before = inspect(first).prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
  first.close();
  const second = SqliteStore.open(dir);
  try {
    const after = inspect(second).prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    assert.deepEqual(after, before);
    assert.equal(inspect(second).pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    second.close();
  }
});

test('migrations: a database from a newer Sibyl is refused', () => {
  const dir = tempDir();
  SqliteStore.open(dir).close();
  const raw = new Database(join(dir, 'sibyl.db'));
  raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(9999, '9999_future.sql', new Date().toISOString());
  raw.close();
  assert.throws(() => SqliteStore.open(dir), /schema version 9999, newer than this Sibyl knows \(\d+\); upgrade Sibyl/);
});

test('migrations: only the migrations not yet recorded are applied, each with its record', (t) => {
  const { store } = withStore(t);
  const known = loadMigrations();
  const next = Math.max(...known.map((m) => m.version)) + 1;
  const extra = { version: next, name: `${String(next).padStart(4, '0')}_extra.sql`, sql: 'CREATE TABLE extra (x INTEGER);' };
  assert.deepEqual(migrate(inspect(store), [...known, extra]), [extra.name]);
  assert.deepEqual(migrate(inspect(store), [...known, extra]), []);
  assert.equal((inspect(store).prepare('SELECT name FROM schema_migrations WHERE version = ?').get(next) as { name: string }).name, extra.name);
  // A failing migration leaves neither its changes nor its record.
  const broken = { version: next + 1, name: 'broken.sql', sql: 'CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;' };
  assert.throws(() => migrate(inspect(store), [...known, extra, broken]), /no such table/);
  assert.equal(inspect(store).prepare(`SELECT name FROM sqlite_master WHERE name = 'half'`).get(), undefined);
  assert.equal(inspect(store).prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(next + 1), undefined);
});

// ---- studies ----

test('studies: create, get, get by name, list', (t) => {
  const { store } = withStore(t);
  const a = store.createStudy(spec('alpha'), '/base/a', 42);
  const b = store.createStudy(spec('beta', 'maximize'), '/base/b', 7);
  assert.equal(a.name, 'alpha');
  assert.equal(a.state, 'CREATED');
  assert.equal(a.seed, 42);
  assert.equal(a.baseDir, '/base/a');
  assert.deepEqual(a.spec, spec('alpha'));
  assert.equal(a.specJson, JSON.stringify(spec('alpha')));
  assert.equal(a.algorithmState, undefined);
  assert.equal(a.startedAt, undefined);
  assert.deepEqual(store.getStudy(a.id), a);
  assert.deepEqual(store.getStudyByName('beta'), b);
  assert.equal(store.getStudy(9999), undefined);
  assert.equal(store.getStudyByName('nope'), undefined);
  assert.deepEqual(store.listStudies().map((s) => s.name), ['alpha', 'beta']);
});

test('studies: a duplicate name is rejected and leaves no row', (t) => {
  const { store } = withStore(t);
  store.createStudy(spec('alpha'), '/a', 1);
  assert.throws(() => store.createStudy(spec('alpha'), '/other', 2), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'SQLITE_CONSTRAINT_UNIQUE');
    return true;
  });
  assert.equal(rowCount(store, 'studies'), 1);
  assert.equal(store.getStudyByName('alpha')?.baseDir, '/a');
});

test('studies: transitionStudy moves only from the allowed states and stamps times', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  assert.throws(() => store.transitionStudy(s.id, 'succeed', 'GoalReached'), StateConflictError);
  assert.deepEqual(store.getStudy(s.id), s, 'a refused transition changes nothing');

  store.transitionStudy(s.id, 'start');
  const running = store.getStudy(s.id)!;
  assert.equal(running.state, 'RUNNING');
  assert.ok(running.startedAt);
  assert.equal(running.completedAt, undefined);

  store.transitionStudy(s.id, 'succeed', 'MaxTrialsReached', '10 trials completed');
  const done = store.getStudy(s.id)!;
  assert.equal(done.state, 'SUCCEEDED');
  assert.equal(done.reason, 'MaxTrialsReached');
  assert.equal(done.message, '10 trials completed');
  assert.ok(done.completedAt);

  assert.throws(() => store.transitionStudy(s.id, 'stop', 'StoppedByUser'), StateConflictError);
  assert.deepEqual(store.getStudy(s.id), done);
  assert.throws(() => store.transitionStudy(9999, 'start'), StateConflictError);
});

test('transitions: one table names the reasons each may carry; reopen only follows MaxTrialsReached', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  store.transitionStudy(s.id, 'start');
  assert.throws(() => store.transitionStudy(s.id, 'succeed', 'NoSuchReason'), IllegalTransitionError);
  assert.throws(() => store.transitionStudy(s.id, 'succeed'), IllegalTransitionError, 'an end needs its reason');
  assert.equal(store.getStudy(s.id)?.state, 'RUNNING', 'an illegal transition changes nothing');
  store.transitionStudy(s.id, 'succeed', 'GoalReached', 'goal');
  assert.throws(() => store.transitionStudy(s.id, 'reopen'), StateConflictError, 'a study that reached its goal stays ended');
  const b = store.createStudy(spec('beta'), '/b', 1);
  store.transitionStudy(b.id, 'start');
  store.transitionStudy(b.id, 'succeed', 'MaxTrialsReached', '10 trials');
  store.updateBudget(b.id, { ...spec('beta'), maxTrialCount: 20 }, true);
  const reopened = store.getStudy(b.id)!;
  assert.deepEqual([reopened.state, reopened.reason, reopened.completedAt, reopened.spec.maxTrialCount], ['RUNNING', undefined, undefined, 20]);

  const [tr] = store.addTrials(b.id, [{ lr: 0.1 }]);
  assert.throws(() => store.transitionTrial(tr!.id, 'succeed', { reason: 'Whatever' }), IllegalTransitionError);
  assert.throws(() => store.transitionTrial(tr!.id, 'fail', { reason: 'not camel case' }), IllegalTransitionError);
  assert.throws(() => store.transitionTrial(tr!.id, 'start', { reason: 'NoReasonAllowed' }), IllegalTransitionError);
  assert.equal(store.getTrial(tr!.id)?.state, 'CREATED');
  store.transitionTrial(tr!.id, 'fail', { reason: 'TFJobFailed', message: 'the operator says so' });
  assert.equal(store.getTrial(tr!.id)?.reason, 'TFJobFailed');
  // An ended study takes no new trials (the algorithm may answer after a stop).
  store.transitionStudy(b.id, 'stop', 'StoppedByUser');
  assert.deepEqual(store.addTrials(b.id, [{ lr: 0.2 }]), []);
  assert.deepEqual(store.addClientTrials(b.id, [{ lr: 0.2 }], 'client:x'), []);
});

// ---- trials: write-ahead ----

test('addTrials: CREATED rows with sequential seq and names, algorithm state in the same transaction', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const first = store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02, opt: 'sgd' }], { cursor: '2' });
  assert.deepEqual(first.map((tr) => [tr.seq, tr.name, tr.state, tr.attempts]), [
    [1, 'alpha-0001', 'CREATED', 0],
    [2, 'alpha-0002', 'CREATED', 0],
  ]);
  assert.deepEqual(first[1]?.assignment, { lr: 0.02, opt: 'sgd' });
  assert.equal(first[0]?.studyId, s.id);
  assert.equal(first[0]?.objectiveValue, undefined);
  assert.equal(first[0]?.runtimeRef, undefined);
  assert.deepEqual(store.getStudy(s.id)?.algorithmState, { cursor: '2' });

  // Continues the sequence; without a state the stored state stays.
  const second = store.addTrials(s.id, [{ lr: 0.03 }]);
  assert.deepEqual(second.map((tr) => [tr.seq, tr.name]), [[3, 'alpha-0003']]);
  assert.deepEqual(store.getStudy(s.id)?.algorithmState, { cursor: '2' });

  assert.deepEqual(store.listTrials(s.id).map((tr) => tr.name), ['alpha-0001', 'alpha-0002', 'alpha-0003']);
  assert.deepEqual(store.getTrialByName('alpha-0002'), first[1]);
  assert.deepEqual(store.getTrial(first[0]!.id), first[0]);
  assert.equal(trialName('s', 12345), 's-12345');

  // Sequences are per study.
  const b = store.createStudy(spec('beta'), '/b', 1);
  assert.deepEqual(store.addTrials(b.id, [{ lr: 1 }]).map((tr) => [tr.seq, tr.name]), [[1, 'beta-0001']]);
  assert.deepEqual(store.addTrials(s.id, []), []);
});

test('addTrials: a failing insert (name collision) leaves nothing of the batch and no state change', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  store.addTrials(s.id, [{ lr: 0.01 }], { cursor: '1' });
  // Another study holds the name the second trial of the next batch will get.
  const other = store.createStudy(spec('other'), '/o', 1);
  inspect(store)
    .prepare(`INSERT INTO trials (study_id, seq, name, assignment_json, state, created_at) VALUES (?, 1, 'alpha-0003', '{}', 'CREATED', 'x')`)
    .run(other.id);
  const before = { trials: rowCount(store, 'trials'), study: store.getStudy(s.id) };

  assert.throws(() => store.addTrials(s.id, [{ lr: 0.02 }, { lr: 0.03 }], { cursor: '3' }), /UNIQUE constraint failed: trials.name/);
  assert.equal(rowCount(store, 'trials'), before.trials);
  assert.equal(store.getTrialByName('alpha-0002'), undefined);
  assert.deepEqual(store.getStudy(s.id), before.study);
  assert.deepEqual(store.getStudy(s.id)?.algorithmState, { cursor: '1' });
});

test('addTrials: an assignment that cannot be serialized (BigInt) leaves nothing of the batch', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  store.addTrials(s.id, [{ lr: 0.01 }], { cursor: '1' });
  const bad = { lr: 10n } as unknown as { lr: number };
  assert.throws(() => store.addTrials(s.id, [{ lr: 0.02 }, bad], { cursor: '3' }), TypeError);
  assert.deepEqual(store.listTrials(s.id).map((tr) => tr.name), ['alpha-0001']);
  assert.deepEqual(store.getStudy(s.id)?.algorithmState, { cursor: '1' });
  // The next batch numbers on from the last committed one.
  assert.deepEqual(store.addTrials(s.id, [{ lr: 0.02 }]).map((tr) => tr.seq), [2]);
});

// ---- trials: state changes ----

test('start: CREATED or RUNNING → RUNNING, counts attempts, keeps the first start time', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [tr] = store.addTrials(s.id, [{ lr: 0.01 }]);
  store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:100' });
  const r1 = store.getTrial(tr!.id)!;
  assert.equal(r1.state, 'RUNNING');
  assert.equal(r1.runtimeRef, 'pgid:100');
  assert.equal(r1.attempts, 1);
  assert.ok(r1.startedAt);
  store.transitionTrial(tr!.id, 'start');
  const r2 = store.getTrial(tr!.id)!;
  assert.equal(r2.attempts, 2);
  assert.equal(r2.runtimeRef, undefined);
  assert.equal(r2.startedAt, r1.startedAt);
});

test('trial transitions: end an active trial once; later changes are conflicts that change nothing', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [tr] = store.addTrials(s.id, [{ lr: 0.01 }]);
  store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:1' });
  store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.5)] }]);
  store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', message: 'exit 0', objectiveValue: 0.5 });
  const done = store.getTrial(tr!.id)!;
  assert.equal(done.state, 'SUCCEEDED');
  assert.equal(done.reason, 'TrialSucceeded');
  assert.equal(done.message, 'exit 0');
  assert.equal(done.objectiveValue, 0.5);
  assert.ok(done.completedAt);

  assert.throws(() => store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:2' }), StateConflictError);
  assert.throws(() => store.transitionTrial(tr!.id, 'fail', { reason: 'Failed' }), StateConflictError);
  assert.throws(() => store.transitionTrial(tr!.id, 'requeue'), StateConflictError);
  assert.deepEqual(store.getTrial(tr!.id), done);
  assert.deepEqual(store.observations(tr!.id), [obs('loss', 0.5)], 'a refused relaunch keeps the observations');

  assert.throws(() => store.transitionTrial(9999, 'start'), StateConflictError);
  assert.throws(() => store.transitionTrial(9999, 'kill', { reason: 'StoppedByUser' }), StateConflictError);
  assert.throws(() => store.transitionTrial(9999, 'requeue'), StateConflictError);
});

test('trial transitions: a CREATED trial can end without running; no objective stays undefined', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [tr] = store.addTrials(s.id, [{ lr: 0.01 }]);
  store.transitionTrial(tr!.id, 'missMetrics', { reason: 'MetricsUnavailable' });
  const done = store.getTrial(tr!.id)!;
  assert.equal(done.state, 'METRICS_UNAVAILABLE');
  assert.equal(done.objectiveValue, undefined);
  assert.equal(done.message, undefined);
});

test('requeue: deletes the trial’s observations only and sets CREATED', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [a, b] = store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
  store.transitionTrial(a!.id, 'start', { runtimeRef: 'pgid:1' });
  store.transitionTrial(b!.id, 'start', { runtimeRef: 'pgid:2' });
  store.addObservations([{ trialId: a!.id, observations: [obs('loss', 1), obs('loss', 0.8, 2)] }]);
  store.addObservations([{ trialId: b!.id, observations: [obs('loss', 2)] }]);
  store.transitionTrial(a!.id, 'requeue');
  const reset = store.getTrial(a!.id)!;
  assert.equal(reset.state, 'CREATED');
  assert.equal(reset.runtimeRef, undefined);
  assert.equal(reset.attempts, 1, 'attempts are kept across relaunches');
  assert.deepEqual(store.observations(a!.id), []);
  assert.deepEqual(store.observations(b!.id), [obs('loss', 2)]);
  // And it can run again.
  store.transitionTrial(a!.id, 'start', { runtimeRef: 'pgid:3' });
  assert.equal(store.getTrial(a!.id)?.attempts, 2);
});

// ---- observations ----

test('observations: non-finite values are rejected and a batch is all or nothing', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [tr] = store.addTrials(s.id, [{ lr: 0.01 }]);
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
    assert.throws(() => store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.5), obs('loss', bad, 2)] }]), /constraint failed/i, String(bad));
    assert.equal(rowCount(store, 'observations'), 0, `[ok, ${bad}] stores nothing`);
  }
  // The extremes of the finite range are accepted.
  store.addObservations([{ trialId: tr!.id, observations: [obs('loss', Number.MAX_VALUE), obs('loss', -Number.MAX_VALUE, 2), obs('loss', 0, 3)] }]);
  assert.deepEqual(store.metricValues(tr!.id, 'loss'), [Number.MAX_VALUE, -Number.MAX_VALUE, 0]);
  store.addObservations([{ trialId: tr!.id, observations: [] }]);
  assert.equal(rowCount(store, 'observations'), 3);
  // An observation of an unknown or ended trial is refused.
  assert.throws(() => store.addObservations([{ trialId: 9999, observations: [obs('loss', 1)] }]), StateConflictError);
  store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 0 });
  assert.throws(() => store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 1, 4)] }]), StateConflictError);
  assert.equal(rowCount(store, 'observations'), 3, 'an ended trial keeps its metrics');
});

test('observations: strategyValue min/max/latest and metricSummaries', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [tr, other] = store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
  store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.9, 1), obs('accuracy', 0.5, 1)] }]);
  store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.2, 2), obs('accuracy', 0.8, 2)] }]);
  store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.4, 3), obs('accuracy', 0.7, 3)] }]);
  store.addObservations([{ trialId: other!.id, observations: [obs('loss', -5), obs('accuracy', 99)] }]);

  assert.equal(store.strategyValue(tr!.id, 'loss', 'min'), 0.2);
  assert.equal(store.strategyValue(tr!.id, 'loss', 'max'), 0.9);
  assert.equal(store.strategyValue(tr!.id, 'loss', 'latest'), 0.4);
  assert.equal(store.strategyValue(tr!.id, 'accuracy', 'max'), 0.8);
  assert.equal(store.strategyValue(tr!.id, 'accuracy', 'latest'), 0.7);
  for (const strategy of ['min', 'max', 'latest'] as const) {
    assert.equal(store.strategyValue(tr!.id, 'f1', strategy), undefined, `unobserved metric, ${strategy}`);
  }
  // latest follows arrival order, not the step.
  store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.3, 1)] }]);
  assert.equal(store.strategyValue(tr!.id, 'loss', 'latest'), 0.3);

  assert.deepEqual(store.metricSummaries(tr!.id), [
    { name: 'accuracy', min: 0.5, max: 0.8, latest: 0.7, count: 3 },
    { name: 'loss', min: 0.2, max: 0.9, latest: 0.3, count: 4 },
  ]);
  assert.deepEqual(store.metricSummaries(9999), []);
  assert.deepEqual(store.metricValues(tr!.id, 'loss'), [0.9, 0.2, 0.4, 0.3]);
});

const RECOUNT = `SELECT metric_name AS name, min(value) AS min, max(value) AS max, count(*) AS count,
  (SELECT o2.value FROM observations o2 WHERE o2.trial_id = o.trial_id AND o2.metric_name = o.metric_name ORDER BY o2.id DESC LIMIT 1) AS latest
  FROM observations o WHERE trial_id = ? GROUP BY metric_name ORDER BY metric_name`;

test('observations: the per-metric aggregates (trial_metrics) match a recount of the rows', (t) => {
  const { store } = withStore(t);
  const recount = (id: number) => inspect(store).prepare(RECOUNT).all(id);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [a, b] = store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
  store.addObservations([{ trialId: a!.id, observations: [obs('loss', 3, 5), obs('loss', 1, 2), obs('accuracy', 0.1, 1), obs('loss', 2, 7), obs('loss', 2.5, 3)] }]);
  assert.equal(store.maxStep(a!.id, 'loss'), 7, 'the highest step, not the latest');
  assert.equal(store.maxStep(a!.id, 'f1'), 0);
  store.appendObservationLog(
    [{ trialName: a!.name, metricName: 'accuracy', value: '0.9', time: '2026-11-28T00:00:00.000Z' }],
    [{ trialId: a!.id, observation: obs('accuracy', 0.9, 2) }, { trialId: b!.id, observation: obs('loss', 4, 9) }, { trialId: b!.id, observation: obs('loss', -4, 3) }],
  );
  // A refused batch changes no aggregate.
  assert.throws(() => store.addObservations([{ trialId: a!.id, observations: [obs('loss', -100, 100), obs('loss', Number.NaN, 101)] }]), /constraint failed/i);
  assert.equal(store.maxStep(a!.id, 'loss'), 7);
  assert.equal(store.maxStep(b!.id, 'loss'), 9);
  for (const id of [a!.id, b!.id]) assert.deepEqual(store.metricSummaries(id), recount(id));
  assert.equal(store.strategyValue(b!.id, 'loss', 'latest'), -4);

  store.transitionTrial(a!.id, 'requeue');
  assert.deepEqual(store.metricSummaries(a!.id), []);
  assert.equal(store.maxStep(a!.id, 'loss'), 0);
  assert.equal(store.strategyValue(a!.id, 'loss', 'min'), undefined);
  assert.deepEqual(store.metricSummaries(b!.id), recount(b!.id));
  store.deleteStudy(s.id);
  assert.equal(rowCount(store, 'trial_metrics'), 0, 'deleted with their trials');
});

test('migrations: trial_metrics is filled from the observations of an existing store', () => {
  const db = new Database(join(tempDir(), 'old.db'));
  try {
    db.pragma('foreign_keys = ON');
    const all = loadMigrations();
    const version = all.find((m) => m.name.endsWith('_trial_metrics.sql'))!.version;
    migrate(db, all.filter((m) => m.version < version));
    const at = '2026-11-28T00:00:00.000Z';
    db.prepare(`INSERT INTO studies (id, name, spec_json, base_dir, state, seed, created_at) VALUES (1, 'old', '{}', '/', 'RUNNING', 1, ?)`).run(at);
    const trial = db.prepare(`INSERT INTO trials (id, study_id, seq, name, assignment_json, state, created_at) VALUES (?, 1, ?, ?, '{}', 'RUNNING', ?)`);
    trial.run(1, 1, 'old-0001', at);
    trial.run(2, 2, 'old-0002', at);
    const o = db.prepare('INSERT INTO observations (trial_id, metric_name, step, value, time) VALUES (?, ?, ?, ?, ?)');
    for (const [id, metric, step, value] of [[1, 'loss', 4, 0.5], [1, 'loss', 2, 0.1], [1, 'accuracy', 1, 0.7], [2, 'loss', 1, 9], [1, 'loss', 3, 0.3]] as const) o.run(id, metric, step, value, at);
    migrate(db);
    for (const id of [1, 2]) {
      const rows = db.prepare(`SELECT metric_name AS name, min_value AS min, max_value AS max, n AS count, latest_value AS latest
        FROM trial_metrics WHERE trial_id = ? ORDER BY metric_name`).all(id);
      assert.deepEqual(rows, db.prepare(RECOUNT).all(id));
    }
    assert.equal((db.prepare(`SELECT max_step AS s FROM trial_metrics WHERE trial_id = 1 AND metric_name = 'loss'`).get() as { s: number }).s, 4);
  } finally {
    db.close();
  }
});

// ---- the scheduler's reads ----

test('trialCounts and activeTrials', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const empty = store.trialCounts(s.id);
  assert.deepEqual(empty, { CREATED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 });
  const trs = store.addTrials(s.id, Array.from({ length: 6 }, (_, i) => ({ lr: i })));
  store.transitionTrial(trs[1]!.id, 'start');
  store.transitionTrial(trs[2]!.id, 'start');
  store.transitionTrial(trs[2]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 1 });
  store.transitionTrial(trs[3]!.id, 'fail', { reason: 'Failed' });
  store.transitionTrial(trs[4]!.id, 'kill', { reason: 'StoppedByUser' });
  // Another study's trials do not count.
  const b = store.createStudy(spec('beta'), '/b', 1);
  store.addTrials(b.id, [{ lr: 1 }]);
  assert.deepEqual(store.trialCounts(s.id), { CREATED: 2, RUNNING: 1, SUCCEEDED: 1, FAILED: 1, KILLED: 1, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 });
  assert.deepEqual(store.activeTrials(s.id).map((tr) => tr.seq), [1, 2, 6]);
});

test('trialCounts: the trigger-kept counts always equal a recount of the trials', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const recount = () => {
    const counts = { CREATED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 };
    for (const r of inspect(store).prepare('SELECT state, count(*) AS n FROM trials WHERE study_id = ? GROUP BY state').all(s.id) as { state: keyof typeof counts; n: number }[]) counts[r.state] = r.n;
    return counts;
  };
  const trs = store.addTrials(s.id, Array.from({ length: 5 }, (_, i) => ({ lr: i })));
  store.transitionTrial(trs[0]!.id, 'start');
  store.transitionTrial(trs[0]!.id, 'start'); // RUNNING → RUNNING changes no count
  store.transitionTrial(trs[1]!.id, 'start');
  store.transitionTrial(trs[1]!.id, 'requeue');
  store.transitionTrial(trs[2]!.id, 'missMetrics', { reason: 'MetricsUnavailable' });
  assert.throws(() => store.addTrials(s.id, [{ lr: 9 }, { lr: 10n as unknown as number }]));
  assert.deepEqual(store.trialCounts(s.id), recount());
  assert.deepEqual(store.trialCounts(s.id), { CREATED: 3, RUNNING: 1, SUCCEEDED: 0, FAILED: 0, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 1 });
  inspect(store).prepare('DELETE FROM trials WHERE id = ?').run(trs[4]!.id);
  assert.deepEqual(store.trialCounts(s.id), recount());
});

test('bestTrial: minimize and maximize, ties go to the lower seq, only SUCCEEDED or EARLY_STOPPED with a value', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  assert.equal(store.bestTrial(s.id, 'minimize'), undefined);
  const trs = store.addTrials(s.id, Array.from({ length: 7 }, (_, i) => ({ lr: i })));
  const transitions = { SUCCEEDED: ['succeed', 'TrialSucceeded'], FAILED: ['fail', 'NonZeroExit'], EARLY_STOPPED: ['earlyStop', 'EarlyStopped'] } as const;
  const end = (i: number, value: number | undefined, state: keyof typeof transitions = 'SUCCEEDED') =>
    store.transitionTrial(trs[i]!.id, transitions[state][0], { reason: transitions[state][1], ...(value === undefined ? {} : { objectiveValue: value }) });
  end(0, 3);
  end(1, 1); // seq 2: tied lowest
  end(2, 1); // seq 3: tied lowest, later
  end(3, 7); // seq 4: tied highest
  end(4, 7); // seq 5: tied highest, later
  end(5, 6, 'FAILED'); // failed: never best
  end(6, undefined); // no value: never best
  assert.equal(store.bestTrial(s.id, 'minimize')?.seq, 2);
  assert.equal(store.bestTrial(s.id, 'maximize')?.seq, 4);
  assert.equal(store.bestTrial(s.id, 'maximize')?.objectiveValue, 7);
  // An early-stopped trial completed with the value it reached (Katib counts it).
  const [late] = store.addTrials(s.id, [{ lr: 9 }]);
  store.transitionTrial(late!.id, 'earlyStop', { reason: 'EarlyStopped', objectiveValue: 100 });
  assert.equal(store.bestTrial(s.id, 'maximize')?.seq, 8);
  // Negative values and another study's better trials.
  const b = store.createStudy(spec('beta'), '/b', 1);
  const [bt] = store.addTrials(b.id, [{ lr: 0 }]);
  store.transitionTrial(bt!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: -1000 });
  assert.equal(store.bestTrial(s.id, 'minimize')?.seq, 2);
  assert.equal(store.bestTrial(b.id, 'minimize')?.objectiveValue, -1000);
  assert.equal(store.bestTrial(b.id, 'maximize')?.objectiveValue, -1000);
});

test('completeTrial: a non-finite objective value is refused and the trial stays active', (t) => {
  const { store } = withStore(t);
  const s = store.createStudy(spec('alpha'), '/a', 1);
  const [tr] = store.addTrials(s.id, [{ lr: 0.01 }]);
  assert.throws(() => store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: Number.POSITIVE_INFINITY }), /CHECK constraint failed/);
  assert.equal(store.getTrial(tr!.id)?.state, 'CREATED');
});

test('the scheduler\'s per-pass reads use an index, not a walk over the whole history', (t) => {
  const { store } = withStore(t);
  const stmts = (store as unknown as { stmt: Record<string, Database.Statement> }).stmt;
  const plan = (name: string) =>
    (inspect(store).prepare(`EXPLAIN QUERY PLAN ${stmts[name]!.source}`).all(1) as { detail: string }[]).map((r) => r.detail).join(' | ');
  assert.match(plan('activeTrials'), /USING INDEX trials_active/);
  assert.match(plan('bestMin'), /USING INDEX trials_best/);
  assert.match(plan('bestMax'), /USING INDEX trials_best/);
  for (const name of ['activeTrials', 'bestMin', 'bestMax']) assert.doesNotMatch(plan(name), /TEMP B-TREE FOR ORDER BY/, name);
});

// ---- the data-directory lock ----

const LOCK_MODULE = new URL('../src/store/lock.js', import.meta.url).href;

test('lock: a live process holding the lock makes lockDataDir throw; its lock is taken over once it is killed', async (t) => {
  const dir = tempDir();
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
       lockDataDir(process.argv[1]);
       process.stdout.write('locked\\n');
       setInterval(() => {}, 60_000);`,
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`the lock holder exited early (${code ?? signal})`)));
  });

  assert.throws(() => lockDataDir(dir), (err: Error) => {
    assert.ok(err instanceof DataDirBusyError);
    assert.match(err.message, new RegExp(`in use by process ${child.pid}`));
    return true;
  });

  child.kill('SIGKILL');
  await exited; // reaped: no longer a zombie that still answers kill(pid, 0)
  const lock = lockDataDir(dir);
  lock.release();
  // Released: the next lock is immediate.
  lockDataDir(dir).release();
});

test('#4 (hardening) lock: after a SIGKILL, contenders racing for the lock never hold it two at a time (30 rounds of 4)', { timeout: 180_000 }, async () => {
  // Each contender waits for the same moment and tries once; one that gets the lock holds it for
  // a second and reports when it held it. Two holders whose times overlap would be two owners.
  const contender = `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)};
    const [dir, at] = process.argv.slice(1);
    setTimeout(() => {
      let lock;
      try { lock = lockDataDir(dir); } catch (e) { process.stdout.write(e.name === 'DataDirBusyError' ? 'busy' : 'error ' + e.message); return; }
      const from = Date.now();
      setTimeout(() => { process.stdout.write('got ' + from + ' ' + Date.now()); lock.release(); }, 1000);
    }, Number(at) - Date.now());`;
  const run = (dir: string, at: number) => new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', contender, dir, String(at)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', () => resolve(out));
  });
  let contended = 0;
  for (let round = 0; round < 30; round++) {
    const dir = tempDir();
    // A holder killed with SIGKILL leaves what a crash leaves behind.
    const holder = spawn(process.execPath, ['--input-type=module', '-e', `import { lockDataDir } from ${JSON.stringify(LOCK_MODULE)}; lockDataDir(process.argv[1]); process.stdout.write('locked'); setInterval(() => {}, 1000);`, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    const gone = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    holder.kill('SIGKILL');
    await gone;
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => run(dir, Date.now() + 700)));
    assert.ok(outcomes.every((o) => o === 'busy' || o.startsWith('got ')), `round ${round}: ${outcomes.join(', ')}`);
    const held = outcomes.filter((o) => o.startsWith('got ')).map((o) => o.split(' ').slice(1).map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
    assert.ok(held.length >= 1, `round ${round}: nobody took the lock a killed process left`);
    for (let i = 1; i < held.length; i++) assert.ok(held[i]![0] >= held[i - 1]![1], `round ${round}: two holders at once: ${JSON.stringify(held)}`);
    if (outcomes.includes('busy')) contended += 1;
  }
  assert.ok(contended >= 20, `only ${contended} of 30 rounds had a contender refused: the race was not exercised`);
});

test('lock: the text lock file of an older Sibyl, left by a dead process, is replaced', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'sibyl.lock'), '999999999\n');
  const lock = lockDataDir(dir);
  assert.throws(() => lockDataDir(dir), DataDirBusyError);
  lock.release();
  lockDataDir(dir).release();
});
