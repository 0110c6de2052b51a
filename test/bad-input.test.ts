// Malformed requests across REST and gRPC: each gets the right status and a message naming
// the field, and the server keeps answering health checks and normal requests afterwards.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { braninStudy } from './support/branin.js';
import { bearer, call, startTestServer, type TestServer } from './support/server.js';

interface RestCase {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly status: number;
  readonly code: string;
  readonly field?: string | RegExp;
}

interface GrpcCase {
  readonly name: string;
  readonly service: 'Studies' | 'Trials';
  readonly method: string;
  readonly request: unknown;
  readonly code: number;
  readonly details: RegExp;
}

const LOCAL_STUDY = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: local-one}
spec:
  objective: {type: maximize, objectiveMetricName: score}
  parallelTrialCount: 1
  maxTrialCount: 1
  parameters: [{name: x, parameterType: int, feasibleSpace: {min: "1", max: "2"}}]
  trialTemplate:
    trialParameters: [{name: x, reference: x}]
    command: [sh, -c, 'echo score=\${trialParameters.x}']
`;

async function setUp(s: TestServer): Promise<{ done: string; active: string }> {
  await s.http('POST', '/api/v1/studies', { specText: braninStudy('ok', 'random', 40) });
  await s.http('POST', '/api/v1/studies', { specText: LOCAL_STUDY, runtime: 'local' });
  const [done, active] = (await s.http('POST', '/api/v1/studies/ok/suggest', { clientId: 'c', count: 2 })).body.trials;
  await s.http('POST', `/api/v1/trials/${done.name}/complete`, { metrics: [{ metric: 'f', value: 1 }] });
  return { done: done.name, active: active.name };
}

function restCases(t: { done: string; active: string }): RestCase[] {
  const obs = (o: unknown) => ({ observations: [o] });
  return [
    { name: 'body is not JSON', method: 'POST', path: '/api/v1/studies', body: '{"specText": ', status: 400, code: 'INVALID_ARGUMENT', field: 'body' },
    { name: 'empty create', method: 'POST', path: '/api/v1/studies', body: {}, status: 400, code: 'INVALID_ARGUMENT', field: 'spec' },
    { name: 'both spec and specText', method: 'POST', path: '/api/v1/studies', body: { spec: {}, specText: 'a: 1' }, status: 400, code: 'INVALID_ARGUMENT', field: 'spec' },
    { name: 'specText of the wrong type', method: 'POST', path: '/api/v1/studies', body: { specText: 5 }, status: 400, code: 'INVALID_ARGUMENT', field: 'specText' },
    { name: 'unknown body field', method: 'POST', path: '/api/v1/studies', body: { specText: 'a: 1', colour: 'red' }, status: 400, code: 'INVALID_ARGUMENT', field: 'colour' },
    { name: 'specText that is not YAML', method: 'POST', path: '/api/v1/studies', body: { specText: 'a: [1, 2' }, status: 400, code: 'INVALID_ARGUMENT', field: 'specText' },
    { name: 'spec with min ≥ max', method: 'POST', path: '/api/v1/studies', body: { specText: braninStudy('bad').replace('max: "10"', 'max: "-6"') }, status: 400, code: 'INVALID_ARGUMENT', field: 'specText.spec.parameters[0].feasibleSpace.min' },
    { name: 'spec document missing objective', method: 'POST', path: '/api/v1/studies', body: { spec: { metadata: { name: 'x' }, spec: { parameters: [] } } }, status: 400, code: 'INVALID_ARGUMENT', field: /^spec\.spec\./ },
    { name: 'unknown runtime', method: 'POST', path: '/api/v1/studies', body: { specText: braninStudy('r'), runtime: 'cloud' }, status: 400, code: 'INVALID_ARGUMENT', field: 'runtime' },
    { name: 'local study with nothing to run', method: 'POST', path: '/api/v1/studies', body: { specText: braninStudy('nothing'), runtime: 'local' }, status: 400, code: 'INVALID_ARGUMENT', field: 'specText.spec.trialTemplate.command' },
    { name: 'oversized body', method: 'POST', path: '/api/v1/studies', body: { specText: `#${'x'.repeat(5 * 1024 * 1024)}` }, status: 413, code: 'RESOURCE_EXHAUSTED', field: 'body' },
    { name: 'a text/plain body instead of a JSON object', method: 'POST', path: '/api/v1/studies', body: 'specText=1', headers: { 'content-type': 'text/plain' }, status: 415, code: 'INVALID_ARGUMENT', field: 'content-type' },
    { name: 'an unsupported content type', method: 'POST', path: '/api/v1/studies', body: '<study/>', headers: { 'content-type': 'application/xml' }, status: 415, code: 'INVALID_ARGUMENT', field: 'content-type' },
    { name: 'pageSize 0', method: 'GET', path: '/api/v1/studies?pageSize=0', status: 400, code: 'INVALID_ARGUMENT', field: 'pageSize' },
    { name: 'pageSize too large', method: 'GET', path: '/api/v1/studies?pageSize=5000', status: 400, code: 'INVALID_ARGUMENT', field: 'pageSize' },
    { name: 'pageSize not a number', method: 'GET', path: '/api/v1/studies?pageSize=ten', status: 400, code: 'INVALID_ARGUMENT', field: 'pageSize' },
    { name: 'bad page token', method: 'GET', path: '/api/v1/studies?pageToken=garbage', status: 400, code: 'INVALID_ARGUMENT', field: 'pageToken' },
    { name: 'unknown query parameter', method: 'GET', path: '/api/v1/studies?sort=name', status: 400, code: 'INVALID_ARGUMENT', field: 'sort' },
    { name: 'unknown study', method: 'GET', path: '/api/v1/studies/nope', status: 404, code: 'NOT_FOUND', field: 'name' },
    { name: 'trials of an unknown study', method: 'GET', path: '/api/v1/studies/nope/trials', status: 404, code: 'NOT_FOUND', field: 'study' },
    { name: 'unknown trial state filter', method: 'GET', path: '/api/v1/studies/ok/trials?state=DONE', status: 400, code: 'INVALID_ARGUMENT', field: 'state' },
    { name: 'suggest without clientId', method: 'POST', path: '/api/v1/studies/ok/suggest', body: {}, status: 400, code: 'INVALID_ARGUMENT', field: 'clientId' },
    { name: 'suggest count 0', method: 'POST', path: '/api/v1/studies/ok/suggest', body: { clientId: 'a', count: 0 }, status: 400, code: 'INVALID_ARGUMENT', field: 'count' },
    { name: 'suggest count as text', method: 'POST', path: '/api/v1/studies/ok/suggest', body: { clientId: 'a', count: 'two' }, status: 400, code: 'INVALID_ARGUMENT', field: 'count' },
    { name: 'suggest on a local-runtime study', method: 'POST', path: '/api/v1/studies/local-one/suggest', body: { clientId: 'a' }, status: 409, code: 'FAILED_PRECONDITION', field: 'study' },
    { name: 'observations for an unknown trial', method: 'POST', path: '/api/v1/trials/nope/observations', body: obs({ metric: 'f', value: 1 }), status: 404, code: 'NOT_FOUND', field: 'trial' },
    { name: 'NaN metric (as text)', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: obs({ metric: 'f', value: 'NaN' }), status: 400, code: 'INVALID_ARGUMENT', field: 'observations[0].value' },
    { name: 'infinite metric (1e999)', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: '{"observations": [{"metric": "f", "value": 1e999}]}', status: 400, code: 'INVALID_ARGUMENT', field: 'observations[0].value' },
    { name: 'negative step', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: obs({ metric: 'f', value: 1, step: -1 }), status: 400, code: 'INVALID_ARGUMENT', field: 'observations[0].step' },
    { name: 'metric the study does not have', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: obs({ metric: 'accuracy', value: 1 }), status: 400, code: 'INVALID_ARGUMENT', field: 'observations[0].metric' },
    { name: 'bad observation time', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: obs({ metric: 'f', value: 1, time: 'yesterday' }), status: 400, code: 'INVALID_ARGUMENT', field: 'observations[0].time' },
    { name: 'observations not a list', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: { observations: { metric: 'f' } }, status: 400, code: 'INVALID_ARGUMENT', field: 'observations' },
    { name: 'too many observations', method: 'POST', path: `/api/v1/trials/${t.active}/observations`, body: { observations: Array.from({ length: 10_001 }, () => ({ metric: 'f', value: 1 })) }, status: 400, code: 'INVALID_ARGUMENT', field: 'observations' },
    { name: 'observations for a finished trial', method: 'POST', path: `/api/v1/trials/${t.done}/observations`, body: obs({ metric: 'f', value: 1 }), status: 409, code: 'FAILED_PRECONDITION', field: 'trial' },
    { name: 'completing a finished trial', method: 'POST', path: `/api/v1/trials/${t.done}/complete`, body: {}, status: 409, code: 'FAILED_PRECONDITION', field: 'trial' },
    { name: 'complete with infeasible as text', method: 'POST', path: `/api/v1/trials/${t.active}/complete`, body: { infeasible: 'yes' }, status: 400, code: 'INVALID_ARGUMENT', field: 'infeasible' },
    { name: 'stopping a finished trial', method: 'POST', path: `/api/v1/trials/${t.done}/stop`, status: 409, code: 'FAILED_PRECONDITION', field: 'name' },
    { name: 'empty budget change', method: 'PATCH', path: '/api/v1/studies/ok/budget', body: {}, status: 400, code: 'INVALID_ARGUMENT', field: 'body' },
    { name: 'maxTrialCount 0', method: 'PATCH', path: '/api/v1/studies/ok/budget', body: { maxTrialCount: 0 }, status: 400, code: 'INVALID_ARGUMENT', field: 'maxTrialCount' },
    { name: 'parallel above max', method: 'PATCH', path: '/api/v1/studies/ok/budget', body: { parallelTrialCount: 50 }, status: 400, code: 'INVALID_ARGUMENT', field: 'parallelTrialCount' },
    { name: 'unknown route', method: 'GET', path: '/api/v1/nothing', status: 404, code: 'NOT_FOUND' },
  ];
}

function grpcCases(t: { done: string; active: string }): GrpcCase[] {
  return [
    { name: 'CreateStudy without a spec', service: 'Studies', method: 'createStudy', request: {}, code: 3, details: /^spec: give exactly one/ },
    { name: 'CreateStudy with an invalid spec', service: 'Studies', method: 'createStudy', request: { specText: braninStudy('g').replace('type: minimize', 'type: lower') }, code: 3, details: /^specText\.spec\.objective\.type: must be one of minimize, maximize/ },
    { name: 'CreateStudy with an unknown runtime', service: 'Studies', method: 'createStudy', request: { specText: braninStudy('g'), runtime: 'moon' }, code: 3, details: /^runtime:/ },
    { name: 'GetStudy without a name', service: 'Studies', method: 'getStudy', request: {}, code: 3, details: /^name: is required/ },
    { name: 'GetStudy of an unknown study', service: 'Studies', method: 'getStudy', request: { name: 'nope' }, code: 5, details: /^name: study "nope" not found/ },
    { name: 'ListStudies with a negative page size', service: 'Studies', method: 'listStudies', request: { pageSize: -1 }, code: 3, details: /^pageSize:/ },
    { name: 'ListStudies with a bad page token', service: 'Studies', method: 'listStudies', request: { pageToken: '!!' }, code: 3, details: /^pageToken:/ },
    { name: 'UpdateStudyBudget with nothing to change', service: 'Studies', method: 'updateStudyBudget', request: { name: 'ok' }, code: 3, details: /^budget:/ },
    { name: 'UpdateStudyBudget with maxFailed > max', service: 'Studies', method: 'updateStudyBudget', request: { name: 'ok', maxFailedTrialCount: 41 }, code: 3, details: /^maxFailedTrialCount: must not exceed maxTrialCount/ },
    { name: 'StopStudy of an unknown study', service: 'Studies', method: 'stopStudy', request: { name: 'nope' }, code: 5, details: /^name:/ },
    { name: 'ListTrials with an unknown state', service: 'Trials', method: 'listTrials', request: { study: 'ok', state: 'DONE' }, code: 3, details: /^state:/ },
    { name: 'GetTrial of an unknown trial', service: 'Trials', method: 'getTrial', request: { name: 'ok-9999' }, code: 5, details: /^name: trial "ok-9999" not found/ },
    { name: 'SuggestTrials without a client id', service: 'Trials', method: 'suggestTrials', request: { study: 'ok', count: 1 }, code: 3, details: /^clientId: is required/ },
    { name: 'SuggestTrials count too large', service: 'Trials', method: 'suggestTrials', request: { study: 'ok', count: 1000, clientId: 'a' }, code: 3, details: /^count:/ },
    { name: 'ReportObservations with NaN', service: 'Trials', method: 'reportObservations', request: { trial: t.active, observations: [{ metric: 'f', value: NaN }] }, code: 3, details: /^observations\[0\]\.value: must be a finite number/ },
    { name: 'ReportObservations with Infinity', service: 'Trials', method: 'reportObservations', request: { trial: t.active, observations: [{ metric: 'f', value: 1 }, { metric: 'f', value: Infinity }] }, code: 3, details: /^observations\[1\]\.value/ },
    { name: 'ReportObservations with a negative step', service: 'Trials', method: 'reportObservations', request: { trial: t.active, observations: [{ metric: 'f', value: 1, step: -3 }] }, code: 3, details: /^observations\[0\]\.step: must be a whole number from 0 to/ },
    { name: 'CompleteTrial of a finished trial', service: 'Trials', method: 'completeTrial', request: { trial: t.done }, code: 9, details: /^trial: trial ".*" has already ended \(SUCCEEDED\)/ },
    { name: 'ShouldStopTrial without a trial', service: 'Trials', method: 'shouldStopTrial', request: {}, code: 3, details: /^trial: is required/ },
    { name: 'message above the size limit', service: 'Trials', method: 'reportObservations', request: { trial: t.active, observations: Array.from({ length: 200_000 }, () => ({ metric: 'ffffffffffffffffffff', value: 1, step: 1, time: '2026-11-28T00:00:00Z' })) }, code: 8, details: /./ },
  ];
}

async function stillServing(s: TestServer): Promise<void> {
  assert.equal((await s.http('GET', '/healthz')).status, 200);
  assert.deepEqual(await call(s.client('Health'), 'check', { service: '' }), { status: 'SERVING' });
  const ok = await s.http('GET', '/api/v1/studies/ok');
  assert.equal(ok.status, 200);
  assert.equal((await call(s.client('Studies'), 'getStudy', { name: 'ok' })).name, 'ok');
}

test('at least 40 malformed requests across REST and gRPC: right status, the field named, server unharmed', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    const trials = await setUp(s);
    const rest = restCases(trials);
    const grpcs = grpcCases(trials);
    assert.ok(rest.length + grpcs.length >= 40);
    const trialsBefore = JSON.stringify((await s.http('GET', '/api/v1/studies/ok/trials?pageSize=1000')).body.trials.map((t: { name: string; state: string; metrics: unknown }) => [t.name, t.state, t.metrics]));
    for (const c of rest) {
      const r = await s.http(c.method, c.path, c.body, c.headers);
      assert.equal(r.status, c.status, `${c.name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, c.code, c.name);
      assert.equal(typeof r.body.error.message, 'string');
      assert.doesNotMatch(r.body.error.message, /\n\s+at /, `${c.name}: no stack trace`);
      if (c.field instanceof RegExp) assert.match(r.body.error.field, c.field, c.name);
      else if (c.field !== undefined) assert.equal(r.body.error.field, c.field, `${c.name}: ${r.body.error.message}`);
      await stillServing(s);
    }
    for (const c of grpcs) {
      await assert.rejects(call(s.client(c.service), c.method, c.request), (err: { code: number; details: string }) => {
        assert.equal(err.code, c.code, `${c.name}: ${err.details}`);
        assert.match(err.details, c.details, c.name);
        return true;
      });
      await stillServing(s);
    }
    const trialsAfter = JSON.stringify((await s.http('GET', '/api/v1/studies/ok/trials?pageSize=1000')).body.trials.map((t: { name: string; state: string; metrics: unknown }) => [t.name, t.state, t.metrics]));
    assert.equal(trialsAfter, trialsBefore, 'no rejected request changed anything');
    const studies = (await s.http('GET', '/api/v1/studies')).body.studies.map((x: { name: string }) => x.name);
    assert.deepEqual(studies, ['ok', 'local-one'], 'no study was half-created');
  } finally {
    await s.close();
  }
});

test('with a token, every call but health needs it (REST and gRPC); a wrong token is refused', async () => {
  const s = await startTestServer({ token: 'correct horse battery staple' });
  try {
    assert.equal((await s.http('GET', '/healthz')).status, 200);
    const missing = await s.http('GET', '/api/v1/studies');
    assert.equal(missing.status, 401);
    assert.deepEqual(missing.body.error, { code: 'UNAUTHENTICATED', message: 'a valid "Authorization: Bearer <token>" header is required', field: 'authorization' });
    assert.equal((await s.http('GET', '/api/v1/studies', undefined, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await s.http('GET', '/api/v1/studies', undefined, { authorization: 'correct horse battery staple' })).status, 401, 'the Bearer scheme is required');
    assert.equal((await s.http('GET', '/api/v1/studies', undefined, { authorization: 'Bearer correct horse battery staple' })).status, 200);

    const studies = s.client('Studies');
    await assert.rejects(call(studies, 'listStudies', {}), { code: 16 });
    await assert.rejects(call(studies, 'listStudies', {}, bearer('wrong')), { code: 16 });
    assert.deepEqual((await call(studies, 'listStudies', {}, bearer('correct horse battery staple'))).studies ?? [], []);
    await assert.rejects(call(s.client('Suggestion'), 'getSuggestions', {}), { code: 16 });
    assert.deepEqual(await call(s.client('Health'), 'check', { service: 'manager.v1beta1.Suggestion' }), { status: 'SERVING' });
  } finally {
    await s.close();
  }
});
