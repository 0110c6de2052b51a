// Sibyl's gRPC API against a real server on 127.0.0.1, with clients built from the .proto files.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, simulate } from '../bench/simulate.js';
import { branin } from '../bench/functions.js';
import { BRANIN_OPTIMUM, braninStudy, evaluateBranin } from './support/branin.js';
import { call, startTestServer, toStruct } from './support/server.js';

const fromParams = (ps: { name: string; number?: number; text?: string }[]) =>
  Object.fromEntries(ps.map((p) => [p.name, p.number ?? p.text!]));

test('gRPC ask/tell: a client drives a 30-trial bayesianoptimization study on Branin below random search', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    const studies = s.client('Studies');
    const trials = s.client('Trials');
    const created = await call(studies, 'createStudy', { specText: braninStudy('grpc-bo') });
    assert.equal(created.state, 'CREATED');
    for (;;) {
      let asked;
      try {
        asked = await call(trials, 'suggestTrials', { study: 'grpc-bo', count: 1, clientId: 'grpc-worker' });
      } catch (err) {
        assert.equal((err as { code: number }).code, 9, 'FAILED_PRECONDITION once the study has ended');
        break;
      }
      if (!asked.trials?.length) break;
      for (const t of asked.trials) {
        const value = evaluateBranin(fromParams(t.assignment));
        await call(trials, 'reportObservations', { trial: t.name, observations: [{ metric: 'f', value: value * 2 + 1, step: 1 }] });
        const done = await call(trials, 'completeTrial', { trial: t.name, metrics: [{ metric: 'f', value }] });
        assert.equal(done.state, 'SUCCEEDED');
      }
    }
    const study = await call(studies, 'getStudy', { name: 'grpc-bo' });
    assert.equal(study.reason, 'MaxTrialsReached');
    assert.equal(study.trials.succeeded, 30);
    const randomMedian = median([1, 2, 3, 4, 5].map((seed) => simulate({ fn: branin, algorithm: 'random', budget: 30, seed }).regret[29]!));
    assert.ok(study.best.value - BRANIN_OPTIMUM < randomMedian, `regret ${study.best.value - BRANIN_OPTIMUM} vs random ${randomMedian}`);
    const page = await call(trials, 'listTrials', { study: 'grpc-bo', pageSize: 10 });
    assert.equal(page.trials.length, 10);
    assert.ok(page.nextPageToken);
    const last = await call(trials, 'listTrials', { study: 'grpc-bo', pageSize: 100, afterId: 25 });
    assert.deepEqual(last.trials.map((t: { seq: number }) => t.seq), [26, 27, 28, 29, 30]);
    assert.ok(last.trials.every((t: { metrics: { name: string; count: number }[] }) => t.metrics[0]!.count === 2));
  } finally {
    await s.close();
  }
});

test('gRPC: a local study submitted as a message runs to its end while another client watches every transition in order', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    const studies = s.client('Studies');
    const watcher = s.client('Studies');
    const doc = {
      apiVersion: 'kubeflow.org/v1beta1',
      kind: 'Experiment',
      metadata: { name: 'watched' },
      spec: {
        objective: { type: 'maximize', objectiveMetricName: 'score' },
        algorithm: { algorithmName: 'grid' },
        parallelTrialCount: 2,
        parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '4' } }],
        trialTemplate: { trialParameters: [{ name: 'x', reference: 'x' }], command: ['sh', '-c', 'sleep 0.2; echo score=${trialParameters.x}'] },
      },
    };
    const created = await call(studies, 'createStudy', { spec: toStruct(doc), runtime: 'local' });
    assert.equal(created.name, 'watched');
    const events: { study?: { state: string; reason: string }; trial?: { name: string; state: string } }[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = watcher.watchStudy({ name: 'watched' });
      stream.on('data', (e: (typeof events)[number]) => {
        events.push(e);
        if (e.study?.state === 'SUCCEEDED') {
          stream.cancel();
          resolve();
        }
      });
      stream.on('error', (err: { code: number }) => (err.code === 1 ? resolve() : reject(err)));
    });
    assert.ok(events[0]!.study, 'the first event is the study as it is');
    const byTrial = new Map<string, string[]>();
    for (const e of events) if (e.trial) byTrial.set(e.trial.name, [...(byTrial.get(e.trial.name) ?? []), e.trial.state]);
    // The watch may start after the first trials were created; from there on nothing is missed.
    for (const [name, states] of byTrial) {
      const order = ['CREATED', 'RUNNING', 'SUCCEEDED'];
      const indices = states.map((st) => order.indexOf(st));
      assert.ok(indices.every((x, i) => x >= 0 && (i === 0 || x >= indices[i - 1]!)), `${name}: ${states.join(' → ')}`);
      assert.equal(states.at(-1), 'SUCCEEDED', name);
    }
    assert.deepEqual([...byTrial.keys()].sort().slice(-2), ['watched-0003', 'watched-0004']);
    assert.deepEqual(byTrial.get('watched-0004'), ['CREATED', 'RUNNING', 'SUCCEEDED']);
    const final = await call(studies, 'getStudy', { name: 'watched' });
    assert.equal(final.reason, 'SearchSpaceExhausted');
    assert.deepEqual(final.best.assignment, [{ name: 'x', number: 4, value: 'number' }]);
  } finally {
    await s.close();
  }
});
