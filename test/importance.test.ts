// Parameter importance: fANOVA on a random forest (src/analysis) recovers known importances,
// categorical parameters included, deterministically; served over REST, gRPC, the TS client and
// `sibyl importance`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parameterImportance } from '../src/analysis/importance.js';
import { SibylClient } from '../src/client/index.js';
import type { Parameter, TrialView } from '../suggestion-algorithms/model.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { runCli } from './support/cli.js';
import { call, startTestServer } from './support/server.js';

const unit = (name: string): Parameter => ({ name, parameterType: 'double', min: 0, max: 1, distribution: 'uniform' });
const XS = [unit('x1'), unit('x2'), unit('x3')];

function trialsOf(f: (a: Record<string, number>) => number, n = 200, seed = 7): TrialView[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const a = { x1: rng.next(), x2: rng.next(), x3: rng.next() };
    return { name: `t${i}`, state: 'SUCCEEDED', assignment: a, objectiveValue: f(a) };
  });
}
const byName = (r: ReturnType<typeof parameterImportance>) => Object.fromEntries(r.parameters.map((p) => [p.name, p]));

test('f = 10·x1 + x2 + 0·x3: x1 ≫ x2 > x3 ≈ 0, sorted, summing to 1, main effects explaining nearly all the variance', () => {
  const r = parameterImportance({ parameters: XS, trials: trialsOf((a) => 10 * a['x1']! + a['x2']!), seed: 1 });
  const p = byName(r);
  assert.deepEqual(r.parameters.map((q) => q.name), ['x1', 'x2', 'x3']);
  assert.ok(p['x1']!.importance > 0.95, JSON.stringify(r));
  assert.ok(p['x2']!.importance > 3 * p['x3']!.importance, JSON.stringify(r));
  assert.ok(p['x3']!.importance < 0.005, JSON.stringify(r));
  assert.ok(Math.abs(r.parameters.reduce((s, q) => s + q.importance, 0) - 1) < 1e-9);
  assert.ok(r.parameters.reduce((s, q) => s + q.mainEffect, 0) > 0.95, 'an additive function has no interactions');
  assert.equal(r.trials, 200);
});

test('interactions: x1·x2 makes both matter alike and x3 not; (x1−½)(x2−½) is nearly all interaction (small main effects)', () => {
  const product = byName(parameterImportance({ parameters: XS, trials: trialsOf((a) => a['x1']! * a['x2']!), seed: 1 }));
  assert.ok(Math.abs(product['x1']!.importance - product['x2']!.importance) < 0.1, JSON.stringify(product));
  assert.ok(product['x3']!.importance < 0.01, JSON.stringify(product));
  // Exact main effect of x1 in x1·x2 on the unit square: (1/48) / (7/144) = 3/7 of the variance.
  assert.ok(Math.abs(product['x1']!.mainEffect - 3 / 7) < 0.08, JSON.stringify(product));
  const saddle = parameterImportance({ parameters: XS, trials: trialsOf((a) => (a['x1']! - 0.5) * (a['x2']! - 0.5)), seed: 1 });
  const explained = saddle.parameters.reduce((s, q) => s + q.mainEffect, 0);
  assert.ok(explained < 0.35, `main effects explain ${explained} of a pure interaction`);
});

test('categorical, discrete, int and log parameters; deterministic for a seed; trials of another space left out', () => {
  const parameters: Parameter[] = [
    { name: 'opt', parameterType: 'categorical', list: ['sgd', 'adam', 'lion'] },
    { name: 'batch', parameterType: 'discrete', list: [16, 32, 64] },
    { name: 'layers', parameterType: 'int', min: 1, max: 8, distribution: 'uniform' },
    { name: 'lr', parameterType: 'double', min: 1e-4, max: 1, distribution: 'logUniform' },
  ];
  const rng = new Rng(3);
  const effect: Record<string, number> = { sgd: 0, adam: 5, lion: 1 };
  const trials: TrialView[] = Array.from({ length: 150 }, (_, i) => {
    const a = { opt: ['sgd', 'adam', 'lion'][rng.int(3)]!, batch: [16, 32, 64][rng.int(3)]!, layers: 1 + rng.int(8), lr: Math.exp(Math.log(1e-4) + rng.next() * Math.log(1e4)) };
    return { name: `t${i}`, state: 'SUCCEEDED', assignment: a, objectiveValue: effect[a.opt]! + 0.3 * a.layers + 0.01 * Math.log(a.lr) };
  });
  trials.push({ name: 'old', state: 'SUCCEEDED', assignment: { opt: 'rmsprop', batch: 16, layers: 1, lr: 0.1 }, objectiveValue: 1e6 });
  trials.push({ name: 'running', state: 'RUNNING', assignment: { opt: 'sgd', batch: 16, layers: 1, lr: 0.1 } });
  const r = parameterImportance({ parameters, trials, seed: 5 });
  assert.equal(r.trials, 150, 'the value outside the space and the active trial are left out');
  assert.deepEqual(r.parameters.map((p) => p.name).slice(0, 2), ['opt', 'layers'], JSON.stringify(r));
  assert.ok(byName(r)['batch']!.importance < 0.02, JSON.stringify(r));
  assert.deepEqual(parameterImportance({ parameters, trials, seed: 5 }), r, 'the same seed, the same forest');
  assert.notDeepEqual(parameterImportance({ parameters, trials, seed: 6 }), r, 'another seed, another forest');
  assert.deepEqual(parameterImportance({ parameters, trials: trials.slice(0, 1), seed: 5 }).parameters.map((p) => p.importance), [0, 0, 0, 0], 'nothing to learn from one trial');
});

const STUDY = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: imp}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random, algorithmSettings: [{name: random_state, value: "2"}]}
  parallelTrialCount: 1
  maxTrialCount: 40
  parameters:
    - {name: width, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
    - {name: opt, parameterType: categorical, feasibleSpace: {list: [sgd, adam]}}
    - {name: noise, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
`;

test('REST, gRPC, the TS client and sibyl importance (server and local store) give the same importances, most important first', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: STUDY })).status, 201);
    for (let i = 0; i < 40; i++) {
      const t = (await s.http('POST', '/api/v1/studies/imp/suggest', { count: 1, clientId: 'c' })).body.trials[0];
      const loss = 10 * Number(t.assignment.width) + (t.assignment.opt === 'adam' ? 3 : 0);
      assert.equal((await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'loss', value: loss }] })).status, 200);
    }
    const rest = await s.http('GET', '/api/v1/studies/imp/importance');
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal(rest.body.trials, 40);
    assert.deepEqual(rest.body.parameters.map((p: { name: string }) => p.name), ['width', 'opt', 'noise']);
    assert.ok(rest.body.parameters[0].importance > 0.6, JSON.stringify(rest.body));
    assert.deepEqual((await s.http('GET', '/api/v1/studies/imp/importance')).body, rest.body, 'deterministic');
    assert.equal((await s.http('GET', '/api/v1/studies/none/importance')).status, 404);

    const grpc = await call(s.client('Studies'), 'getParameterImportance', { study: 'imp' });
    assert.equal(grpc.trials, 40);
    assert.deepEqual(grpc.parameters.map((p: { name: string; importance: number; mainEffect: number }) => ({ name: p.name, importance: p.importance, mainEffect: p.mainEffect })), rest.body.parameters);

    assert.deepEqual(await new SibylClient(s.base).importance('imp'), rest.body);

    const cli = await runCli(['importance', 'imp', '--server', s.base]);
    assert.equal(cli.code, 0, cli.stderr);
    const rows = cli.stdout.split('\n').filter((l) => /^(width|opt|noise)\s/.test(l)).map((l) => l.split(/\s+/));
    assert.deepEqual(rows.map((r) => r[0]), ['width', 'opt', 'noise']);
    assert.equal(Number(rows[0]![1]), Number(rest.body.parameters[0].importance.toFixed(3)));
    assert.match(cli.stdout, /random forest of 40 completed trials/);
  } finally {
    await s.close();
  }
  // The same from the data directory, without a server.
  const local = await runCli(['importance', 'imp', '--data-dir', s.dataDir, '--json']);
  assert.equal(local.code, 0, local.stderr);
  assert.deepEqual(JSON.parse(local.stdout).parameters.map((p: { name: string }) => p.name), ['width', 'opt', 'noise']);
});
