// A multi-objective study end to end on a real server (SQLite, REST and gRPC on 127.0.0.1):
// ask/tell clients tell both objectives of ZDT1, each trial carries its values, the Pareto
// front served by REST, gRPC, the TypeScript client and `sibyl best` is exactly the
// non-dominated set of the completed trials, and a trial missing an objective does not complete.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SibylClient } from 'sibyl';
import { MULTI_OBJECTIVE_PROBLEMS } from '../bench/multiobjective-problems.js';
import { dominates } from '../suggestion-algorithms/pareto.js';
import { runCli } from './support/cli.js';
import { call, startTestServer } from './support/server.js';

const zdt1 = MULTI_OBJECTIVE_PROBLEMS.find((p) => p.name === 'zdt1')!;
const DIMS = 3;

const studyDoc = (name: string, algorithm: string, max: number) => ({
  apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
  spec: {
    objective: { objectives: [{ type: 'minimize', objectiveMetricName: 'f1' }, { type: 'maximize', objectiveMetricName: 'neg_f2' }] },
    algorithm: { algorithmName: algorithm, algorithmSettings: algorithm === 'nsga2' ? [{ name: 'population_size', value: '6' }] : [] },
    parallelTrialCount: 2, maxTrialCount: max,
    parameters: Array.from({ length: DIMS }, (_, i) => ({ name: `x${i}`, parameterType: 'double', feasibleSpace: { min: '0', max: '1' } })),
  },
});

/** The non-dominated set of completed trials, by brute force (f1 minimised, neg_f2 maximised). */
function bruteFront(trials: { name: string; state: string; objectiveValues: number[] | null }[]): string[] {
  const done = trials.filter((t) => t.state === 'SUCCEEDED' && t.objectiveValues);
  const loss = (t: (typeof done)[number]) => [t.objectiveValues![0]!, -t.objectiveValues![1]!];
  return done.filter((t) => !done.some((u) => dominates(loss(u), loss(t)))).map((t) => t.name);
}

test('multi-objective ask/tell: values stored per trial, the front served by REST, gRPC, the client and `sibyl best`', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    const client = new SibylClient(s.base);
    const created = await client.createStudy(studyDoc('zdt', 'nsga2', 18), { runtime: 'external' });
    assert.deepEqual(created.data.objective.objectives, [{ type: 'minimize', metric: 'f1' }, { type: 'maximize', metric: 'neg_f2' }]);
    let told = 0;
    while (told < 18) {
      const asked = await client.suggest('zdt', 'w1', 2);
      if (asked.length === 0) { await new Promise((r) => setTimeout(r, 20)); continue; }
      for (const t of asked) {
        const [f1, f2] = zdt1.evaluate(Array.from({ length: DIMS }, (_, i) => t.data.assignment[`x${i}`] as number));
        await client.complete(t.name, { metrics: [{ metric: 'f1', value: f1! }, { metric: 'neg_f2', value: -f2! }] });
        told++;
      }
    }
    const trials = (await client.allTrials('zdt')).map((t) => t.data);
    assert.equal(trials.filter((t) => t.state === 'SUCCEEDED').length, 18);
    for (const t of trials) {
      const [f1, f2] = zdt1.evaluate(Array.from({ length: DIMS }, (_, i) => t.assignment[`x${i}`] as number));
      assert.deepEqual(t.objectiveValues, [f1, -f2!], `${t.name}: each objective's value, in the spec's order`);
      assert.equal(t.objectiveValue, f1, 'objectiveValue is the first objective');
    }
    const expected = bruteFront(trials);
    assert.ok(expected.length >= 2, `a front of ${expected.length}`);

    const rest = await s.http('GET', '/api/v1/studies/zdt/pareto');
    assert.equal(rest.status, 200);
    assert.deepEqual(rest.body.trials.map((t: { name: string }) => t.name), expected);
    assert.deepEqual(rest.body.objectives, [{ type: 'minimize', metric: 'f1' }, { type: 'maximize', metric: 'neg_f2' }]);
    assert.deepEqual(rest.body.trials[0].objectiveValues, trials.find((t) => t.name === expected[0])!.objectiveValues);

    const grpcFront = await call(s.client('Studies'), 'getParetoFront', { study: 'zdt' });
    assert.deepEqual(grpcFront.trials.map((t: { name: string }) => t.name), expected);
    assert.deepEqual(grpcFront.trials[0].objectiveValues, rest.body.trials[0].objectiveValues);
    assert.deepEqual(grpcFront.objectives, rest.body.objectives);
    const grpcStudy = await call(s.client('Studies'), 'getStudy', { name: 'zdt' });
    assert.equal(grpcStudy.objectives.length, 2);

    const front = await client.paretoFront('zdt');
    assert.deepEqual(front.trials.map((t) => t.name), expected);

    const cli = await runCli(['best', 'zdt', '--server', s.base]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, new RegExp(`^Pareto front of zdt: ${expected.length} trials \\(minimize f1, maximize neg_f2\\)`));
    const rows = cli.stdout.trim().split('\n').slice(3);
    assert.deepEqual(rows.map((r) => r.split(/\s+/)[0]), expected, 'one table row per front trial');
    const json = await runCli(['best', 'zdt', '--server', s.base, '--json']);
    assert.deepEqual(JSON.parse(json.stdout).map((t: { name: string }) => t.name), expected);

    // Unknown study: 404 with the shaped error body.
    assert.equal((await s.http('GET', '/api/v1/studies/nope/pareto')).status, 404);
  } finally {
    await s.close();
  }
});

test('a trial that reports only one of two objectives ends METRICS_UNAVAILABLE, off the front', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    const client = new SibylClient(s.base);
    await client.createStudy(studyDoc('partial', 'random', 4), { runtime: 'external' });
    const [t] = await client.suggest('partial', 'w', 1);
    const ended = await client.complete(t!.name, { metrics: [{ metric: 'f1', value: 0.5 }] });
    assert.equal(ended.data.state, 'METRICS_UNAVAILABLE');
    assert.match(ended.data.message ?? '', /never reported the objective metric "neg_f2"/);
    assert.equal(ended.data.objectiveValues, null);
    assert.deepEqual((await client.paretoFront('partial')).trials, []);
    const cli = await runCli(['best', 'partial', '--server', s.base]);
    assert.match(cli.stdout, /No trial of partial has completed with every objective \(f1, neg_f2\) yet/);
    // A single-objective algorithm is refused for the study, naming the field.
    const refused = await s.http('POST', '/api/v1/studies', { spec: studyDoc('refused', 'tpe', 4), runtime: 'external' });
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.body), /spec\.algorithm\.algorithmName/);
  } finally {
    await s.close();
  }
});
