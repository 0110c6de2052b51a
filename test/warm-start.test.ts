// Warm starts: enqueued assignments (spec, REST, gRPC, CLI) run first, in order, exactly once,
// within the budget; a study seeded from another learns from its completed trials.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseStudyText } from '../src/spec/parse.js';
import { SpecError } from '../src/spec/errors.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import type { SearchSpace, TrialView } from '../suggestion-algorithms/model.js';
import type { Store } from '../src/store/store.js';
import { runCli } from './support/cli.js';
import { call, startTestServer } from './support/server.js';
import { tempDir } from './support/study.js';

/** An ask/tell study over lr (double, ≤ 0.1, log), layers (int, step 2), opt (categorical). */
function study(name: string, extra = '', maxTrialCount = 6, algorithm = 'random'): string {
  return `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ${name}}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: ${algorithm}, algorithmSettings: [{name: random_state, value: "5"}]}
  parallelTrialCount: 1
  maxTrialCount: ${maxTrialCount}
  parameters:
    - {name: learning_rate, parameterType: double, feasibleSpace: {min: "0.001", max: "0.1", distribution: logUniform}}
    - {name: layers, parameterType: int, feasibleSpace: {min: "1", max: "7", step: "2"}}
    - {name: opt, parameterType: categorical, feasibleSpace: {list: [sgd, adam]}}
${extra}`;
}

function specError(text: string): { field: string; reason: string } {
  try {
    parseStudyText(text);
  } catch (err) {
    if (err instanceof SpecError) return { field: err.field, reason: err.reason };
    throw err;
  }
  assert.fail('the spec was accepted');
}

test('spec.enqueuedTrials: each assignment is checked against the space, the field named', () => {
  const ok = parseStudyText(study('ok', `  enqueuedTrials:
    - {learning_rate: 0.01, layers: 3, opt: adam}
    - {learning_rate: "0.1", layers: "7", opt: sgd}`));
  assert.deepEqual(ok.enqueuedTrials, [{ learning_rate: 0.01, layers: 3, opt: 'adam' }, { learning_rate: 0.1, layers: 7, opt: 'sgd' }]);
  const cases: [string, string, RegExp][] = [
    ['[{learning_rate: 0.01, layers: 3, opt: adam}, {learning_rate: 0.5, layers: 3, opt: adam}]', 'spec.enqueuedTrials[1].learning_rate', /^above max 0\.1 \(got 0\.5\)$/],
    ['[{learning_rate: 0.0001, layers: 3, opt: adam}]', 'spec.enqueuedTrials[0].learning_rate', /^below min 0\.001/],
    ['[{learning_rate: 0.01, layers: 4, opt: adam}]', 'spec.enqueuedTrials[0].layers', /not on the step 2 from min 1/],
    ['[{learning_rate: 0.01, layers: 2.5, opt: adam}]', 'spec.enqueuedTrials[0].layers', /must be an integer/],
    ['[{learning_rate: 0.01, layers: 3, opt: rmsprop}]', 'spec.enqueuedTrials[0].opt', /"rmsprop" is not in the list \("sgd", "adam"\)/],
    ['[{learning_rate: 0.01, opt: adam}]', 'spec.enqueuedTrials[0].layers', /is required/],
    ['[{learning_rate: 0.01, layers: 3, opt: adam, momentum: 0.9}]', 'spec.enqueuedTrials[0].momentum', /unknown field/],
    ['[{learning_rate: fast, layers: 3, opt: adam}]', 'spec.enqueuedTrials[0].learning_rate', /must be a finite number/],
    ['[[0.01, 3, adam]]', 'spec.enqueuedTrials[0]', /must be an object/],
    ['{learning_rate: 0.01}', 'spec.enqueuedTrials', /must be a list/],
  ];
  for (const [list, field, reason] of cases) {
    const got = specError(study('bad', `  enqueuedTrials: ${list}`));
    assert.equal(got.field, field, list);
    assert.match(got.reason, reason, list);
  }
  const tooMany = specError(study('many', `  enqueuedTrials: ${JSON.stringify(Array.from({ length: 7 }, () => ({ learning_rate: 0.01, layers: 3, opt: 'adam' })))}`));
  assert.deepEqual(tooMany, { field: 'spec.enqueuedTrials', reason: 'must not list more assignments than maxTrialCount (got 7 > 6)' });
  assert.deepEqual(specError(study('self', '  warmStart: {study: self}')), { field: 'spec.warmStart.study', reason: 'must name another study (a study cannot warm-start from itself)' });
  assert.equal(specError(study('w', '  warmStart: {name: x}')).field, 'spec.warmStart.name');
});

test('REST ask/tell: the spec\'s enqueued assignments come first, in order, then ones enqueued into the running study; each once, within maxTrialCount', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    const created = await s.http('POST', '/api/v1/studies', { specText: study('queue', `  enqueuedTrials:
    - {learning_rate: 0.01, layers: 3, opt: adam}
    - {learning_rate: 0.02, layers: 5, opt: sgd}`) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual((await s.http('GET', '/api/v1/studies/queue/enqueued')).body.enqueued, [
      { learning_rate: 0.01, layers: 3, opt: 'adam' }, { learning_rate: 0.02, layers: 5, opt: 'sgd' },
    ]);
    const ask = async (count: number) => {
      const r = await s.http('POST', '/api/v1/studies/queue/suggest', { count, clientId: 'c1' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      for (const t of r.body.trials) {
        const done = await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'loss', value: Number(t.assignment.learning_rate) }] });
        assert.equal(done.status, 200, JSON.stringify(done.body));
      }
      return r.body.trials.map((t: { assignment: unknown }) => t.assignment);
    };
    assert.deepEqual(await ask(1), [{ learning_rate: 0.01, layers: 3, opt: 'adam' }]);
    // Enqueued into the running study: after what waits already.
    const enq = await s.http('POST', '/api/v1/studies/queue/enqueue', { assignments: [{ learning_rate: 0.05, layers: 1, opt: 'adam' }] });
    assert.equal(enq.status, 200, JSON.stringify(enq.body));
    assert.deepEqual(enq.body.enqueued, [{ learning_rate: 0.02, layers: 5, opt: 'sgd' }, { learning_rate: 0.05, layers: 1, opt: 'adam' }]);
    const next = await ask(3);
    assert.deepEqual(next.slice(0, 2), [{ learning_rate: 0.02, layers: 5, opt: 'sgd' }, { learning_rate: 0.05, layers: 1, opt: 'adam' }]);
    assert.equal(next.length, 3, 'the algorithm fills the rest of the request');
    assert.deepEqual((await s.http('GET', '/api/v1/studies/queue/enqueued')).body.enqueued, []);

    // Bad input: refused with the field, nothing queued.
    const bad = await s.http('POST', '/api/v1/studies/queue/enqueue', { assignments: [{ learning_rate: 0.01, layers: 3, opt: 'adam' }, { learning_rate: 0.5, layers: 3, opt: 'adam' }] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error, { code: 'INVALID_ARGUMENT', message: 'above max 0.1 (got 0.5)', field: 'assignments[1].learning_rate' });
    // 4 trials so far of 6: three more do not fit.
    const over = await s.http('POST', '/api/v1/studies/queue/enqueue', { assignments: Array.from({ length: 3 }, () => ({ learning_rate: 0.01, layers: 3, opt: 'sgd' })) });
    assert.equal(over.status, 409, JSON.stringify(over.body));
    assert.equal(over.body.error.field, 'assignments');
    assert.match(over.body.error.message, /only 2 more trials fit in maxTrialCount 6/);
    assert.deepEqual((await s.http('GET', '/api/v1/studies/queue/enqueued')).body.enqueued, []);
    assert.equal((await s.http('POST', '/api/v1/studies/nope/enqueue', { assignments: [{}] })).status, 404);

    // Every assignment ran once: 6 trials, the enqueued ones exactly once each.
    await ask(2);
    const trials = (await s.http('GET', '/api/v1/studies/queue/trials')).body.trials as { assignment: Record<string, unknown>; state: string }[];
    assert.equal(trials.length, 6);
    for (const lr of [0.01, 0.02, 0.05]) assert.equal(trials.filter((t) => t.assignment['learning_rate'] === lr).length, 1, `lr ${lr}`);
    assert.equal((await s.http('GET', '/api/v1/studies/queue')).body.state, 'SUCCEEDED');
  } finally {
    await s.close();
  }
});

test('gRPC EnqueueTrials and ListEnqueuedTrials; a bad value is INVALID_ARGUMENT naming it', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    const studies = s.client('Studies');
    await call(studies, 'createStudy', { specText: study('grpcq'), runtime: 'external' });
    const reply = await call(studies, 'enqueueTrials', {
      study: 'grpcq',
      assignments: [{ values: [{ name: 'learning_rate', number: 0.03 }, { name: 'layers', number: 5 }, { name: 'opt', text: 'sgd' }] }],
    });
    assert.deepEqual(reply.enqueued.map((a: { values: { name: string; number?: number; text?: string }[] }) => Object.fromEntries(a.values.map((v) => [v.name, v.number ?? v.text]))),
      [{ learning_rate: 0.03, layers: 5, opt: 'sgd' }]);
    await assert.rejects(call(studies, 'enqueueTrials', { study: 'grpcq', assignments: [{ values: [{ name: 'learning_rate', number: 0.03 }, { name: 'layers', number: 5 }, { name: 'opt', text: 'lion' }] }] }),
      (err: { code: number; details: string }) => err.code === 3 && /assignments\[0\]\.opt: "lion" is not in the list/.test(err.details));
    const listed = await call(studies, 'listEnqueuedTrials', { study: 'grpcq' });
    assert.equal(listed.enqueued.length, 1, 'the refused call queued nothing');
    const trials = await call(s.client('Trials'), 'suggestTrials', { study: 'grpcq', count: 1, clientId: 'g' });
    assert.deepEqual(Object.fromEntries(trials.trials[0].assignment.map((v: { name: string; number?: number; text?: string }) => [v.name, v.number ?? v.text])), { learning_rate: 0.03, layers: 5, opt: 'sgd' });
  } finally {
    await s.close();
  }
});

test('CLI: sibyl enqueue <study> name=value … and --file', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: study('cliq') })).status, 201);
    const one = await runCli(['enqueue', 'cliq', 'learning_rate=0.01', 'layers=3', 'opt=adam', '--server', s.base]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /1 assignment queued in cliq \(1 waiting\)/);
    const file = join(tempDir(), 'more.yaml');
    writeFileSync(file, '- {learning_rate: 0.02, layers: 5, opt: sgd}\n- {learning_rate: 0.04, layers: 7, opt: adam}\n');
    const two = await runCli(['enqueue', 'cliq', '--file', file, '--server', s.base, '--json']);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(JSON.parse(two.stdout), [
      { learning_rate: 0.01, layers: 3, opt: 'adam' }, { learning_rate: 0.02, layers: 5, opt: 'sgd' }, { learning_rate: 0.04, layers: 7, opt: 'adam' },
    ]);
    const bad = await runCli(['enqueue', 'cliq', 'learning_rate=0.01', 'layers=4', 'opt=adam', '--server', s.base]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /assignments\[0\]\.layers: not on the step 2 from min 1/);
  } finally {
    await s.close();
  }
});

// ── seeding from another study ───────────────────────────────────────────

const SPACE: SearchSpace = {
  direction: 'minimize',
  parameters: [
    { name: 'x', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
    { name: 'y', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
  ],
};
const OPTIMUM = { x: 0.8, y: 0.2 };
const bowl = (a: { x: number; y: number }) => (a.x - OPTIMUM.x) ** 2 + (a.y - OPTIMUM.y) ** 2;
const distance = (a: Record<string, unknown>) => Math.hypot(Number(a['x']) - OPTIMUM.x, Number(a['y']) - OPTIMUM.y);

/** 40 random points of the bowl, as a prior study's completed trials. */
function priorTrials(): TrialView[] {
  const rng = new Rng(11);
  return Array.from({ length: 40 }, (_, i) => {
    const a = { x: rng.next(), y: rng.next() };
    return { name: `prior-${i}`, state: 'SUCCEEDED', assignment: a, objectiveValue: bowl(a) };
  });
}

for (const algorithm of ['bayesianoptimization', 'tpe', 'multivariate-tpe', 'cmaes']) {
  test(`${algorithm}: a warm-started study's first suggestions are near the prior best, a cold one's are not`, () => {
    const priors = priorTrials();
    const bestPrior = Math.min(...priors.map((p) => distance(p.assignment)));
    const ask = (warm: boolean) => getAlgorithm(algorithm)!.suggest({
      space: SPACE, trials: [], count: 4, seed: 3, settings: [], ...(warm ? { priorTrials: priors } : {}),
    }).assignments;
    const mean = (xs: readonly Record<string, unknown>[]) => xs.reduce((s, a) => s + distance(a), 0) / xs.length;
    const warm = mean(ask(true));
    const cold = mean(ask(false));
    assert.ok(warm < 0.2, `warm: mean distance to the optimum ${warm.toFixed(3)} (best prior ${bestPrior.toFixed(3)})`);
    assert.ok(warm < cold / 2, `warm ${warm.toFixed(3)} vs cold ${cold.toFixed(3)}`);
  });
}

test('spec.warmStart on a multi-objective study is refused with the field (priors carry one objective value)', () => {
  const multi = study('mo-warm', '  warmStart: {study: earlier}').replace(
    'objective: {type: minimize, objectiveMetricName: loss}',
    'objective: {objectives: [{type: minimize, objectiveMetricName: loss}, {type: maximize, objectiveMetricName: accuracy}]}',
  );
  const refused = specError(multi);
  assert.equal(refused.field, 'spec.warmStart');
  assert.match(refused.reason, /multi-objective/);
  assert.ok(parseStudyText(study('so-warm', '  warmStart: {study: earlier}')).warmStart, 'a single-objective study still takes it');
});

test('random and grid ignore prior trials', () => {
  for (const algorithm of ['random', 'grid']) {
    const space: SearchSpace = { direction: 'minimize', parameters: [{ name: 'x', parameterType: 'int', min: 1, max: 5, distribution: 'uniform' }, { name: 'y', parameterType: 'categorical', list: ['a', 'b'] }] };
    const base = { space, trials: [], count: 3, seed: 9, settings: [] };
    const prior: TrialView = { name: 'p', state: 'SUCCEEDED', assignment: { x: 1, y: 'a' }, objectiveValue: 0 };
    assert.deepEqual(getAlgorithm(algorithm)!.suggest({ ...base, priorTrials: [prior] }), getAlgorithm(algorithm)!.suggest(base), algorithm);
  }
});

test('spec.warmStart over REST: the prior study\'s completed trials in the new space become prior observations; a mismatch is refused with the field', { timeout: 90_000 }, async () => {
  const s = await startTestServer();
  try {
    // The prior study: a wider learning_rate range and an extra parameter.
    const prior = study('prior', '', 12).replace('max: "0.1", distribution: logUniform', 'max: "1", distribution: logUniform')
      .replace('    - {name: opt,', '    - {name: dropout, parameterType: double, feasibleSpace: {min: "0", max: "0.5"}}\n    - {name: opt,');
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: prior })).status, 201);
    const values: number[] = [];
    for (let i = 0; i < 12; i++) {
      const t = (await s.http('POST', '/api/v1/studies/prior/suggest', { count: 1, clientId: 'p' })).body.trials[0];
      const lr = Number(t.assignment.learning_rate);
      if (i === 11) {
        await s.http('POST', `/api/v1/trials/${t.name}/complete`, { infeasible: true, reason: 'diverged' });
        continue;
      }
      values.push(lr);
      assert.equal((await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'loss', value: lr }] })).status, 200);
    }
    const inside = values.filter((lr) => lr <= 0.1).length;
    assert.ok(inside > 0 && inside < values.length, `some prior learning rates lie outside the new range (${values.join(', ')})`);

    const warm = await s.http('POST', '/api/v1/studies', { specText: study('warm', '  warmStart: {study: prior}', 6, 'tpe') });
    assert.equal(warm.status, 201, JSON.stringify(warm.body));
    // What the study was created with (the service's store: no adapter shows prior observations).
    const store = (s.running.service as unknown as { store: Store }).store;
    const record = (await store.getStudyByName('warm'))!;
    const priors = await store.priorTrials(record.id);
    assert.equal(priors.length, inside, 'completed trials inside the new space, no others (nor the infeasible one)');
    for (const p of priors) {
      assert.deepEqual(Object.keys(p.assignment).sort(), ['layers', 'learning_rate', 'opt'], 'the extra parameter is left out');
      assert.equal(p.objectiveValue, p.assignment['learning_rate']);
    }
    // They are not the study's trials and use none of its budget.
    assert.equal((await s.http('GET', '/api/v1/studies/warm')).body.trials.SUCCEEDED, 0);

    const mismatch = await s.http('POST', '/api/v1/studies', { specText: study('warm2', '  warmStart: {study: prior}').replace('objectiveMetricName: loss', 'objectiveMetricName: acc') });
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.error.field, 'specText.spec.warmStart.study');
    assert.match(mismatch.body.error.message, /measures "loss", not this study's objective "acc"/);
    const retyped = await s.http('POST', '/api/v1/studies', { specText: study('warm3', '  warmStart: {study: prior}').replace('{name: layers, parameterType: int, feasibleSpace: {min: "1", max: "7", step: "2"}}', '{name: layers, parameterType: discrete, feasibleSpace: {list: [1, 3]}}') });
    assert.equal(retyped.status, 400);
    assert.match(retyped.body.error.message, /parameter "layers" is int in study "prior" but discrete here/);
    const missing = await s.http('POST', '/api/v1/studies', { specText: study('warm4', '  warmStart: {study: nowhere}') });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.error.field, 'specText.spec.warmStart.study');
  } finally {
    await s.close();
  }
});
