// Katib's wire API (api.v1.beta1) as Katib's controller and metrics collectors call it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { AlgorithmRunner } from '../src/algorithms/pool.js';
import { KatibDbClients } from '../src/api/grpc/katib-db-client.js';
import { loadProtos } from '../src/api/grpc/protos.js';
import { KatibService } from '../src/service/katib.js';
import { LIMITS } from '../src/model/limits.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { braninStudy } from './support/branin.js';
import { startFakeKubeWithFile } from './support/fake-kube/index.js';
import { call, startTestServer } from './support/server.js';
import { tempDir } from './support/study.js';

/** An Experiment as Katib's suggestion client builds it: every number a string. */
function experiment(algorithmName: string, settings: { name: string; value: string }[] = []) {
  return {
    name: 'katib-exp',
    spec: {
      parameterSpecs: {
        parameters: [
          { name: 'lr', parameterType: 'DOUBLE', feasibleSpace: { min: '0.01', max: '0.05', step: algorithmName === 'grid' ? '0.01' : '', distribution: 'UNIFORM' } },
          { name: 'batch_size', parameterType: 'INT', feasibleSpace: { min: '32', max: '64', distribution: 'UNIFORM' } },
          { name: 'optimizer', parameterType: 'CATEGORICAL', feasibleSpace: { list: ['sgd', 'adam', 'ftrl'] } },
          { name: 'dropout', parameterType: 'DISCRETE', feasibleSpace: { list: ['0.1', '0.3', '0.5'] } },
        ],
      },
      objective: { type: 'MAXIMIZE', goal: 0.99, objectiveMetricName: 'accuracy', additionalMetricNames: ['loss'] },
      algorithm: { algorithmName, algorithmSettings: settings },
      parallelTrialCount: 3,
      maxTrialCount: 12,
    },
  };
}

function katibTrial(name: string, condition: string, a: [string, string, string, string], accuracy?: string) {
  return {
    name,
    spec: {
      objective: { type: 'MAXIMIZE', objectiveMetricName: 'accuracy' },
      parameterAssignments: { assignments: [{ name: 'lr', value: a[0] }, { name: 'batch_size', value: a[1] }, { name: 'optimizer', value: a[2] }, { name: 'dropout', value: a[3] }] },
      labels: { 'katib.kubeflow.org/experiment': 'katib-exp' },
    },
    status: {
      startTime: '2026-11-28T10:00:00Z',
      completionTime: condition === 'SUCCEEDED' ? '2026-11-28T10:05:00Z' : '',
      condition,
      observation: { metrics: accuracy === undefined ? [] : [{ name: 'accuracy', value: accuracy }, { name: 'loss', value: '0.4' }] },
    },
  };
}

test('Katib GetSuggestions as the controller sends it: exactly current_request_number valid assignments; settings echoed', async () => {
  const s = await startTestServer();
  const suggestion = s.client('Suggestion');
  try {
    const history = [
      katibTrial('katib-exp-aaaa1111', 'SUCCEEDED', ['0.02', '40', 'adam', '0.3'], '0.91'),
      katibTrial('katib-exp-bbbb2222', 'SUCCEEDED', ['0.04', '33', 'sgd', '0.1'], '0.85'),
      katibTrial('katib-exp-cccc3333', 'RUNNING', ['0.03', '50', 'ftrl', '0.5']),
      katibTrial('katib-exp-dddd4444', 'CREATED', ['0.01', '64', 'sgd', '0.5']),
    ];
    for (const [name, settings] of [
      ['random', [{ name: 'random_state', value: '7' }]],
      ['grid', []],
      ['bayesianoptimization', [{ name: 'n_initial_points', value: '2' }, { name: 'acq_func', value: 'EI' }]],
    ] as const) {
      const request = { experiment: experiment(name, [...settings]), trials: history, currentRequestNumber: 3, totalRequestNumber: 7 };
      const reply = await call(suggestion, 'getSuggestions', request);
      assert.equal(reply.parameterAssignments.length, 3, name);
      const seen = new Set<string>();
      for (const pa of reply.parameterAssignments) {
        const v = Object.fromEntries(pa.assignments.map((x: { name: string; value: string }) => [x.name, x.value]));
        assert.deepEqual(Object.keys(v).sort(), ['batch_size', 'dropout', 'lr', 'optimizer'], name);
        for (const value of Object.values(v)) assert.equal(typeof value, 'string', `${name}: numbers travel as strings`);
        assert.ok(Number(v.lr) >= 0.01 && Number(v.lr) <= 0.05, `${name}: lr ${v.lr}`);
        assert.ok(Number.isInteger(Number(v.batch_size)) && Number(v.batch_size) >= 32 && Number(v.batch_size) <= 64, `${name}: batch ${v.batch_size}`);
        assert.ok(['sgd', 'adam', 'ftrl'].includes(v.optimizer));
        assert.ok(['0.1', '0.3', '0.5'].includes(v.dropout));
        seen.add(JSON.stringify(v));
      }
      if (name === 'grid') {
        assert.equal(seen.size, 3, 'grid: a batch never repeats itself');
        for (const t of history) {
          const taken = Object.fromEntries(t.spec.parameterAssignments.assignments.map((x) => [x.name, x.value]));
          assert.ok(![...seen].includes(JSON.stringify(taken)), 'grid: never proposes a point of an existing trial, running ones included');
        }
      }
      const echoed = (reply.algorithm.algorithmSettings ?? []).filter((x: { name: string }) => !x.name.startsWith('sibyl.state.'));
      assert.deepEqual(echoed, settings, `${name}: the user's settings come back for Katib to persist`);
      // The controller sends the echoed settings back next time; that must still work.
      const next = await call(suggestion, 'getSuggestions', { ...request, experiment: experiment(name, reply.algorithm.algorithmSettings ?? []) });
      assert.equal(next.parameterAssignments.length, 3);
    }
  } finally {
    await s.close();
  }
});

test('Katib ValidateAlgorithmSettings: a bad setting is INVALID_ARGUMENT with a message; a good one is OK', async () => {
  const s = await startTestServer();
  const suggestion = s.client('Suggestion');
  try {
    await call(suggestion, 'validateAlgorithmSettings', { experiment: experiment('bayesianoptimization', [{ name: 'acq_func', value: 'gp_hedge' }]) });
    for (const [exp, message] of [
      [experiment('random', [{ name: 'random_state', value: '-1' }]), /experiment.spec.algorithm.algorithm_settings\[random_state\]: must be an integer ≥ 0/],
      [experiment('bayesianoptimization', [{ name: 'n_initial_points', value: '-1' }]), /n_initial_points/],
      [{ name: 'g', spec: { ...experiment('random').spec, algorithm: { algorithmName: 'grid', algorithmSettings: [] } } }, /feasibleSpace\.step: required by algorithm "grid"/],
      [experiment('nope'), /unknown algorithm "nope"/],
      // A step so fine the grid's indices overflow: a proposal would have been Infinity.
      [(() => { const e = experiment('multivariate-tpe'); e.spec.parameterSpecs.parameters[0]!.feasibleSpace.step = '1e-320'; return e; })(), /parameters\[0\]\.feasibleSpace\.step: is too fine: \(max − min\) \/ step must be at most 9007199254740991 grid steps \(got 1e-320\)/],
      [{ name: 'x', spec: { ...experiment('random').spec, objective: { objectiveMetricName: 'a' } } }, /objective\.type: must be MINIMIZE or MAXIMIZE/],
    ] as const) {
      await assert.rejects(call(suggestion, 'validateAlgorithmSettings', { experiment: exp }), (err: { code: number; details: string }) => {
        assert.equal(err.code, 3, 'INVALID_ARGUMENT');
        assert.match(err.details, message);
        return true;
      });
    }
    const es = s.client('EarlyStopping');
    await call(es, 'validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }] } });
    await assert.rejects(call(es, 'validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'start_step', value: '0' }] } }), { code: 3 });
  } finally {
    await s.close();
  }
});

test('Katib DBManager: ReportObservationLog then GetObservationLog round-trips with metric and time filters', async () => {
  const s = await startTestServer();
  const db = s.client('DBManager');
  try {
    const logs = [
      ['2026-11-28T10:00:01Z', 'loss', '0.9'], ['2026-11-28T10:00:02Z', 'accuracy', '0.5'],
      ['2026-11-28T10:00:03.500Z', 'loss', '0.4'], ['2026-11-28T10:00:04Z', 'accuracy', 'unavailable'],
      ['', 'accuracy', '0.99'], // no time: Katib skips it
    ];
    await call(db, 'reportObservationLog', {
      trialName: 'katib-trial-1',
      observationLog: { metricLogs: logs.map(([t, name, value]) => ({ timeStamp: t, metric: { name, value } })) },
    });
    const all = await call(db, 'getObservationLog', { trialName: 'katib-trial-1' });
    assert.deepEqual(all.observationLog.metricLogs.map((m: { metric: { value: string } }) => m.metric.value), ['0.9', '0.5', '0.4', 'unavailable']);
    const loss = await call(db, 'getObservationLog', { trialName: 'katib-trial-1', metricName: 'loss' });
    assert.deepEqual(loss.observationLog.metricLogs.map((m: { timeStamp: string; metric: { value: string } }) => [m.timeStamp, m.metric.value]),
      [['2026-11-28T10:00:01.000Z', '0.9'], ['2026-11-28T10:00:03.500Z', '0.4']]);
    const window = await call(db, 'getObservationLog', { trialName: 'katib-trial-1', startTime: '2026-11-28T10:00:02Z', endTime: '2026-11-28T10:00:03.5Z' });
    assert.deepEqual(window.observationLog.metricLogs.map((m: { metric: { value: string } }) => m.metric.value), ['0.5', '0.4']);
    await assert.rejects(call(db, 'getObservationLog', { trialName: 'katib-trial-1', startTime: 'yesterday' }), (e: { code: number; details: string }) => e.code === 3 && /start_time/.test(e.details));
    await assert.rejects(call(db, 'reportObservationLog', { trialName: '', observationLog: {} }), { code: 3 });
    await call(db, 'deleteObservationLog', { trialName: 'katib-trial-1' });
    const none = await call(db, 'getObservationLog', { trialName: 'katib-trial-1' });
    assert.deepEqual(none.observationLog.metricLogs ?? [], []);
  } finally {
    await s.close();
  }
});

test('Katib DBManager: a time range holding more than one 4 MiB reply carries is RESOURCE_EXHAUSTED naming end_time; a shorter one is answered whole', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  const db = s.client('DBManager');
  try {
    // Each entry is 24 + 4 + 5 characters, about 46 bytes on the wire: 90,000 need 4.1 MB, 80,000 fit.
    const total = 90_000;
    const at = (i: number) => new Date(Date.UTC(2026, 10, 28, 10) + i).toISOString();
    for (let from = 0; from < total; from += LIMITS.maxObservationBatch) {
      const metricLogs = Array.from({ length: Math.min(LIMITS.maxObservationBatch, total - from) }, (_, k) => ({ timeStamp: at(from + k), metric: { name: 'loss', value: String(from + k) } }));
      await call(db, 'reportObservationLog', { trialName: 'katib-long', observationLog: { metricLogs } });
    }
    for (const request of [{ trialName: 'katib-long' }, { trialName: 'katib-long', metricName: 'loss' }]) {
      await assert.rejects(call(db, 'getObservationLog', request), (e: { code: number; details: string }) => {
        assert.equal(e.code, grpc.status.RESOURCE_EXHAUSTED);
        assert.match(e.details, /^end_time: the observation log of "katib-long" in this time range is more than one 4 MiB reply carries; ask for a shorter range \(start_time, end_time\)$/);
        return true;
      });
    }
    // Two shorter ranges: each answered whole, in time order (a client's default 4 MiB receive limit takes them).
    const head = await call(db, 'getObservationLog', { trialName: 'katib-long', endTime: at(79_999) });
    assert.deepEqual(head.observationLog.metricLogs.map((m: { metric: { value: string } }) => Number(m.metric.value)), Array.from({ length: 80_000 }, (_, i) => i));
    const tail = await call(db, 'getObservationLog', { trialName: 'katib-long', metricName: 'loss', startTime: at(80_000) });
    assert.equal(tail.observationLog.metricLogs.length, 10_000);
    assert.equal(tail.observationLog.metricLogs[0].metric.value, '80000');
  } finally {
    await s.close();
  }
});

test("Katib DBManager: a log for one of Sibyl's trials feeds that trial's metrics", async () => {
  const s = await startTestServer();
  const db = s.client('DBManager');
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('fed', 'random', 5) });
    const [t] = (await s.http('POST', '/api/v1/studies/fed/suggest', { clientId: 'katib' })).body.trials;
    await call(db, 'reportObservationLog', {
      trialName: t.name,
      observationLog: { metricLogs: [
        { timeStamp: '2026-11-28T10:00:01Z', metric: { name: 'f', value: '3.5' } },
        { timeStamp: '2026-11-28T10:00:02Z', metric: { name: 'f', value: '2.5' } },
        { timeStamp: '2026-11-28T10:00:03Z', metric: { name: 'f', value: 'unavailable' } },
        { timeStamp: '2026-11-28T10:00:04Z', metric: { name: 'other', value: '1' } },
      ] },
    });
    const trial = (await s.http('GET', `/api/v1/trials/${t.name}`)).body;
    assert.deepEqual(trial.metrics, [{ name: 'f', min: 2.5, max: 3.5, latest: 2.5, count: 2 }]);
    const done = await s.http('POST', `/api/v1/trials/${t.name}/complete`, {});
    assert.equal(done.body.state, 'SUCCEEDED');
    assert.equal(done.body.objectiveValue, 2.5);
  } finally {
    await s.close();
  }
});

test('gRPC health answers for manager.v1beta1.Suggestion and NOT_FOUND for unknown services, without a token', async () => {
  const s = await startTestServer({ token: 'secret-token' });
  const health = s.client('Health');
  try {
    assert.deepEqual(await call(health, 'check', { service: 'manager.v1beta1.Suggestion' }), { status: 'SERVING' });
    assert.deepEqual(await call(health, 'check', { service: '' }), { status: 'SERVING' });
    await assert.rejects(call(health, 'check', { service: 'nope.v1.Nothing' }), { code: 5 });
  } finally {
    await s.close();
  }
});

test('Katib EarlyStopping, driven as Katib\'s controller and metrics collector drive it: medianstop rules in Katib\'s format', async () => {
  const s = await startTestServer();
  const db = s.client('DBManager');
  const es = s.client('EarlyStopping');
  try {
    // The metrics collector reports each trial's log to the DB manager (Sibyl) as it trains.
    const curves: Record<string, number[]> = { 'k-1': [0.1, 0.2, 0.3, 0.4, 0.9], 'k-2': [0.5, 0.5, 0.5, 0.5, 0.9], 'k-3': [0.6, 0.6, 0.7, 0.7, 0.9], 'k-4': [0.1] };
    for (const [trialName, values] of Object.entries(curves)) {
      const metricLogs = values.map((v, i) => ({ timeStamp: `2026-11-28T10:00:0${i}Z`, metric: { name: 'accuracy', value: String(v) } }));
      await call(db, 'reportObservationLog', { trialName, observationLog: { metricLogs } });
    }
    const spec = { ...experiment('random').spec, earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }] } };
    const trials = [
      katibTrial('k-1', 'SUCCEEDED', ['0.01', '32', 'sgd', '0.1'], '0.9'),
      katibTrial('k-2', 'SUCCEEDED', ['0.02', '32', 'sgd', '0.1'], '0.9'),
      katibTrial('k-3', 'SUCCEEDED', ['0.03', '32', 'sgd', '0.1'], '0.9'),
      katibTrial('k-4', 'RUNNING', ['0.04', '32', 'sgd', '0.1']),
    ];
    const request = (n: number) => ({ experiment: { name: 'katib-exp', spec }, trials: trials.slice(0, n), dbManagerAddress: s.grpcAddress });
    // Two completed trials: fewer than min_trials_required, no rule yet.
    assert.deepEqual((await call(es, 'getEarlyStoppingRules', request(2))).earlyStoppingRules ?? [], []);
    // Averages of the first 4 reports: 0.25, 0.5, 0.65; the median (not Katib's mean 0.4667) is the rule's value.
    assert.deepEqual(await call(es, 'getEarlyStoppingRules', request(4)), {
      earlyStoppingRules: [{ name: 'accuracy', value: '0.5', comparison: 'LESS', startStep: 4 }],
    });
    const minimize = { experiment: { name: 'katib-exp', spec: { ...spec, objective: { ...spec.objective, type: 'MINIMIZE' } } }, trials, dbManagerAddress: s.grpcAddress };
    assert.equal((await call(es, 'getEarlyStoppingRules', minimize)).earlyStoppingRules[0].comparison, 'GREATER');
    // Bad settings are INVALID_ARGUMENT naming the setting, in both calls.
    const bad = { ...spec, earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'start_step', value: '0' }] } };
    for (const [method, req, field] of [
      ['getEarlyStoppingRules', { experiment: { name: 'x', spec: bad }, trials }, 'experiment.spec.early_stopping.algorithm_settings[start_step]'],
      ['validateEarlyStoppingSettings', { earlyStopping: bad.earlyStopping }, 'early_stopping.algorithm_settings[start_step]'],
      ['validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'asha', algorithmSettings: [{ name: 'reduction_factor', value: '1' }] } }, 'early_stopping.algorithm_settings[reduction_factor]'],
      ['validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'percentile' } }, 'early_stopping.algorithm_name'],
    ] as const) {
      await assert.rejects(call(es, method, req), (err: { code: number; details: string }) => {
        assert.equal(err.code, 3, `${method}: INVALID_ARGUMENT`);
        assert.ok(err.details.startsWith(`${field}: `), err.details);
        return true;
      });
    }
    await call(es, 'validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'asha', algorithmSettings: [{ name: 'min_resource', value: '2' }] } });
    // SetTrialStatus for a Katib trial is acknowledged (Sibyl does not write Katib's Trial objects; see the README).
    assert.deepEqual(await call(es, 'setTrialStatus', { trialName: 'k-4' }), {});
  } finally {
    await s.close();
  }
});

test('Katib EarlyStopping.SetTrialStatus on one of Sibyl\'s trials ends it EARLY_STOPPED at its last step', async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('rules', 'random', 5) });
    const [trial] = (await s.http('POST', '/api/v1/studies/rules/suggest', { clientId: 'c' })).body.trials;
    await s.http('POST', `/api/v1/trials/${trial.name}/observations`, { observations: [{ metric: 'f', value: 5, step: 1 }, { metric: 'f', value: 4, step: 2 }] });
    await call(s.client('EarlyStopping'), 'setTrialStatus', { trialName: trial.name });
    assert.deepEqual((await s.http('GET', `/api/v1/trials/${trial.name}/should-stop`)).body, { shouldStop: true });
    const done = await s.http('POST', `/api/v1/trials/${trial.name}/complete`, {});
    assert.equal(done.body.state, 'EARLY_STOPPED');
    assert.equal(done.body.stoppedAtStep, 2);
    assert.equal(done.body.objectiveValue, 4);
  } finally {
    await s.close();
  }
});

test('Katib GetSuggestions with Katib\'s hyperband example: the one-point resource range is accepted and the best config of the first rung is promoted', async () => {
  const s = await startTestServer();
  const suggestion = s.client('Suggestion');
  try {
    const spec = {
      parameterSpecs: {
        parameters: [
          { name: 'lr', parameterType: 'DOUBLE', feasibleSpace: { min: '0.01', max: '0.05', distribution: 'UNIFORM' } },
          { name: 'num-epochs', parameterType: 'INT', feasibleSpace: { min: '1', max: '1', distribution: 'UNIFORM' } },
        ],
      },
      objective: { type: 'MINIMIZE', objectiveMetricName: 'loss' },
      algorithm: { algorithmName: 'hyperband', algorithmSettings: [{ name: 'resource_name', value: 'num-epochs' }, { name: 'eta', value: '2' }, { name: 'r_l', value: '2' }] },
      parallelTrialCount: 2,
      maxTrialCount: 5,
    };
    const experiment = { name: 'hyperband', spec };
    await call(suggestion, 'validateAlgorithmSettings', { experiment });
    const first = await call(suggestion, 'getSuggestions', { experiment, trials: [], currentRequestNumber: 2, totalRequestNumber: 2 });
    const configs = first.parameterAssignments.map((p: { assignments: { name: string; value: string }[] }) => Object.fromEntries(p.assignments.map((a) => [a.name, a.value])));
    assert.deepEqual(configs.map((c: Record<string, string>) => c['num-epochs']), ['1', '1'], 'bracket s=1: two configs at budget 1');
    // Katib lists trials by name: the later-started one first. The better (lower loss) one is promoted at budget 2.
    const trial = (name: string, c: Record<string, string>, start: string, loss: string) => ({
      name,
      spec: { parameterAssignments: { assignments: Object.entries(c).map(([n, value]) => ({ name: n, value })) } },
      status: { startTime: start, condition: 'SUCCEEDED', observation: { metrics: [{ name: 'loss', value: loss }] } },
    });
    const trials = [trial('a-second', configs[1], '2026-11-28T10:00:05Z', '0.2'), trial('b-first', configs[0], '2026-11-28T10:00:00Z', '0.5')];
    const next = await call(suggestion, 'getSuggestions', { experiment, trials, currentRequestNumber: 1, totalRequestNumber: 3 });
    const promoted = Object.fromEntries(next.parameterAssignments[0].assignments.map((a: { name: string; value: string }) => [a.name, a.value]));
    assert.deepEqual(promoted, { ...configs[1], 'num-epochs': '2' });
  } finally {
    await s.close();
  }
});

test("Katib EarlyStopping.SetTrialStatus on one of Katib's trials appends the EarlyStopped condition to its Trial, as Katib's medianstop does", async () => {
  const { kube, kubeconfig } = await startFakeKubeWithFile(tempDir());
  const trials = kube.collectionKey('kubeflow.org', 'v1beta1', 'kubeflow', 'trials');
  const running = { type: 'Running', status: 'True', reason: 'TrialRunning', message: 'Trial is running' };
  kube.insert(trials, { apiVersion: 'kubeflow.org/v1beta1', kind: 'Trial', metadata: { name: 'katib-trial-1', namespace: 'kubeflow' }, status: { conditions: [running] } });
  const s = await startTestServer({ kubeconfig, katibTrialNamespace: 'kubeflow' });
  try {
    const es = s.client('EarlyStopping');
    assert.deepEqual(await call(es, 'setTrialStatus', { trialName: 'katib-trial-1' }), {});
    const conditions = () => kube.get(trials, 'katib-trial-1')?.['status']?.conditions as Record<string, string>[];
    assert.deepEqual(conditions().map((c) => [c['type'], c['status'], c['reason'], c['message']]), [
      ['Running', 'True', 'TrialRunning', 'Trial is running'],
      ['EarlyStopped', 'True', 'TrialEarlyStopped', 'Trial is early stopped'],
    ]);
    // The collector retrying its call marks the trial once.
    await call(es, 'setTrialStatus', { trialName: 'katib-trial-1' });
    assert.equal(conditions().length, 2);
    await assert.rejects(call(es, 'setTrialStatus', { trialName: 'no-such-trial' }), (err: { code: number; details: string }) => {
      assert.equal(err.code, 5, 'NOT_FOUND');
      assert.match(err.details, /^trial_name: trial "no-such-trial" in namespace "kubeflow" not found/);
      return true;
    });
  } finally {
    await s.close();
    await kube.close();
  }
});

test("Katib EarlyStopping beside Katib's own DB manager: rules from the logs at db_manager_address", async () => {
  // `katibDb` plays Katib's DB manager (it is Sibyl's, over the same wire API); `rules` is the
  // early-stopping service, whose own store holds no log.
  const katibDb = await startTestServer();
  const rules = await startTestServer({ katibDbManagers: [katibDb.grpcAddress, '127.0.0.1:1'] });
  try {
    const db = katibDb.client('DBManager');
    const curves: Record<string, number[]> = { 'k-1': [0.1, 0.2, 0.3, 0.4], 'k-2': [0.5, 0.5, 0.5, 0.5], 'k-3': [0.6, 0.6, 0.7, 0.7] };
    for (const [trialName, values] of Object.entries(curves)) {
      const metricLogs = values.map((v, i) => ({ timeStamp: `2026-11-28T10:00:0${i}Z`, metric: { name: 'accuracy', value: String(v) } }));
      await call(db, 'reportObservationLog', { trialName, observationLog: { metricLogs } });
    }
    const spec = { ...experiment('random').spec, earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }] } };
    const trials = ['k-1', 'k-2', 'k-3'].map((name, i) => katibTrial(name, 'SUCCEEDED', [`0.0${i + 1}`, '32', 'sgd', '0.1'], '0.7'));
    const es = rules.client('EarlyStopping');
    const ask = (dbManagerAddress: string, more: unknown[] = []) => call(es, 'getEarlyStoppingRules', { experiment: { name: 'katib-exp', spec }, trials: [...trials, ...more], dbManagerAddress });
    // Averages of the first 4 reports 0.25, 0.5, 0.65: median 0.5.
    assert.deepEqual(await ask(katibDb.grpcAddress), { earlyStoppingRules: [{ name: 'accuracy', value: '0.5', comparison: 'LESS', startStep: 4 }] });
    // A completed trial's log is read once; a running one's again, here from where nothing answers.
    const running = [katibTrial('k-4', 'RUNNING', ['0.04', '32', 'sgd', '0.1'])];
    // Only a DB manager the server was told of is read from.
    for (const [address, code] of [['not an address', 3], ['127.0.0.1:1', 14], ['katib-db-manager.kubeflow:6789', 7]] as const) {
      await assert.rejects(ask(address, running), (err: { code: number; details: string }) => {
        assert.equal(err.code, code, err.details);
        assert.match(err.details, /^db_manager_address: /);
        return true;
      });
    }
  } finally {
    await rules.close();
    await katibDb.close();
  }
});

test('GetEarlyStoppingRules reads the logs it lacks from the DB manager a few at a time, all within one deadline', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  let inFlight = 0;
  let most = 0;
  const deadlines = new Set<number>();
  const before = Date.now();
  const service = new KatibService(store, {} as AlgorithmRunner, undefined, undefined, {
    remoteMetricValues: async (_address, trialName, _metric, deadline) => {
      deadlines.add(deadline);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
      return [Number(trialName.slice(2)), Number(trialName.slice(2))];
    },
  });
  try {
    const spec = { ...experiment('random').spec, earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '2' }] } };
    const trials = Array.from({ length: 20 }, (_, i) => katibTrial(`k-${i + 1}`, 'SUCCEEDED', ['0.01', '32', 'sgd', '0.1'], '0.5'));
    const reply = await service.getEarlyStoppingRules({ experiment: { name: 'katib-exp', spec }, trials, dbManagerAddress: 'katib-db-manager.kubeflow:6789' });
    // Each trial's 2-report average is i: the median of 1…20 is 10.5.
    assert.deepEqual(reply, { earlyStoppingRules: [{ name: 'accuracy', value: '10.5', comparison: 'LESS', startStep: 2 }] });
    assert.equal(most, 8, 'eight reads at a time');
    assert.equal(deadlines.size, 1, 'one deadline for the whole request');
    const [deadline] = deadlines;
    assert.ok(deadline! >= before + 30_000 && deadline! <= Date.now() + 30_000, `within 30 s of the request (${deadline! - before} ms)`);
  } finally {
    await store.close();
  }
});

test('the DB manager client gives up at the deadline it is given', async () => {
  // A DBManager that never answers GetObservationLog.
  const server = new grpc.Server();
  server.addService(loadProtos().katib.DBManager.service, { getObservationLog: () => {} } as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  const clients = new KatibDbClients();
  try {
    const started = Date.now();
    await assert.rejects(clients.metricValues(`127.0.0.1:${port}`, 't', 'accuracy', Date.now() + 300), (err: { code: number }) => err.code === grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    clients.close();
    server.forceShutdown();
  }
});
