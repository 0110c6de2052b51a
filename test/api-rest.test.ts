// The REST API against a real server on 127.0.0.1, with real HTTP requests.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { median, simulate } from '../bench/simulate.js';
import { branin } from '../bench/functions.js';
import { BRANIN_OPTIMUM, braninStudy, evaluateBranin } from './support/branin.js';
import { LIMITS } from '../src/model/limits.js';
import { SibylClient } from '../src/client/index.js';
import { startTestServer } from './support/server.js';

const randomMedianAt30 = median([1, 2, 3, 4, 5].map((seed) => simulate({ fn: branin, algorithm: 'random', budget: 30, seed }).regret[29]!));

test('REST: create is idempotent by name; a different spec under the name is 409', async () => {
  const s = await startTestServer();
  try {
    const first = await s.http('POST', '/api/v1/studies', { specText: braninStudy('idem', 'random') });
    assert.equal(first.status, 201);
    assert.equal(first.body.name, 'idem');
    assert.equal(first.body.runtime, 'external');
    const again = await s.http('POST', '/api/v1/studies', { specText: braninStudy('idem', 'random') });
    assert.equal(again.status, 200);
    assert.equal(again.body.createdAt, first.body.createdAt);
    const other = await s.http('POST', '/api/v1/studies', { specText: braninStudy('idem', 'random', 31) });
    assert.equal(other.status, 409);
    assert.deepEqual(other.body.error, { code: 'ALREADY_EXISTS', message: 'a different study named "idem" exists', field: 'metadata.name' });
    const list = await s.http('GET', '/api/v1/studies');
    assert.deepEqual(list.body.studies.map((x: { name: string }) => x.name), ['idem']);
  } finally {
    await s.close();
  }
});

test('REST: a trial\'s observations come a page at a time (10,000 by default), in recorded order; the clients follow the pages', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: braninStudy('many-obs', 'random') })).status, 201);
    const asked = await s.http('POST', '/api/v1/studies/many-obs/suggest', { count: 1, clientId: 'w' });
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
    const [trial] = asked.body.trials;
    const n = LIMITS.maxObservationPage + 2;
    // Reported in batches of the largest size a call takes; each value is its position.
    for (let from = 0; from < n; from += LIMITS.maxObservationBatch) {
      const batch = Array.from({ length: Math.min(LIMITS.maxObservationBatch, n - from) }, (_, i) => ({ metric: 'f', value: from + i, step: from + i + 1 }));
      assert.equal((await s.http('POST', `/api/v1/trials/${trial.name}/observations`, { observations: batch })).status, 200);
    }
    const url = `/api/v1/trials/${trial.name}/observations`;
    const first = await s.http('GET', url);
    assert.equal(first.status, 200);
    assert.equal(first.body.observations.length, LIMITS.maxObservationPage);
    assert.deepEqual(first.body.observations.slice(0, 2).map((o: { value: number; step: number }) => [o.value, o.step]), [[0, 1], [1, 2]]);
    assert.notEqual(first.body.nextPageToken, '');
    const rest = await s.http('GET', `${url}?pageToken=${first.body.nextPageToken}`);
    assert.deepEqual(rest.body.observations.map((o: { value: number }) => o.value), [n - 2, n - 1]);
    assert.equal(rest.body.nextPageToken, '', 'the last page says so');
    const small = await s.http('GET', `${url}?pageSize=3&pageToken=${first.body.nextPageToken}`);
    assert.deepEqual(small.body.observations.map((o: { value: number }) => o.value), [n - 2, n - 1]);
    // Bounds, named.
    const big = await s.http('GET', `${url}?pageSize=${LIMITS.maxObservationPage + 1}`);
    assert.equal(big.status, 400);
    assert.equal(big.body.error.field, 'pageSize');
    const forged = await s.http('GET', `${url}?pageToken=bm90LWEtdG9rZW4`);
    assert.equal(forged.status, 400);
    assert.equal(forged.body.error.field, 'pageToken');
    // The TypeScript client reads every page.
    const all = await new SibylClient(s.base).observations(trial.name);
    assert.equal(all.length, n);
    assert.ok(all.every((o, i) => o.value === i), 'in recorded order, none twice');
  } finally {
    await s.close();
  }
});

test('REST ask/tell: a client drives a 30-trial bayesianoptimization study on Branin below random search', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: braninStudy('rest-bo') })).status, 201);
    let best = Infinity;
    for (;;) {
      const asked = await s.http('POST', '/api/v1/studies/rest-bo/suggest', { count: 1, clientId: 'worker-1' });
      if (asked.status === 409) break; // the study has ended
      assert.equal(asked.status, 200, JSON.stringify(asked.body));
      if (asked.body.trials.length === 0) break;
      for (const trial of asked.body.trials) {
        const value = evaluateBranin(trial.assignment);
        best = Math.min(best, value);
        const obs = await s.http('POST', `/api/v1/trials/${trial.name}/observations`, { observations: [{ metric: 'f', value: value + 1, step: 1 }] });
        assert.equal(obs.status, 200);
        const done = await s.http('POST', `/api/v1/trials/${trial.name}/complete`, { metrics: [{ metric: 'f', value }] });
        assert.equal(done.status, 200, JSON.stringify(done.body));
        assert.equal(done.body.state, 'SUCCEEDED');
        assert.equal(done.body.objectiveValue, value, 'min strategy over the intermediate and final values');
      }
    }
    const study = await s.http('GET', '/api/v1/studies/rest-bo');
    assert.equal(study.body.state, 'SUCCEEDED');
    assert.equal(study.body.reason, 'MaxTrialsReached');
    assert.equal(study.body.trials.SUCCEEDED, 30);
    const regret = study.body.best.value - BRANIN_OPTIMUM;
    assert.ok(Math.abs(study.body.best.value - best) < 1e-9);
    assert.ok(regret < randomMedianAt30, `regret ${regret} vs random's median ${randomMedianAt30}`);
  } finally {
    await s.close();
  }
});

test('REST ask/tell: concurrent clients never receive the same trial; a client asking again gets its own first', async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('two-clients', 'random', 40) });
    const ask = (clientId: string, count: number) => s.http('POST', '/api/v1/studies/two-clients/suggest', { count, clientId });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => ask(`client-${i % 4}`, 3)));
    const owner = new Map<string, string>();
    for (const [i, r] of replies.entries()) {
      assert.equal(r.status, 200);
      for (const t of r.body.trials) {
        const prev = owner.get(t.name);
        assert.ok(prev === undefined || prev === `client-${i % 4}`, `${t.name} handed to ${prev} and client-${i % 4}`);
        owner.set(t.name, t.clientId);
        assert.equal(t.clientId, `client-${i % 4}`);
      }
    }
    assert.equal(owner.size, 12, 'each client holds its own 3 trials');
    const again = await ask('client-0', 3);
    assert.deepEqual(again.body.trials.map((t: { name: string }) => t.name).sort(), [...owner].filter(([, c]) => c === 'client-0').map(([n]) => n).sort());
  } finally {
    await s.close();
  }
});

test('REST: budget updates reopen a study that reached maxTrialCount; pages chain with tokens; stop and delete', async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('budget', 'random', 3) });
    for (let i = 0; i < 3; i += 1) {
      const [t] = (await s.http('POST', '/api/v1/studies/budget/suggest', { clientId: 'c' })).body.trials;
      await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'f', value: i }] });
    }
    const ended = await s.http('GET', '/api/v1/studies/budget');
    assert.equal(ended.body.state, 'SUCCEEDED');
    assert.equal(ended.body.reason, 'MaxTrialsReached');
    const tooSmall = await s.http('PATCH', '/api/v1/studies/budget/budget', { maxTrialCount: 3 });
    assert.equal(tooSmall.status, 409);
    assert.equal(tooSmall.body.error.field, 'maxTrialCount');
    const reopened = await s.http('PATCH', '/api/v1/studies/budget/budget', { maxTrialCount: 5, parallelTrialCount: 2 });
    assert.equal(reopened.status, 200);
    assert.equal(reopened.body.state, 'RUNNING');
    assert.equal(reopened.body.maxTrialCount, 5);
    assert.equal(reopened.body.parallelTrialCount, 2);
    const more = await s.http('POST', '/api/v1/studies/budget/suggest', { clientId: 'c', count: 5 });
    assert.equal(more.body.trials.length, 2, 'only the 2 trials the new budget allows');

    const seen: string[] = [];
    let token = '';
    do {
      const page = await s.http('GET', `/api/v1/studies/budget/trials?pageSize=2${token ? `&pageToken=${token}` : ''}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.trials.length <= 2);
      seen.push(...page.body.trials.map((t: { name: string }) => t.name));
      token = page.body.nextPageToken;
    } while (token);
    assert.deepEqual(seen, ['budget-0001', 'budget-0002', 'budget-0003', 'budget-0004', 'budget-0005']);
    const running = await s.http('GET', '/api/v1/studies/budget/trials?state=RUNNING');
    assert.deepEqual(running.body.trials.map((t: { name: string }) => t.name), ['budget-0004', 'budget-0005']);
    const since = await s.http('GET', '/api/v1/studies/budget/trials?afterId=3');
    assert.deepEqual(since.body.trials.map((t: { seq: number }) => t.seq), [4, 5]);

    const stopped = await s.http('POST', '/api/v1/studies/budget/stop');
    assert.equal(stopped.body.state, 'STOPPED');
    assert.equal(stopped.body.trials.KILLED, 2, 'its active trials were stopped');
    assert.equal((await s.http('DELETE', '/api/v1/studies/budget')).status, 204);
    assert.equal((await s.http('GET', '/api/v1/studies/budget')).status, 404);
    assert.equal((await s.http('GET', '/api/v1/trials/budget-0001')).status, 404);
  } finally {
    await s.close();
  }
});

test('REST: events stream as Server-Sent Events while a local study runs', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    const spec = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: sse}
spec:
  objective: {type: maximize, objectiveMetricName: score}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 1
  parameters: [{name: x, parameterType: int, feasibleSpace: {min: "1", max: "2"}}]
  trialTemplate:
    trialParameters: [{name: x, reference: x}]
    command: [sh, -c, 'sleep 0.3; echo score=\${trialParameters.x}']
`;
    const controller = new AbortController();
    // Subscribe before the study exists? No: 404. Create it, then watch at once.
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: spec })).status, 201);
    const res = await fetch(`${s.base}/api/v1/studies/sse/events`, { signal: controller.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!/"state":"SUCCEEDED","reason":"SearchSpaceExhausted"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
    }
    controller.abort();
    const events = text.split('\n\n').filter((b) => b.includes('data: ')).map((b) => ({
      type: /event: (\w+)/.exec(b)![1],
      data: JSON.parse(b.slice(b.indexOf('data: ') + 6)),
    }));
    assert.equal(events[0]!.type, 'study');
    const states = (name: string) => events.filter((e) => e.type === 'trial' && e.data.name === name).map((e) => e.data.state);
    assert.deepEqual(states('sse-0002').filter((st, i, a) => a.indexOf(st) === i), ['CREATED', 'RUNNING', 'SUCCEEDED']);
    assert.equal(events.at(-1)!.data.state, 'SUCCEEDED');
  } finally {
    await s.close();
  }
});

test('REST: the OpenAPI document lists every route and /docs serves the docs page from the package', async () => {
  const s = await startTestServer();
  try {
    const doc = await s.http('GET', '/openapi.json');
    assert.equal(doc.status, 200);
    const paths = Object.keys(doc.body.paths);
    for (const p of ['/api/v1/studies', '/api/v1/studies/{name}', '/api/v1/studies/{name}/trials', '/api/v1/studies/{name}/suggest',
      '/api/v1/studies/{name}/budget', '/api/v1/studies/{name}/events', '/api/v1/trials/{name}/observations', '/api/v1/trials/{name}/complete']) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    }
    assert.ok(doc.body.paths['/api/v1/trials/{name}/observations'].post.requestBody);
    const page = await fetch(`${s.base}/docs/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger/i);
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)[\w.-]+\/.*\.js/, 'no script from another host');
  } finally {
    await s.close();
  }
});

test('REST ask/tell: infeasible outcomes fail the trial with the reason; stopped trials tell their client to stop', async () => {
  const s = await startTestServer();
  try {
    await s.http('POST', '/api/v1/studies', { specText: braninStudy('outcomes', 'random', 10) });
    const [a, b] = (await s.http('POST', '/api/v1/studies/outcomes/suggest', { clientId: 'w', count: 2 })).body.trials;
    assert.deepEqual((await s.http('GET', `/api/v1/trials/${a.name}/should-stop`)).body, { shouldStop: false });
    const infeasible = await s.http('POST', `/api/v1/trials/${a.name}/complete`, { infeasible: true, reason: 'diverged: loss is NaN' });
    assert.equal(infeasible.status, 200);
    assert.equal(infeasible.body.state, 'FAILED');
    assert.equal(infeasible.body.reason, 'Infeasible');
    assert.equal(infeasible.body.message, 'diverged: loss is NaN');
    const stopped = await s.http('POST', `/api/v1/trials/${b.name}/stop`);
    assert.equal(stopped.status, 200);
    assert.equal(stopped.body.state, 'KILLED');
    assert.deepEqual((await s.http('GET', `/api/v1/trials/${b.name}/should-stop`)).body, { shouldStop: true });
    const study = (await s.http('GET', '/api/v1/studies/outcomes')).body;
    assert.equal(study.trials.FAILED, 1);
    assert.equal(study.trials.KILLED, 1);
    assert.equal(study.state, 'RUNNING');
  } finally {
    await s.close();
  }
});
