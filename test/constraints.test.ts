// Outcome constraints (objective.constraints, "latency <= 20") end to end: the spec refuses bad
// constraints with the field named; a completing trial's feasibility and violation are recorded
// and shown (REST, gRPC, `sibyl trials`, `sibyl best`); an infeasible trial is never best and
// never reaches the goal. The algorithms' steering is in constraints-algorithms.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeConstraint, excess, feasibilityOf, feasibilityText } from '../src/model/constraints.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument } from '../src/spec/parse.js';
import { runCli } from './support/cli.js';
import { call, startTestServer } from './support/server.js';

type Doc = any;

const study = (objective: Doc = {}, name = 'latency-bound'): Doc => ({
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name },
  spec: {
    objective: {
      type: 'minimize', objectiveMetricName: 'loss', additionalMetricNames: ['latency', 'memory'],
      constraints: [{ metricName: 'latency', max: 20 }],
      ...objective,
    },
    algorithm: { algorithmName: 'random' },
    parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: 0, max: 1 } }],
  },
});

test('spec: constraints parse to bounds on additional metrics, and a study without them stays as it was', () => {
  const spec = parseStudyDocument(study({ constraints: [{ metricName: 'latency', max: '20' }, { metricName: 'memory', min: 1, max: 8 }] }));
  assert.deepEqual(spec.objective.constraints, [{ metricName: 'latency', max: 20 }, { metricName: 'memory', min: 1, max: 8 }]);
  assert.deepEqual(spec.objective.constraints?.map(describeConstraint), ['latency <= 20', '1 <= memory <= 8']);
  assert.deepEqual(parseStudyDocument(study({ constraints: [{ metricName: 'memory', min: -3 }] })).objective.constraints, [{ metricName: 'memory', min: -3 }]);
  const plain = parseStudyDocument(study({ constraints: undefined }));
  assert.equal('constraints' in plain.objective, false, 'no constraints key: the stored spec of an old study is unchanged');
  assert.equal('constraints' in parseStudyDocument(study({ constraints: [] })).objective, false);
});

test('spec: bad constraints are refused with the field and the reason', () => {
  const cases: [Doc, string, RegExp][] = [
    [{ constraints: [{ metricName: 'throughput', max: 1 }] }, 'spec.objective.constraints[0].metricName', /names no additional metric.*add "throughput" to objective.additionalMetricNames/],
    [{ constraints: [{ metricName: 'loss', max: 1 }] }, 'spec.objective.constraints[0].metricName', /must not be the objective metric "loss"/],
    [{ constraints: [{ metricName: 'latency', max: 20 }, { metricName: 'latency', min: 1 }] }, 'spec.objective.constraints[1].metricName', /duplicate constraint on "latency"/],
    [{ constraints: [{ metricName: 'latency' }] }, 'spec.objective.constraints[0]', /needs a bound: min, max or both/],
    [{ constraints: [{ metricName: 'latency', max: 'Infinity' }] }, 'spec.objective.constraints[0].max', /must be a finite number/],
    [{ constraints: [{ metricName: 'latency', min: Number.NaN }] }, 'spec.objective.constraints[0].min', /must be a finite number/],
    [{ constraints: [{ metricName: 'latency', min: 5, max: 4 }] }, 'spec.objective.constraints[0].min', /must be ≤ max \(got min 5, max 4\)/],
    [{ constraints: [{ metricName: 'latency', max: 1, below: 2 }] }, 'spec.objective.constraints[0].below', /unknown|not|allowed|field/i],
    [{ constraints: { metricName: 'latency', max: 1 } }, 'spec.objective.constraints', /list/],
    [{ constraints: Array.from({ length: 101 }, () => ({ metricName: 'latency', max: 1 })) }, 'spec.objective.constraints', /at most 100/],
  ];
  for (const [objective, field, reason] of cases) {
    assert.throws(() => parseStudyDocument(study(objective)), (err: Error) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.equal(err.field, field, JSON.stringify(objective).slice(0, 120));
      assert.match(err.reason, reason);
      return true;
    });
  }
});

test('feasibility: violations past each bound add up; a missing metric is infeasible with an unknown violation', () => {
  const constraints = [{ metricName: 'latency', max: 20 }, { metricName: 'memory', min: 1, max: 8 }] as const;
  const of = (values: Record<string, number>) => feasibilityOf(constraints, (m) => values[m]);
  assert.deepEqual(of({ latency: 20, memory: 1 }), { feasible: true, violation: 0 }, 'bounds are inclusive');
  assert.deepEqual(of({ latency: 25, memory: 8 }), { feasible: false, violation: 5 });
  assert.deepEqual(of({ latency: 25, memory: 0.5 }), { feasible: false, violation: 5.5 });
  assert.deepEqual(of({ latency: 10 }), { feasible: false }, 'memory never reported');
  assert.equal(excess({ metricName: 'm', min: 3 }, 1), 2);
  assert.deepEqual([feasibilityText(true, 0), feasibilityText(false, 5.5), feasibilityText(false, null), feasibilityText(null, null)], ['yes', 'no (+5.5)', 'no (metric missing)', '-']);
});

/** An ask/tell study whose goal only an infeasible trial reaches at first. */
const GOAL_STUDY = JSON.stringify(study({ goal: 0.5, additionalMetricNames: ['latency'], constraints: [{ metricName: 'latency', max: 20 }] }, 'goal-bound'))
  .replace('"parameters"', '"parallelTrialCount":1,"maxTrialCount":10,"parameters"');

test('REST, gRPC and the CLI: feasibility is recorded at completion; an infeasible trial is never best and does not reach the goal', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    const created = await s.http('POST', '/api/v1/studies', { specText: GOAL_STUDY });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.spec.objective.constraints, [{ metricName: 'latency', max: 20 }]);
    const tell = async (metrics: { metric: string; value: number }[]) => {
      const asked = await s.http('POST', '/api/v1/studies/goal-bound/suggest', { count: 1, clientId: 'w' });
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
      const name = asked.body.trials[0].name as string;
      const done = await s.http('POST', `/api/v1/trials/${name}/complete`, { metrics });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      return done.body;
    };
    const studyNow = async () => (await s.http('GET', '/api/v1/studies/goal-bound')).body;

    const first = await tell([{ metric: 'loss', value: 2 }, { metric: 'latency', value: 10 }]);
    assert.equal(first.state, 'SUCCEEDED');
    assert.equal(first.feasible, true);
    assert.equal(first.violation, 0);

    const fast = await tell([{ metric: 'loss', value: 0.1 }, { metric: 'latency', value: 30 }]); // below the goal, 10 past the bound
    assert.equal(fast.state, 'SUCCEEDED');
    assert.equal(fast.feasible, false);
    assert.equal(fast.violation, 10);
    let now = await studyNow();
    assert.equal(now.state, 'RUNNING', 'a goal reached only by an infeasible trial does not end the study');
    assert.equal(now.best.trial, first.name, 'the infeasible trial is not best');

    const silent = await tell([{ metric: 'loss', value: 0.2 }]); // latency never reported
    assert.equal(silent.feasible, false);
    assert.equal(silent.violation, null);
    assert.equal((await studyNow()).state, 'RUNNING');

    // The same shapes over gRPC.
    const grpcTrial = await call(s.client('Trials'), 'getTrial', { name: fast.name });
    assert.equal(grpcTrial.feasible, false);
    assert.equal(grpcTrial.violation, 10);
    const grpcFirst = await call(s.client('Trials'), 'getTrial', { name: first.name });
    assert.equal(grpcFirst.feasible, true);
    assert.equal(grpcFirst.violation, 0);
    const grpcStudy = await call(s.client('Studies'), 'getStudy', { name: 'goal-bound' });
    assert.equal(grpcStudy.best.trial, first.name);

    // `sibyl trials` shows a feasible column; `sibyl best` names the best feasible trial.
    const server = ['--server', s.base];
    const table = await runCli(['trials', 'goal-bound', ...server]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /\bfeasible\b/);
    const row = (name: string) => lines.find((l) => l.startsWith(name)) ?? '';
    assert.match(row(first.name), /\byes\b/);
    assert.match(row(fast.name), /no \(\+10\)/);
    assert.match(row(silent.name), /no \(metric missing\)/);
    const best = await runCli(['best', 'goal-bound', ...server]);
    assert.match(best.stdout, new RegExp(`Best trial ${first.name}: loss=2 `));

    // A feasible trial at the bound (inclusive) below the goal ends the study.
    const goal = await tell([{ metric: 'loss', value: 0.4 }, { metric: 'latency', value: 20 }]);
    assert.equal(goal.feasible, true);
    now = await studyNow();
    assert.equal(now.state, 'SUCCEEDED');
    assert.equal(now.reason, 'GoalReached');
    assert.equal(now.best.trial, goal.name);
    assert.equal(now.best.value, 0.4);
  } finally {
    await s.close();
  }
});

/** minimise (x − 0.8)² + (y − 0.8)² subject to x + y ≤ 1 (see constraints-algorithms.test.ts), as an ask/tell study. */
const steeringStudy = (name: string, constrained: boolean): Doc => ({
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name },
  spec: {
    objective: { type: 'minimize', objectiveMetricName: 'loss', additionalMetricNames: ['load'], ...(constrained ? { constraints: [{ metricName: 'load', max: 1 }] } : {}) },
    algorithm: { algorithmName: 'tpe', algorithmSettings: [{ name: 'n_startup_trials', value: '10' }, { name: 'random_state', value: '1' }] },
    parallelTrialCount: 1,
    maxTrialCount: 30,
    parameters: [
      { name: 'x', parameterType: 'double', feasibleSpace: { min: 0, max: 1 } },
      { name: 'y', parameterType: 'double', feasibleSpace: { min: 0, max: 1 } },
    ],
  },
});

test('through the service: the scheduler hands each trial\'s feasibility to the algorithm (tpe keeps to the feasible side), and the best is feasible', { timeout: 180_000 }, async () => {
  const s = await startTestServer();
  try {
    const drive = async (name: string, constrained: boolean) => {
      assert.equal((await s.http('POST', '/api/v1/studies', { spec: steeringStudy(name, constrained), runtime: 'external' })).status, 201);
      const loads: number[] = [];
      for (;;) {
        const asked = await s.http('POST', `/api/v1/studies/${name}/suggest`, { count: 1, clientId: 'w' });
        if (asked.status === 409 || asked.body.trials.length === 0) break;
        const t = asked.body.trials[0];
        const [x, y] = [t.assignment.x as number, t.assignment.y as number];
        loads.push(x + y);
        const done = await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'loss', value: (x - 0.8) ** 2 + (y - 0.8) ** 2 }, { metric: 'load', value: x + y }] });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.equal(done.body.feasible, constrained ? x + y <= 1 : null);
      }
      assert.equal(loads.length, 30);
      return { share: loads.slice(10).filter((l) => l <= 1).length / 20, study: (await s.http('GET', `/api/v1/studies/${name}`)).body };
    };
    const told = await drive('steer-told', true);
    const blind = await drive('steer-blind', false);
    assert.ok(told.share > 0.5, `feasible share after start-up ${told.share}`);
    assert.ok(told.share > blind.share + 0.3, `told ${told.share} vs without constraints ${blind.share}`);
    const best = (await s.http('GET', `/api/v1/trials/${told.study.best.trial}`)).body;
    assert.equal(best.feasible, true);
    assert.ok(told.study.best.value >= 0.18 - 1e-9 && told.study.best.value < 0.25, `best feasible ${told.study.best.value}`);
    assert.ok(blind.study.best.value < 0.18, `without constraints the best (${blind.study.best.value}) is past the bound, which is what the constrained study must not report`);
  } finally {
    await s.close();
  }
});
