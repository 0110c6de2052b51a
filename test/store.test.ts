// The store contract: one suite, run unchanged against both backends (SQLite in a temporary
// directory; PostgreSQL on a fresh database of a real server started for this file): studies,
// write-ahead trials, guarded state changes, observations and the scheduler's reads. What only
// one backend has lives in store-sqlite.test.ts and store-postgres.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { ConstraintError, StateConflictError, trialName, type ObservationInput } from '../src/store/store.js';
import { IllegalTransitionError } from '../src/model/transitions.js';
import type { Feasibility } from '../src/model/constraints.js';
import { postgresBackend, sqliteBackend, type StoreBackend } from './support/store-backends.js';
import { spec } from './support/store-spec.js';

const obs = (metric: string, value: number, step = 1): ObservationInput => ({ metric, value, step, time: '2026-11-28T00:00:00.000Z' });

function contract(open: StoreBackend['open']): void {
  // ---- studies ----

  test('studies: create, get, get by name, list', async (t) => {
    const { store } = await open(t);
    const a = await store.createStudy(spec('alpha'), '/base/a', 42);
    const b = await store.createStudy(spec('beta', 'maximize'), '/base/b', 7);
    assert.equal(a.name, 'alpha');
    assert.equal(a.state, 'CREATED');
    assert.equal(a.seed, 42);
    assert.equal(a.baseDir, '/base/a');
    assert.deepEqual(a.spec, spec('alpha'));
    assert.equal(a.specJson, JSON.stringify(spec('alpha')));
    assert.equal(a.algorithmState, undefined);
    assert.equal(a.startedAt, undefined);
    assert.deepEqual(await store.getStudy(a.id), a);
    assert.deepEqual(await store.getStudyByName('beta'), b);
    assert.equal(await store.getStudy(9999), undefined);
    assert.equal(await store.getStudyByName('nope'), undefined);
    assert.deepEqual((await store.listStudies()).map((s) => s.name), ['alpha', 'beta']);
  });

  test('studies: a duplicate name is rejected and leaves no row', async (t) => {
    const { store, raw } = await open(t);
    await store.createStudy(spec('alpha'), '/a', 1);
    await assert.rejects(() => store.createStudy(spec('alpha'), '/other', 2), (err: Error) => {
      assert.ok(err instanceof ConstraintError && err.kind === 'UNIQUE', String(err));
      assert.match(err.message, /^UNIQUE constraint failed: studies\.name$/);
      return true;
    });
    assert.equal(await raw.count('studies'), 1);
    assert.equal((await store.getStudyByName('alpha'))?.baseDir, '/a');
  });

  test('studies: transitionStudy moves only from the allowed states and stamps times', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    await assert.rejects(() => store.transitionStudy(s.id, 'succeed', 'GoalReached'), StateConflictError);
    assert.deepEqual(await store.getStudy(s.id), s, 'a refused transition changes nothing');

    await store.transitionStudy(s.id, 'start');
    const running = (await store.getStudy(s.id))!;
    assert.equal(running.state, 'RUNNING');
    assert.ok(running.startedAt);
    assert.equal(running.completedAt, undefined);

    await store.transitionStudy(s.id, 'succeed', 'MaxTrialsReached', '10 trials completed');
    const done = (await store.getStudy(s.id))!;
    assert.equal(done.state, 'SUCCEEDED');
    assert.equal(done.reason, 'MaxTrialsReached');
    assert.equal(done.message, '10 trials completed');
    assert.ok(done.completedAt);

    await assert.rejects(() => store.transitionStudy(s.id, 'stop', 'StoppedByUser'), StateConflictError);
    assert.deepEqual(await store.getStudy(s.id), done);
    await assert.rejects(() => store.transitionStudy(9999, 'start'), StateConflictError);
  });

  test('transitions: one table names the reasons each may carry; reopen only follows MaxTrialsReached', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    await store.transitionStudy(s.id, 'start');
    await assert.rejects(() => store.transitionStudy(s.id, 'succeed', 'NoSuchReason'), IllegalTransitionError);
    await assert.rejects(() => store.transitionStudy(s.id, 'succeed'), IllegalTransitionError, 'an end needs its reason');
    assert.equal((await store.getStudy(s.id))?.state, 'RUNNING', 'an illegal transition changes nothing');
    await store.transitionStudy(s.id, 'succeed', 'GoalReached', 'goal');
    await assert.rejects(() => store.transitionStudy(s.id, 'reopen'), StateConflictError, 'a study that reached its goal stays ended');
    const b = await store.createStudy(spec('beta'), '/b', 1);
    await store.transitionStudy(b.id, 'start');
    await store.transitionStudy(b.id, 'succeed', 'MaxTrialsReached', '10 trials');
    await store.updateBudget(b.id, { ...spec('beta'), maxTrialCount: 20 }, true);
    const reopened = (await store.getStudy(b.id))!;
    assert.deepEqual([reopened.state, reopened.reason, reopened.completedAt, reopened.spec.maxTrialCount], ['RUNNING', undefined, undefined, 20]);

    const [tr] = await store.addTrials(b.id, [{ lr: 0.1 }]);
    await assert.rejects(() => store.transitionTrial(tr!.id, 'succeed', { reason: 'Whatever' }), IllegalTransitionError);
    await assert.rejects(() => store.transitionTrial(tr!.id, 'fail', { reason: 'not camel case' }), IllegalTransitionError);
    await assert.rejects(() => store.transitionTrial(tr!.id, 'start', { reason: 'NoReasonAllowed' }), IllegalTransitionError);
    assert.equal((await store.getTrial(tr!.id))?.state, 'CREATED');
    await store.transitionTrial(tr!.id, 'fail', { reason: 'TFJobFailed', message: 'the operator says so' });
    assert.equal((await store.getTrial(tr!.id))?.reason, 'TFJobFailed');
    // An ended study takes no new trials (the algorithm may answer after a stop).
    await store.transitionStudy(b.id, 'stop', 'StoppedByUser');
    assert.deepEqual(await store.addTrials(b.id, [{ lr: 0.2 }]), []);
    assert.deepEqual(await store.addClientTrials(b.id, [{ lr: 0.2 }], 'client:x'), []);
  });

  // ---- trials: write-ahead ----

  test('addTrials: CREATED rows with sequential seq and names, algorithm state in the same transaction', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const first = await store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02, opt: 'sgd' }], { cursor: '2' });
    assert.deepEqual(first.map((tr) => [tr.seq, tr.name, tr.state, tr.attempts]), [
      [1, 'alpha-0001', 'CREATED', 0],
      [2, 'alpha-0002', 'CREATED', 0],
    ]);
    assert.deepEqual(first[1]?.assignment, { lr: 0.02, opt: 'sgd' });
    assert.equal(first[0]?.studyId, s.id);
    assert.equal(first[0]?.objectiveValue, undefined);
    assert.equal(first[0]?.runtimeRef, undefined);
    assert.deepEqual((await store.getStudy(s.id))?.algorithmState, { cursor: '2' });

    // Continues the sequence; without a state the stored state stays.
    const second = await store.addTrials(s.id, [{ lr: 0.03 }]);
    assert.deepEqual(second.map((tr) => [tr.seq, tr.name]), [[3, 'alpha-0003']]);
    assert.deepEqual((await store.getStudy(s.id))?.algorithmState, { cursor: '2' });

    // An algorithm that proposes nothing this time may still move its state on.
    assert.deepEqual(await store.addTrials(s.id, [], { cursor: '3' }), []);
    assert.deepEqual((await store.getStudy(s.id))?.algorithmState, { cursor: '3' });

    assert.deepEqual((await store.listTrials(s.id)).map((tr) => tr.name), ['alpha-0001', 'alpha-0002', 'alpha-0003']);
    assert.deepEqual(await store.getTrialByName('alpha-0002'), first[1]);
    assert.deepEqual(await store.getTrial(first[0]!.id), first[0]);
    assert.equal(trialName('s', 12345), 's-12345');

    // Sequences are per study.
    const b = await store.createStudy(spec('beta'), '/b', 1);
    assert.deepEqual((await store.addTrials(b.id, [{ lr: 1 }])).map((tr) => [tr.seq, tr.name]), [[1, 'beta-0001']]);
    assert.deepEqual(await store.addTrials(s.id, []), []);
  });

  test('addTrials: a failing insert (name collision) leaves nothing of the batch and no state change', async (t) => {
    const { store, raw } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    await store.addTrials(s.id, [{ lr: 0.01 }], { cursor: '1' });
    // Another study holds the name the second trial of the next batch will get.
    const other = await store.createStudy(spec('other'), '/o', 1);
    await raw.run(`INSERT INTO trials (study_id, seq, name, assignment_json, state, created_at) VALUES (?, 1, 'alpha-0003', '{}', 'CREATED', 'x')`, other.id);
    const before = { trials: await raw.count('trials'), study: await store.getStudy(s.id) };

    await assert.rejects(() => store.addTrials(s.id, [{ lr: 0.02 }, { lr: 0.03 }], { cursor: '3' }), /UNIQUE constraint failed: trials.name/);
    assert.equal(await raw.count('trials'), before.trials);
    assert.equal(await store.getTrialByName('alpha-0002'), undefined);
    assert.deepEqual(await store.getStudy(s.id), before.study);
    assert.deepEqual((await store.getStudy(s.id))?.algorithmState, { cursor: '1' });
  });

  test('addTrials: an assignment that cannot be serialized (BigInt) leaves nothing of the batch', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    await store.addTrials(s.id, [{ lr: 0.01 }], { cursor: '1' });
    const bad = { lr: 10n } as unknown as { lr: number };
    await assert.rejects(() => store.addTrials(s.id, [{ lr: 0.02 }, bad], { cursor: '3' }), TypeError);
    assert.deepEqual((await store.listTrials(s.id)).map((tr) => tr.name), ['alpha-0001']);
    assert.deepEqual((await store.getStudy(s.id))?.algorithmState, { cursor: '1' });
    // The next batch numbers on from the last committed one.
    assert.deepEqual((await store.addTrials(s.id, [{ lr: 0.02 }])).map((tr) => tr.seq), [2]);
  });

  // ---- warm starts (migrations/0011) ----

  test('enqueued trials: queued with the study and later; taken oldest first as CREATED or client trials, off the queue in the same transaction', async (t) => {
    const { store, raw } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1, 'external', { enqueued: [{ lr: 0.1 }, { lr: 0.2 }] });
    await store.enqueueTrials(s.id, [{ lr: 0.3 }]);
    assert.deepEqual(await store.enqueuedTrials(s.id), [{ lr: 0.1 }, { lr: 0.2 }, { lr: 0.3 }]);
    const first = await store.takeEnqueued(s.id, 1);
    assert.deepEqual(first.map((tr) => [tr.name, tr.state, tr.assignment]), [['alpha-0001', 'CREATED', { lr: 0.1 }]]);
    const client = await store.takeEnqueued(s.id, 5, 'client:c1');
    assert.deepEqual(client.map((tr) => [tr.seq, tr.state, tr.runtimeRef, tr.assignment]), [[2, 'RUNNING', 'client:c1', { lr: 0.2 }], [3, 'RUNNING', 'client:c1', { lr: 0.3 }]]);
    assert.deepEqual(await store.enqueuedTrials(s.id), []);
    assert.equal(await raw.count('enqueued_trials'), 0);
    assert.deepEqual(await store.takeEnqueued(s.id, 5), [], 'an empty queue gives nothing');
    assert.equal((await store.trialCounts(s.id)).RUNNING, 2, 'the counts follow');
  });

  test('enqueued trials: an ended study takes none and keeps its queue; a deleted one takes its queue along', async (t) => {
    const { store, raw } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1, 'local', { enqueued: [{ lr: 0.1 }] });
    await store.transitionStudy(s.id, 'start');
    await store.transitionStudy(s.id, 'stop', 'StoppedByUser');
    assert.deepEqual(await store.takeEnqueued(s.id, 1), []);
    assert.deepEqual(await store.enqueuedTrials(s.id), [{ lr: 0.1 }]);
    await store.deleteStudy(s.id);
    assert.equal(await raw.count('enqueued_trials'), 0);
  });

  test('enqueued trials: takes at the same time hand each assignment out once', async (t) => {
    const { store } = await open(t);
    const queued = Array.from({ length: 12 }, (_, i) => ({ lr: i }));
    const s = await store.createStudy(spec('alpha'), '/a', 1, 'external', { enqueued: queued });
    const taken = (await Promise.all(Array.from({ length: 8 }, (_, i) => store.takeEnqueued(s.id, 2, `client:${i}`)))).flat();
    assert.equal(taken.length, 12);
    assert.deepEqual(taken.map((tr) => tr.assignment['lr']).sort((a, b) => Number(a) - Number(b)), queued.map((a) => a.lr));
    assert.deepEqual((await store.listTrials(s.id)).map((tr) => tr.assignment), queued, 'trials numbered in queue order');
  });

  test('prior trials: written with the study, read back in order as completed trials, deleted with it', async (t) => {
    const { store, raw } = await open(t);
    const priors = [{ name: 'old-0001', assignment: { lr: 0.5 }, objectiveValue: 1.5 }, { name: 'old-0002', assignment: { lr: 0.25 }, objectiveValue: -2 }];
    const s = await store.createStudy(spec('alpha'), '/a', 1, 'local', { priors });
    assert.deepEqual(await store.priorTrials(s.id), priors.map((p) => ({ ...p, state: 'SUCCEEDED' })));
    assert.deepEqual(await store.listTrials(s.id), [], 'they are not trials of the study');
    const other = await store.createStudy(spec('beta'), '/b', 1);
    assert.deepEqual(await store.priorTrials(other.id), []);
    await store.deleteStudy(s.id);
    assert.equal(await raw.count('prior_trials'), 0);
  });

  test('createStudy: a name taken leaves no queue or priors behind', async (t) => {
    const { store, raw } = await open(t);
    await store.createStudy(spec('alpha'), '/a', 1);
    await assert.rejects(() => store.createStudy(spec('alpha'), '/a', 1, 'local', { enqueued: [{ lr: 1 }], priors: [{ name: 'x', assignment: { lr: 1 }, objectiveValue: 1 }] }), ConstraintError);
    assert.equal(await raw.count('enqueued_trials'), 0);
    assert.equal(await raw.count('prior_trials'), 0);
  });

  // ---- trials: state changes ----

  test('start: CREATED or RUNNING → RUNNING, counts attempts, keeps the first start time', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr] = await store.addTrials(s.id, [{ lr: 0.01 }]);
    await store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:100' });
    const r1 = (await store.getTrial(tr!.id))!;
    assert.equal(r1.state, 'RUNNING');
    assert.equal(r1.runtimeRef, 'pgid:100');
    assert.equal(r1.attempts, 1);
    assert.ok(r1.startedAt);
    await store.transitionTrial(tr!.id, 'start');
    const r2 = (await store.getTrial(tr!.id))!;
    assert.equal(r2.attempts, 2);
    assert.equal(r2.runtimeRef, undefined);
    assert.equal(r2.startedAt, r1.startedAt);
  });

  test('trial transitions: end an active trial once; later changes are conflicts that change nothing', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr] = await store.addTrials(s.id, [{ lr: 0.01 }]);
    await store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:1' });
    await store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.5)] }]);
    await store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', message: 'exit 0', objectiveValue: 0.5 });
    const done = (await store.getTrial(tr!.id))!;
    assert.equal(done.state, 'SUCCEEDED');
    assert.equal(done.reason, 'TrialSucceeded');
    assert.equal(done.message, 'exit 0');
    assert.equal(done.objectiveValue, 0.5);
    assert.ok(done.completedAt);

    await assert.rejects(() => store.transitionTrial(tr!.id, 'start', { runtimeRef: 'pgid:2' }), StateConflictError);
    await assert.rejects(() => store.transitionTrial(tr!.id, 'fail', { reason: 'Failed' }), StateConflictError);
    await assert.rejects(() => store.transitionTrial(tr!.id, 'requeue'), StateConflictError);
    assert.deepEqual(await store.getTrial(tr!.id), done);
    assert.deepEqual(await store.observations(tr!.id), [obs('loss', 0.5)], 'a refused relaunch keeps the observations');

    await assert.rejects(() => store.transitionTrial(9999, 'start'), StateConflictError);
    await assert.rejects(() => store.transitionTrial(9999, 'kill', { reason: 'StoppedByUser' }), StateConflictError);
    await assert.rejects(() => store.transitionTrial(9999, 'requeue'), StateConflictError);
  });

  test('trial transitions: a CREATED trial can end without running; no objective stays undefined', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr] = await store.addTrials(s.id, [{ lr: 0.01 }]);
    await store.transitionTrial(tr!.id, 'missMetrics', { reason: 'MetricsUnavailable' });
    const done = (await store.getTrial(tr!.id))!;
    assert.equal(done.state, 'METRICS_UNAVAILABLE');
    assert.equal(done.objectiveValue, undefined);
    assert.equal(done.message, undefined);
  });

  test('requeue: deletes the trial’s observations only and sets CREATED', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [a, b] = await store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
    await store.transitionTrial(a!.id, 'start', { runtimeRef: 'pgid:1' });
    await store.transitionTrial(b!.id, 'start', { runtimeRef: 'pgid:2' });
    await store.addObservations([{ trialId: a!.id, observations: [obs('loss', 1), obs('loss', 0.8, 2)] }]);
    await store.addObservations([{ trialId: b!.id, observations: [obs('loss', 2)] }]);
    await store.transitionTrial(a!.id, 'requeue');
    const reset = (await store.getTrial(a!.id))!;
    assert.equal(reset.state, 'CREATED');
    assert.equal(reset.runtimeRef, undefined);
    assert.equal(reset.attempts, 1, 'attempts are kept across relaunches');
    assert.deepEqual(await store.observations(a!.id), []);
    assert.deepEqual(await store.observations(b!.id), [obs('loss', 2)]);
    // And it can run again.
    await store.transitionTrial(a!.id, 'start', { runtimeRef: 'pgid:3' });
    assert.equal((await store.getTrial(a!.id))?.attempts, 2);
  });

  // ---- observations ----

  test('observations: non-finite values are rejected and a batch is all or nothing', async (t) => {
    const { store, raw } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr] = await store.addTrials(s.id, [{ lr: 0.01 }]);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      await assert.rejects(() => store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.5), obs('loss', bad, 2)] }]), (err: Error) => err instanceof ConstraintError && /constraint failed/i.test(err.message), String(bad));
      assert.equal(await raw.count('observations'), 0, `[ok, ${bad}] stores nothing`);
    }
    // The extremes of the finite range are accepted.
    await store.addObservations([{ trialId: tr!.id, observations: [obs('loss', Number.MAX_VALUE), obs('loss', -Number.MAX_VALUE, 2), obs('loss', 0, 3)] }]);
    assert.deepEqual(await store.metricValues(tr!.id, 'loss'), [Number.MAX_VALUE, -Number.MAX_VALUE, 0]);
    await store.addObservations([{ trialId: tr!.id, observations: [] }]);
    assert.equal(await raw.count('observations'), 3);
    // An observation of an unknown or ended trial is refused.
    await assert.rejects(() => store.addObservations([{ trialId: 9999, observations: [obs('loss', 1)] }]), StateConflictError);
    await store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 0 });
    await assert.rejects(() => store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 1, 4)] }]), StateConflictError);
    assert.equal(await raw.count('observations'), 3, 'an ended trial keeps its metrics');
  });

  test('observationsPage: a trial\'s observations in recorded order, a page at a time, other trials\' left out', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr, other] = await store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
    // Interleaved with another trial's, two metrics, steps out of order: recorded order is what counts.
    for (let i = 0; i < 7; i++) {
      await store.addObservations([{ trialId: tr!.id, observations: [obs(i % 2 ? 'accuracy' : 'loss', i, 10 - i)] }, { trialId: other!.id, observations: [obs('loss', 100 + i)] }]);
    }
    const pages = [];
    let after = 0;
    for (;;) {
      const page = await store.observationsPage(tr!.id, after, 3);
      pages.push(page.items.map((o) => o.value));
      if (page.next === undefined) break;
      after = page.next;
    }
    assert.deepEqual(pages, [[0, 1, 2], [3, 4, 5], [6]]);
    assert.deepEqual((await store.observationsPage(tr!.id, 0, 7)).items, await store.observations(tr!.id), 'the same rows as the whole read');
    assert.equal((await store.observationsPage(tr!.id, 0, 7)).next, undefined, 'a page that holds the rest is the last');
    assert.deepEqual(await store.observationsPage(tr!.id, Number.MAX_SAFE_INTEGER, 3), { items: [] });
  });

  test('observations: strategyValue min/max/latest and metricSummaries', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr, other] = await store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
    await store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.9, 1), obs('accuracy', 0.5, 1)] }]);
    await store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.2, 2), obs('accuracy', 0.8, 2)] }]);
    await store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.4, 3), obs('accuracy', 0.7, 3)] }]);
    await store.addObservations([{ trialId: other!.id, observations: [obs('loss', -5), obs('accuracy', 99)] }]);

    assert.equal(await store.strategyValue(tr!.id, 'loss', 'min'), 0.2);
    assert.equal(await store.strategyValue(tr!.id, 'loss', 'max'), 0.9);
    assert.equal(await store.strategyValue(tr!.id, 'loss', 'latest'), 0.4);
    assert.equal(await store.strategyValue(tr!.id, 'accuracy', 'max'), 0.8);
    assert.equal(await store.strategyValue(tr!.id, 'accuracy', 'latest'), 0.7);
    for (const strategy of ['min', 'max', 'latest'] as const) {
      assert.equal(await store.strategyValue(tr!.id, 'f1', strategy), undefined, `unobserved metric, ${strategy}`);
    }
    // latest follows arrival order, not the step.
    await store.addObservations([{ trialId: tr!.id, observations: [obs('loss', 0.3, 1)] }]);
    assert.equal(await store.strategyValue(tr!.id, 'loss', 'latest'), 0.3);

    assert.deepEqual(await store.metricSummaries(tr!.id), [
      { name: 'accuracy', min: 0.5, max: 0.8, latest: 0.7, count: 3 },
      { name: 'loss', min: 0.2, max: 0.9, latest: 0.3, count: 4 },
    ]);
    assert.deepEqual(await store.metricSummaries(9999), []);
    assert.deepEqual(await store.metricValues(tr!.id, 'loss'), [0.9, 0.2, 0.4, 0.3]);
  });

  const RECOUNT = `SELECT metric_name AS name, min(value) AS min, max(value) AS max, CAST(count(*) AS integer) AS count,
    (SELECT o2.value FROM observations o2 WHERE o2.trial_id = o.trial_id AND o2.metric_name = o.metric_name ORDER BY o2.id DESC LIMIT 1) AS latest
    FROM observations o WHERE trial_id = ? GROUP BY trial_id, metric_name ORDER BY metric_name`;

  test('observations: the per-metric aggregates (trial_metrics) match a recount of the rows', async (t) => {
    const { store, raw } = await open(t);
    const recount = (id: number) => raw.all(RECOUNT, id);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [a, b] = await store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }]);
    await store.addObservations([{ trialId: a!.id, observations: [obs('loss', 3, 5), obs('loss', 1, 2), obs('accuracy', 0.1, 1), obs('loss', 2, 7), obs('loss', 2.5, 3)] }]);
    assert.equal(await store.maxStep(a!.id, 'loss'), 7, 'the highest step, not the latest');
    assert.equal(await store.maxStep(a!.id, 'f1'), 0);
    await store.appendObservationLog(
      [{ trialName: a!.name, metricName: 'accuracy', value: '0.9', time: '2026-11-28T00:00:00.000Z' }],
      [{ trialId: a!.id, observation: obs('accuracy', 0.9, 2) }, { trialId: b!.id, observation: obs('loss', 4, 9) }, { trialId: b!.id, observation: obs('loss', -4, 3) }],
    );
    // A refused batch changes no aggregate.
    await assert.rejects(() => store.addObservations([{ trialId: a!.id, observations: [obs('loss', -100, 100), obs('loss', Number.NaN, 101)] }]), /constraint failed/i);
    assert.equal(await store.maxStep(a!.id, 'loss'), 7);
    assert.equal(await store.maxStep(b!.id, 'loss'), 9);
    for (const id of [a!.id, b!.id]) assert.deepEqual(await store.metricSummaries(id), await recount(id));
    assert.equal(await store.strategyValue(b!.id, 'loss', 'latest'), -4);

    await store.transitionTrial(a!.id, 'requeue');
    assert.deepEqual(await store.metricSummaries(a!.id), []);
    assert.equal(await store.maxStep(a!.id, 'loss'), 0);
    assert.equal(await store.strategyValue(a!.id, 'loss', 'min'), undefined);
    assert.deepEqual(await store.metricSummaries(b!.id), await recount(b!.id));
    await store.deleteStudy(s.id);
    assert.equal(await raw.count('trial_metrics'), 0, 'deleted with their trials');
  });

  // ---- the scheduler's reads ----

  test('trialCounts and activeTrials', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const empty = await store.trialCounts(s.id);
    assert.deepEqual(empty, { CREATED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 });
    const trs = await store.addTrials(s.id, Array.from({ length: 6 }, (_, i) => ({ lr: i })));
    await store.transitionTrial(trs[1]!.id, 'start');
    await store.transitionTrial(trs[2]!.id, 'start');
    await store.transitionTrial(trs[2]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 1 });
    await store.transitionTrial(trs[3]!.id, 'fail', { reason: 'Failed' });
    await store.transitionTrial(trs[4]!.id, 'kill', { reason: 'StoppedByUser' });
    // Another study's trials do not count.
    const b = await store.createStudy(spec('beta'), '/b', 1);
    await store.addTrials(b.id, [{ lr: 1 }]);
    assert.deepEqual(await store.trialCounts(s.id), { CREATED: 2, RUNNING: 1, SUCCEEDED: 1, FAILED: 1, KILLED: 1, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 });
    assert.deepEqual((await store.activeTrials(s.id)).map((tr) => tr.seq), [1, 2, 6]);
  });

  test('trialCounts: the trigger-kept counts always equal a recount of the trials', async (t) => {
    const { store, raw } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const recount = async () => {
      const counts = { CREATED: 0, RUNNING: 0, SUCCEEDED: 0, FAILED: 0, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 };
      for (const r of await raw.all('SELECT state, count(*) AS n FROM trials WHERE study_id = ? GROUP BY state', s.id) as { state: keyof typeof counts; n: number }[]) counts[r.state] = r.n;
      return counts;
    };
    const trs = await store.addTrials(s.id, Array.from({ length: 5 }, (_, i) => ({ lr: i })));
    await store.transitionTrial(trs[0]!.id, 'start');
    await store.transitionTrial(trs[0]!.id, 'start'); // RUNNING → RUNNING changes no count
    await store.transitionTrial(trs[1]!.id, 'start');
    await store.transitionTrial(trs[1]!.id, 'requeue');
    await store.transitionTrial(trs[2]!.id, 'missMetrics', { reason: 'MetricsUnavailable' });
    await assert.rejects(() => store.addTrials(s.id, [{ lr: 9 }, { lr: 10n as unknown as number }]));
    assert.deepEqual(await store.trialCounts(s.id), await recount());
    assert.deepEqual(await store.trialCounts(s.id), { CREATED: 3, RUNNING: 1, SUCCEEDED: 0, FAILED: 0, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 1 });
    await raw.run('DELETE FROM trials WHERE id = ?', trs[4]!.id);
    assert.deepEqual(await store.trialCounts(s.id), await recount());
  });

  test('bestTrial: minimize and maximize, ties go to the lower seq, only SUCCEEDED or EARLY_STOPPED with a value', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    assert.equal(await store.bestTrial(s.id, 'minimize'), undefined);
    const trs = await store.addTrials(s.id, Array.from({ length: 7 }, (_, i) => ({ lr: i })));
    const transitions = { SUCCEEDED: ['succeed', 'TrialSucceeded'], FAILED: ['fail', 'NonZeroExit'], EARLY_STOPPED: ['earlyStop', 'EarlyStopped'] } as const;
    const end = (i: number, value: number | undefined, state: keyof typeof transitions = 'SUCCEEDED') =>
      store.transitionTrial(trs[i]!.id, transitions[state][0], { reason: transitions[state][1], ...(value === undefined ? {} : { objectiveValue: value }) });
    await end(0, 3);
    await end(1, 1); // seq 2: tied lowest
    await end(2, 1); // seq 3: tied lowest, later
    await end(3, 7); // seq 4: tied highest
    await end(4, 7); // seq 5: tied highest, later
    await end(5, 6, 'FAILED'); // failed: never best
    await end(6, undefined); // no value: never best
    assert.equal((await store.bestTrial(s.id, 'minimize'))?.seq, 2);
    assert.equal((await store.bestTrial(s.id, 'maximize'))?.seq, 4);
    assert.equal((await store.bestTrial(s.id, 'maximize'))?.objectiveValue, 7);
    // An early-stopped trial completed with the value it reached (Katib counts it).
    const [late] = await store.addTrials(s.id, [{ lr: 9 }]);
    await store.transitionTrial(late!.id, 'earlyStop', { reason: 'EarlyStopped', objectiveValue: 100 });
    assert.equal((await store.bestTrial(s.id, 'maximize'))?.seq, 8);
    // Negative values and another study's better trials.
    const b = await store.createStudy(spec('beta'), '/b', 1);
    const [bt] = await store.addTrials(b.id, [{ lr: 0 }]);
    await store.transitionTrial(bt!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: -1000 });
    assert.equal((await store.bestTrial(s.id, 'minimize'))?.seq, 2);
    assert.equal((await store.bestTrial(b.id, 'minimize'))?.objectiveValue, -1000);
    assert.equal((await store.bestTrial(b.id, 'maximize'))?.objectiveValue, -1000);
  });

  test('outcome constraints: feasibility is written with the end, an infeasible trial is never best, and the schema refuses impossible verdicts', async (t) => {
    const { store, raw } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const trs = await store.addTrials(s.id, Array.from({ length: 6 }, (_, i) => ({ lr: i })));
    const succeed = (i: number, objectiveValue: number, feasibility?: Feasibility) =>
      store.transitionTrial(trs[i]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue, ...(feasibility ? { feasibility } : {}) });
    const infeasible = await succeed(0, -5, { feasible: false, violation: 2.5 }); // the lowest value, but infeasible
    assert.equal(infeasible.feasible, false);
    assert.equal(infeasible.violation, 2.5);
    const unknown = await succeed(1, -4, { feasible: false }); // a constraint metric never came
    assert.equal(unknown.feasible, false);
    assert.equal(unknown.violation, undefined);
    const ok = await succeed(2, 3, { feasible: true, violation: 0 });
    assert.equal(ok.feasible, true);
    assert.equal(ok.violation, 0);
    assert.equal((await store.bestTrial(s.id, 'minimize'))?.seq, 3, 'the best feasible, not the lower infeasible values');
    await succeed(3, 10, { feasible: false, violation: 0.001 });
    assert.equal((await store.bestTrial(s.id, 'maximize'))?.seq, 3, 'maximize too');
    // An early-stopped trial carries its verdict the same way.
    const stopped = await store.transitionTrial(trs[4]!.id, 'earlyStop', { reason: 'EarlyStopped', objectiveValue: -100, feasibility: { feasible: false, violation: 1 } });
    assert.equal(stopped.feasible, false);
    assert.equal((await store.bestTrial(s.id, 'minimize'))?.seq, 3);
    // What algorithms see, and what a study without constraints records (nothing).
    const views = await store.trialViews(s.id);
    assert.deepEqual(views.slice(0, 3).map((v) => [v.feasible, v.violation]), [[false, 2.5], [false, undefined], [true, 0]]);
    const plain = await succeed(5, 1);
    assert.equal(plain.feasible, undefined);
    assert.equal(plain.violation, undefined);
    // The schema's checks: no violation without a verdict, a feasible trial violates by 0, an infeasible one by more.
    for (const [feasible, violation] of [[null, 1], [1, 0.5], [0, 0], [0, -1], [2, null]] as const) {
      await assert.rejects(() => raw.run('UPDATE trials SET feasible = ?, violation = ? WHERE id = ?', feasible, violation, trs[2]!.id), (err: Error) => /check/i.test(err.message), `feasible ${feasible}, violation ${violation}`);
    }
    assert.equal((await store.getTrial(trs[2]!.id))?.feasible, true, 'a refused write changes nothing');
  });

  test('completeTrial: a non-finite objective value is refused and the trial stays active', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const [tr] = await store.addTrials(s.id, [{ lr: 0.01 }]);
    await assert.rejects(() => store.transitionTrial(tr!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: Number.POSITIVE_INFINITY }), (err: Error) => err instanceof ConstraintError && /^CHECK constraint failed/.test(err.message));
    assert.equal((await store.getTrial(tr!.id))?.state, 'CREATED');
  });

  test('objectiveValues (multi-objective): written by the completing transition, read back by every read', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const trs = await store.addTrials(s.id, [{ lr: 0.01 }, { lr: 0.02 }, { lr: 0.03 }]);
    const done = await store.transitionTrial(trs[0]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 0.5, objectiveValues: [0.5, -2, 1e-300] });
    assert.deepEqual(done.objectiveValues, [0.5, -2, 1e-300]);
    assert.deepEqual((await store.getTrial(trs[0]!.id))?.objectiveValues, [0.5, -2, 1e-300]);
    assert.deepEqual((await store.getTrialByName(trs[0]!.name))?.objectiveValues, [0.5, -2, 1e-300]);
    assert.deepEqual((await store.listTrials(s.id)).map((x) => x.objectiveValues), [[0.5, -2, 1e-300], undefined, undefined]);
    assert.deepEqual((await store.trialViews(s.id)).map((x) => x.objectiveValues), [[0.5, -2, 1e-300], undefined, undefined]);
    // A non-finite value is refused with the rest of the change: the trial stays active.
    await assert.rejects(() => store.transitionTrial(trs[1]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 1, objectiveValues: [1, Number.NaN] }),
      (err: Error) => err instanceof ConstraintError && /^CHECK constraint failed/.test(err.message));
    assert.equal((await store.getTrial(trs[1]!.id))?.state, 'CREATED');
    assert.equal((await store.getTrial(trs[1]!.id))?.objectiveValues, undefined);
    // A single-objective completion stores none.
    await store.transitionTrial(trs[2]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 3 });
    assert.equal((await store.getTrial(trs[2]!.id))?.objectiveValues, undefined);
  });

  test('paretoTrials: the completed trials no other dominates, per direction, duplicates all kept, in creation order', async (t) => {
    const { store } = await open(t);
    const s = await store.createStudy(spec('alpha'), '/a', 1);
    const values: [number, number][] = [[1, 5], [2, 2], [3, 1], [2, 3], [1, 5], [4, 4], [0, 9], [0.5, 0.5]];
    const trs = await store.addTrials(s.id, values.map((_, i) => ({ lr: i })));
    for (const [i, v] of values.entries()) {
      if (i === values.length - 1) continue; // the best point stays active: not on the front
      await store.transitionTrial(trs[i]!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: v[0], objectiveValues: v });
    }
    const seqs = async (d: ('minimize' | 'maximize')[]) => (await store.paretoTrials(s.id, d)).map((x) => x.seq);
    // Minimise both: [2,3] is dominated by [2,2], [4,4] by [2,2]; the duplicate [1,5]s both stay.
    assert.deepEqual(await seqs(['minimize', 'minimize']), [1, 2, 3, 5, 7]);
    // Maximise both: [4,4] (best first), [0,9] (best second) and the two [1,5] (between them).
    assert.deepEqual(await seqs(['maximize', 'maximize']), [1, 5, 6, 7]);
    // Minimise the first, maximise the second: [0,9] dominates everything.
    assert.deepEqual(await seqs(['minimize', 'maximize']), [7]);
    // A failed trial and an early-stopped one: only the early-stopped one (with values) counts.
    const [failed, stopped] = await store.addTrials(s.id, [{ lr: 10 }, { lr: 11 }]);
    await store.transitionTrial(failed!.id, 'fail', { reason: 'NonZeroExit' });
    await store.transitionTrial(stopped!.id, 'earlyStop', { reason: 'EarlyStopped', objectiveValue: 0.1, objectiveValues: [0.1, 0.1] });
    assert.deepEqual(await seqs(['minimize', 'minimize']), [7, 10], '[0.1,0.1] dominates all but [0,9]');
    // Another study's trials are not on this one's front.
    const b = await store.createStudy(spec('beta'), '/b', 1);
    assert.deepEqual(await store.paretoTrials(b.id, ['minimize', 'minimize']), []);
  });
}

for (const backend of [sqliteBackend(), postgresBackend()]) {
  describe(`store contract: ${backend.name}`, () => {
    before(() => backend.start());
    after(() => backend.stop());
    contract((t) => backend.open(t));
  });
}
