// The Experiment status as Katib writes it (src/controller/experiment-status.ts), from study and
// trial shapes: conditions and their times, Katib's reasons, lists and counters, the optimal
// trial's strings, and the transitions read off two statuses (the Events a restart must not repeat).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { experimentStatus, mergeConditions, sameStatus, trialTransitions, UNAVAILABLE } from '../src/controller/experiment-status.js';
import type { StudyShape, TrialShape } from '../src/service/shapes.js';

const T0 = '2026-12-01T10:00:00.000Z';
const T1 = '2026-12-01T10:05:00.000Z';

function study(over: Partial<StudyShape> = {}): StudyShape {
  return {
    name: 's', state: 'RUNNING', reason: null, message: null, runtime: 'kubernetes', algorithm: 'grid',
    objective: { type: 'maximize', metric: 'accuracy', goal: null, objectives: [{ type: 'maximize', metric: 'accuracy' }] }, parallelTrialCount: 2, maxTrialCount: 4, maxFailedTrialCount: null, heartbeatSeconds: null,
    trials: { CREATED: 1, RUNNING: 1, SUCCEEDED: 1, FAILED: 1, KILLED: 0, EARLY_STOPPED: 0, METRICS_UNAVAILABLE: 0 },
    best: { trial: 's-b', value: 0.9, assignment: { lr: 0.1 } },
    earlyStopping: null,
    spec: { objective: { objectiveMetricName: 'accuracy', additionalMetricNames: ['loss'] } } as unknown as StudyShape['spec'],
    createdAt: T0, startedAt: T0, completedAt: null,
    ...over,
  };
}

function trial(name: string, state: TrialShape['state'], over: Partial<TrialShape> = {}): TrialShape {
  return {
    name, study: 's', seq: 1, state, reason: null, message: null, assignment: { lr: 0.1 }, objectiveValue: null, objectiveValues: null, metrics: [], clientId: null, labels: {},
    stoppedAtStep: null, feasible: null, violation: null, createdAt: T0, startedAt: null, completedAt: null, ...over,
  };
}

const TRIALS = [
  trial('s-a', 'CREATED'),
  trial('s-b', 'SUCCEEDED', { objectiveValue: 0.9, metrics: [{ name: 'accuracy', min: 0.5, max: 0.9, latest: 0.85, count: 3 }] }),
  trial('s-c', 'RUNNING'),
  trial('s-d', 'FAILED'),
];

test('a running study: Created and Running, Katib\'s lists and counters, the optimal trial as strings, "unavailable" for a metric never reported', () => {
  const st = experimentStatus(study(), TRIALS, [], T1);
  assert.deepEqual(st.conditions.map((c) => [c.type, c.status, c.reason]), [['Created', 'True', 'ExperimentCreated'], ['Running', 'True', 'ExperimentRunning']]);
  assert.deepEqual([st.pendingTrialList, st.runningTrialList, st.succeededTrialList, st.failedTrialList], [['s-a'], ['s-c'], ['s-b'], ['s-d']]);
  assert.deepEqual([st.trials, st.trialsPending, st.trialsRunning, st.trialsSucceeded, st.trialsFailed], [4, 1, 1, 1, 1]);
  assert.deepEqual(st.currentOptimalTrial, {
    bestTrialName: 's-b',
    parameterAssignments: [{ name: 'lr', value: '0.1' }],
    observation: { metrics: [{ name: 'accuracy', min: '0.5', max: '0.9', latest: '0.85' }, { name: 'loss', min: UNAVAILABLE, max: UNAVAILABLE, latest: UNAVAILABLE }] },
  });
  assert.equal(st.bestObjectiveValue, '0.9');
  assert.equal(st.startTime, T0);
  assert.equal(st.completionTime, undefined);
});

test('each end in Katib\'s words; Running turns False; a stop (which Katib lacks) is Failed/ExperimentStopped', () => {
  const cases: [StudyShape['state'], string, string, string][] = [
    ['SUCCEEDED', 'GoalReached', 'Succeeded', 'ExperimentGoalReached'],
    ['SUCCEEDED', 'MaxTrialsReached', 'Succeeded', 'ExperimentMaxTrialsReached'],
    ['SUCCEEDED', 'SearchSpaceExhausted', 'Succeeded', 'ExperimentSuggestionEndReached'],
    ['FAILED', 'MaxFailedTrialsReached', 'Failed', 'ExperimentMaxFailedTrialsReached'],
    ['FAILED', 'AlgorithmFailed', 'Failed', 'ExperimentAlgorithmFailed'],
    ['STOPPED', 'StoppedByUser', 'Failed', 'ExperimentStopped'],
  ];
  for (const [state, reason, type, katibReason] of cases) {
    const st = experimentStatus(study({ state, reason, message: 'why', completedAt: T1 }), TRIALS, [], T1);
    assert.deepEqual(st.conditions.map((c) => [c.type, c.status, c.reason]), [['Created', 'True', 'ExperimentCreated'], ['Running', 'False', 'ExperimentRunning'], [type, 'True', katibReason]], `${state} ${reason}`);
    assert.equal(st.conditions[2]!.message, 'why');
    assert.equal(st.completionTime, T1);
  }
});

test('condition times: kept while a condition says the same, moved when it changes; a condition no longer wanted turns False and stays', () => {
  const first = experimentStatus(study(), TRIALS, [], T0).conditions;
  const again = mergeConditions(first, [
    { type: 'Created', status: 'True', reason: 'ExperimentCreated', message: 'Experiment is created' },
    { type: 'Running', status: 'True', reason: 'ExperimentRunning', message: 'Experiment is running' },
  ], T1);
  assert.deepEqual(again, first, 'nothing changed: the same times');
  const ended = experimentStatus(study({ state: 'SUCCEEDED', reason: 'MaxTrialsReached', message: 'done', completedAt: T1 }), TRIALS, first, T1).conditions;
  assert.equal(ended[0]!.lastTransitionTime, T0, 'Created kept its time');
  assert.deepEqual([ended[1]!.status, ended[1]!.lastTransitionTime], ['False', T1]);
  assert.equal(ended[2]!.lastTransitionTime, T1);
  // Reopened by a bigger budget: Running again, the old Succeeded turned False (Katib never removes a condition).
  const reopened = experimentStatus(study(), TRIALS, ended, '2026-12-01T10:09:00.000Z').conditions;
  assert.deepEqual(reopened.map((c) => [c.type, c.status]), [['Created', 'True'], ['Running', 'True'], ['Succeeded', 'False']]);
});

test('trial transitions are read off the two statuses: each change once, nothing for an unchanged trial, everything for a status written by no one yet', () => {
  const before = experimentStatus(study(), TRIALS, [], T0);
  const after = experimentStatus(study(), [TRIALS[0]!, TRIALS[1]!, trial('s-c', 'SUCCEEDED'), TRIALS[3]!, trial('s-e', 'CREATED')], [], T1);
  assert.deepEqual(trialTransitions(before, after), [{ trial: 's-e', list: 'pendingTrialList' }, { trial: 's-c', list: 'succeededTrialList' }]);
  assert.deepEqual(trialTransitions(after, after), []);
  assert.equal(trialTransitions(undefined, before).length, 4);
});

test('sameStatus ignores the reconcile time and key order (the API server sorts keys), nothing else', () => {
  const a = experimentStatus(study(), TRIALS, [], T0);
  const b = { ...experimentStatus(study(), TRIALS, a.conditions, T1) };
  const sorted = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(b).sort(([x], [y]) => x.localeCompare(y)))));
  assert.equal(sameStatus(a, sorted), true);
  assert.equal(sameStatus(a, { ...sorted, trialsRunning: 2 }), false);
});
