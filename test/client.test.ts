// The TypeScript client (`import { SibylClient } from 'sibyl'`) against a real server on
// 127.0.0.1: every call, ask/tell under medianstop, its error classes, its retries and time
// limits, and the CLI's --server mode through it.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Static } from '@sinclair/typebox';
import {
  AlreadyExistsError, ConflictError, FailedPreconditionError, InvalidArgumentError, NotFoundError, SibylClient, SibylError,
  UnauthenticatedError, UnavailableError, type StudyEvent,
} from 'sibyl';
import type { StudySchema, TrialSchema } from '../src/service/shapes.js';
import { runCli } from './support/cli.js';
import { startTestServer } from './support/server.js';
import { tempDir } from './support/study.js';

const askTellDoc = (name: string, max = 3) => ({
  apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
  spec: {
    objective: { type: 'maximize', objectiveMetricName: 'accuracy', additionalMetricNames: ['loss'] },
    algorithm: { algorithmName: 'grid' },
    parallelTrialCount: 2, maxTrialCount: max,
    parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: String(max) } }],
  },
});

const yamlStudy = (name: string) => `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ${name}}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  maxTrialCount: 5
  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}]
`;

/** Whatever `fn` throws, for assertions on its class and fields. */
async function thrown(fn: () => Promise<unknown>): Promise<SibylError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof SibylError, `expected a SibylError, got ${String(err)}`);
    return err;
  }
  throw new Error('expected the call to fail');
}

test('client: every study and trial call, typed as the server\'s own schemas', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    const client = new SibylClient(s.base);
    const study = await client.createStudy(askTellDoc('calls'), { runtime: 'external' });
    const shape: Static<typeof StudySchema> = study.data; // the compiler holds the client to the schema
    assert.deepEqual([shape.name, shape.runtime, shape.maxTrialCount], ['calls', 'external', 3]);
    assert.ok(shape.state === 'CREATED' || shape.state === 'RUNNING');
    assert.equal((await client.createStudy(askTellDoc('calls'))).data.createdAt, study.data.createdAt, 'create is idempotent by name');
    const fromYaml = await client.createStudy(yamlStudy('from-yaml'));
    assert.deepEqual([fromYaml.data.objective.type, fromYaml.data.objective.metric, fromYaml.data.algorithm], ['minimize', 'loss', 'random']);

    const first = await client.listStudies({ pageSize: 1 });
    assert.equal(first.studies.length, 1);
    assert.notEqual(first.nextPageToken, '');
    const second = await client.listStudies({ pageSize: 1, pageToken: first.nextPageToken });
    assert.deepEqual([first.studies[0]!.name, second.studies[0]!.name].sort(), ['calls', 'from-yaml']);
    assert.deepEqual((await client.allStudies()).map((x) => x.name).sort(), ['calls', 'from-yaml']);
    assert.equal((await client.getStudy('calls')).data.parallelTrialCount, 2);

    // ask/tell: the assignment, a report, its observations, a heartbeat, should-stop, tell.
    const a = (await study.ask())!;
    const trialShape: Static<typeof TrialSchema> = a.data;
    assert.deepEqual([trialShape.study, a.state, a.assignment], ['calls', 'RUNNING', { x: 1 }]);
    assert.equal(a.data.clientId, study.clientId);
    assert.equal(await a.report('accuracy', 0.5, 1), 1);
    assert.equal(await a.report({ accuracy: 0.6, loss: 0.4 }, 2), 2);
    assert.deepEqual((await a.observations()).map((o) => [o.metric, o.step, o.value]), [['accuracy', 1, 0.5], ['accuracy', 2, 0.6], ['loss', 2, 0.4]]);
    assert.equal((await a.heartbeat()).state, 'RUNNING');
    assert.equal(await a.shouldStop(), false);
    assert.equal((await study.ask())!.name, a.name, 'the handle gets its unfinished trial back first');
    await a.tell({ accuracy: 0.7 });
    assert.deepEqual([a.state, a.data.objectiveValue, a.told], ['SUCCEEDED', 0.7, true]);
    assert.equal(await a.shouldStop(), true, 'an ended trial should stop');

    const b = (await study.ask())!;
    assert.deepEqual(b.assignment, { x: 2 });
    await study.tell(b, { infeasible: true, reason: 'diverged' });
    assert.deepEqual([b.state, b.data.reason, b.data.message], ['FAILED', 'Infeasible', 'diverged']);

    // Trials: pages, filters, one trial, the best, a log tail (none for a trial run elsewhere), stop.
    const c = (await study.ask())!;
    const page = await client.listTrials('calls', { pageSize: 2 });
    assert.deepEqual(page.trials.map((t) => t.name), [a.name, b.name]);
    assert.deepEqual((await client.listTrials('calls', { pageToken: page.nextPageToken })).trials.map((t) => t.name), [c.name]);
    assert.deepEqual((await study.trials({ state: 'FAILED' })).map((t) => t.name), [b.name]);
    assert.deepEqual((await client.allTrials('calls', { afterId: 1 })).map((t) => t.name), [b.name, c.name]);
    assert.equal((await client.getTrial(c.name)).state, 'RUNNING');
    assert.equal((await study.bestTrial())!.name, a.name);
    assert.equal(await client.bestTrial('from-yaml'), null);
    assert.deepEqual(await c.logTail(), { lines: [], size: 0 });
    assert.equal((await c.stop()).state, 'KILLED');

    // Budget, stop, delete.
    assert.equal((await study.setBudget({ maxTrialCount: 4, parallelTrialCount: 1 })).data.maxTrialCount, 4);
    assert.equal((await study.stop()).state, 'STOPPED');
    assert.equal(study.ended, true);
    assert.equal(await study.ask(), null, 'an ended study has nothing to ask for');
    await fromYaml.delete();
    await thrown(() => client.getStudy('from-yaml')).then((e) => assert.ok(e instanceof NotFoundError));
  } finally {
    await s.close();
  }
});

test('client: a local study\'s log tail and its events as an async iterator, to the study\'s end and the stream\'s end on delete', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    const client = new SibylClient(s.base);
    const doc = {
      ...askTellDoc('watched', 2),
      spec: { ...askTellDoc('watched', 2).spec, trialTemplate: { trialParameters: [{ name: 'x', reference: 'x' }], command: ['sh', '-c', 'sleep 0.3; echo "line one"; echo accuracy=0.${trialParameters.x}'] } },
    };
    const watched: StudyEvent[] = [];
    const study = await client.createStudy(doc);
    for await (const e of client.watchStudy('watched')) {
      watched.push(e);
      if (e.type === 'study' && e.study.state === 'SUCCEEDED') break; // leaving the loop closes the stream
    }
    assert.equal(watched[0]!.type, 'study', 'the study as it is comes first');
    const ends = watched.flatMap((e) => (e.type === 'trial' && e.trial.state === 'SUCCEEDED' ? [[e.trial.name, e.trial.objectiveValue]] : []));
    assert.deepEqual(ends.sort(), [['watched-0001', 0.1], ['watched-0002', 0.2]]);
    assert.equal(watched.at(-1)!.type === 'study' && (watched.at(-1) as { study: { reason: string } }).study.reason, 'MaxTrialsReached');

    const log = await client.logTail('watched-0002', 1);
    assert.deepEqual(log.lines, ['accuracy=0.2']);
    assert.ok(log.size > 'line one\naccuracy=0.2\n'.length - 1);

    // A stream that is left open ends by itself when its study is deleted.
    const stream = study.watch();
    const firstEvent = await stream.next();
    assert.equal(!firstEvent.done && firstEvent.value.type, 'study');
    const rest = (async () => {
      let n = 0;
      for await (const _ of stream) n++;
      return n;
    })();
    await study.delete();
    assert.equal(typeof (await rest), 'number');

    // An unknown study's stream fails at once, before any event.
    const e = await thrown(async () => {
      for await (const _ of client.watchStudy('nope')) break;
    });
    assert.ok(e instanceof NotFoundError);
    // The caller's signal ends a stream quietly.
    await client.createStudy(askTellDoc('quiet'), { runtime: 'external' });
    const abort = new AbortController();
    const got: StudyEvent[] = [];
    for await (const ev of client.watchStudy('quiet', { signal: abort.signal })) {
      got.push(ev);
      abort.abort();
    }
    assert.equal(got.length, 1);
  } finally {
    await s.close();
  }
});

test('client ask/tell under medianstop: trials below the median by step 4 are told to stop there and end EARLY_STOPPED', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    const client = new SibylClient(s.base);
    const qualities = ['0.9', '0.8', '0.7', '0.2', '0.85', '0.1'];
    const study = await client.createStudy({
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'es' },
      spec: {
        objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
        algorithm: { algorithmName: 'grid' },
        earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }] },
        parallelTrialCount: 1, maxTrialCount: qualities.length,
        parameters: [{ name: 'q', parameterType: 'categorical', feasibleSpace: { list: qualities } }],
      },
    }, { runtime: 'external' });
    const stoppedAt = new Map<string, number>();
    for (let trial = await study.ask(); trial; trial = await study.ask()) {
      for (let step = 1; step <= 8; step++) {
        await trial.report('accuracy', Number(trial.assignment['q']) * (1 - Math.exp(-step / 2)), step);
        if (await trial.shouldStop()) {
          stoppedAt.set(String(trial.assignment['q']), step);
          break;
        }
      }
      await trial.tell();
    }
    assert.deepEqual([...stoppedAt], [['0.2', 4], ['0.1', 4]]);
    await study.refresh();
    assert.deepEqual([study.state, study.data.reason, study.data.earlyStopping?.trialsStopped], ['SUCCEEDED', 'MaxTrialsReached', 2]);
    const trials = await study.trials();
    assert.deepEqual(trials.map((t) => [t.assignment['q'], t.state, t.data.stoppedAtStep]), [
      ['0.9', 'SUCCEEDED', null], ['0.8', 'SUCCEEDED', null], ['0.7', 'SUCCEEDED', null],
      ['0.2', 'EARLY_STOPPED', 4], ['0.85', 'SUCCEEDED', null], ['0.1', 'EARLY_STOPPED', 4],
    ]);
  } finally {
    await s.close();
  }
});

test('client errors: 400, 401, 404 and 409 as their classes with status, code, field and reason; none is sent twice', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external', token: 'sesame' });
  try {
    const anonymous = new SibylClient(s.base);
    const e401 = await thrown(() => anonymous.allStudies());
    assert.ok(e401 instanceof UnauthenticatedError);
    assert.deepEqual([e401.status, e401.code, e401.field, e401.attempts], [401, 'UNAUTHENTICATED', 'authorization', 1]);
    assert.equal(e401.reason, 'a valid "Authorization: Bearer <token>" header is required');

    const client = new SibylClient(s.base, { token: 'sesame' });
    const bad = askTellDoc('bad') as { spec: { objective: { type: string } } };
    bad.spec.objective.type = 'lowest';
    const e400 = await thrown(() => client.createStudy(bad));
    assert.ok(e400 instanceof InvalidArgumentError);
    assert.deepEqual([e400.status, e400.code, e400.field, e400.attempts], [400, 'INVALID_ARGUMENT', 'spec.spec.objective.type', 1]); // the body's `spec`, then the document's path
    assert.match(e400.reason, /must be one of minimize, maximize/);
    assert.equal(e400.message, `spec.spec.objective.type: ${e400.reason}`);
    assert.ok((await thrown(() => client.setBudget('nope', {}))) instanceof InvalidArgumentError, 'an empty budget is refused before the name is looked up');

    const e404 = await thrown(() => client.getTrial('no-such-trial'));
    assert.ok(e404 instanceof NotFoundError);
    assert.deepEqual([e404.status, e404.code, e404.field], [404, 'NOT_FOUND', 'name']);

    const study = await client.createStudy(askTellDoc('taken'), { runtime: 'external' });
    const e409 = await thrown(() => client.createStudy(askTellDoc('taken', 4)));
    assert.ok(e409 instanceof AlreadyExistsError && e409 instanceof ConflictError);
    assert.deepEqual([e409.status, e409.code, e409.field], [409, 'ALREADY_EXISTS', 'metadata.name']);
    const trial = (await study.ask())!;
    await trial.tell({ accuracy: 1 });
    const ended = await thrown(() => client.complete(trial.name, {}));
    assert.ok(ended instanceof FailedPreconditionError && ended instanceof ConflictError);
    assert.deepEqual([ended.status, ended.code, ended.attempts], [409, 'FAILED_PRECONDITION', 1]);
  } finally {
    await s.close();
  }
});

/** A stand-in for a server in trouble on 127.0.0.1: it answers each request as `answer` says, counting them. */
async function troubledServer(answer: (n: number, res: import('node:http').ServerResponse) => void): Promise<{ url: string; requests: () => number; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    answer(++n, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n, server };
}

const shaped = (res: import('node:http').ServerResponse, status: number, code: string, message: string) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message, field: null } }));

test('client retries 503 with backoff and gives up after its attempts; never retries a 4xx; a silent server hits the time limit', { timeout: 30_000 }, async () => {
  const busy = await troubledServer((n, res) => (n <= 2 ? shaped(res, 503, 'UNAVAILABLE', 'starting') : res.writeHead(200, { 'content-type': 'application/json' }).end('{"shouldStop":true}')));
  const refusing = await troubledServer((_n, res) => shaped(res, 404, 'NOT_FOUND', 'trial not found'));
  const alwaysBusy = await troubledServer((_n, res) => shaped(res, 503, 'UNAVAILABLE', 'starting'));
  const silent = await troubledServer(() => {}); // never answers
  try {
    const retry = { attempts: 3, baseMs: 10, maxMs: 50 };
    assert.equal(await new SibylClient(busy.url, { retry }).shouldStop('t'), true);
    assert.equal(busy.requests(), 3, 'two 503s, then the answer');

    const e404 = await thrown(() => new SibylClient(refusing.url, { retry }).shouldStop('t'));
    assert.ok(e404 instanceof NotFoundError);
    assert.equal(refusing.requests(), 1, 'a 4xx is never sent again');

    const e503 = await thrown(() => new SibylClient(alwaysBusy.url, { retry }).shouldStop('t'));
    assert.ok(e503 instanceof UnavailableError);
    assert.deepEqual([e503.status, e503.attempts, alwaysBusy.requests()], [503, 3, 3]);

    const started = Date.now();
    const timedOut = await thrown(() => new SibylClient(silent.url, { timeoutMs: 200, retry: { attempts: 2, baseMs: 10, maxMs: 10 } }).getStudy('s'));
    assert.ok(timedOut instanceof UnavailableError);
    assert.equal(timedOut.status, undefined);
    assert.match(timedOut.message, /GET \/studies\/s: no answer from http:\/\/127\.0\.0\.1:\d+\/api\/v1 after 2 attempts \(no answer within 200 ms\)/);
    assert.ok(Date.now() - started < 5000, 'the time limit held');
    assert.equal(silent.requests(), 2);
  } finally {
    for (const t of [busy, refusing, alwaysBusy, silent]) {
      t.server.closeAllConnections();
      t.server.close();
    }
  }
});

test('client retries through a server restarted mid-sequence: the calls in flight succeed on the new process, the trial goes on', { timeout: 60_000 }, async () => {
  const dataDir = `${tempDir()}/data`;
  let s = await startTestServer({ runtime: 'external', dataDir });
  const port = s.running.httpPort;
  try {
    const client = new SibylClient(s.base, { retry: { attempts: 30, baseMs: 50, maxMs: 400 } });
    const study = await client.createStudy(askTellDoc('restarted', 2), { runtime: 'external' });
    const trial = (await study.ask())!;
    await trial.report('accuracy', 0.1, 1);

    await s.close();
    // Sent while nothing listens: retried until the new server answers.
    const inFlight = [trial.report('accuracy', 0.2, 2), trial.shouldStop(), client.getStudy('restarted')];
    await new Promise((r) => setTimeout(r, 500));
    s = await startTestServer({ runtime: 'external', dataDir, httpPort: port });
    const [accepted, stop, again] = await Promise.all(inFlight);
    assert.deepEqual([accepted, stop, (again as { state: string }).state], [1, false, 'RUNNING']);

    await trial.tell({ accuracy: 0.3 });
    assert.equal(trial.state, 'SUCCEEDED');
    assert.deepEqual((await trial.observations()).map((o) => o.value), [0.1, 0.2, 0.3], 'nothing lost, nothing twice');
    const next = (await study.ask())!;
    await next.tell({ accuracy: 0.9 });
    assert.deepEqual([(await study.refresh()).state, study.data.trials.SUCCEEDED], ['SUCCEEDED', 2]);
  } finally {
    await s.close();
  }
});

test('the CLI\'s --server mode goes through the client: submit, studies, trials, best, the token, its refusals', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external', token: 'sesame' });
  try {
    const dir = tempDir();
    const file = `${dir}/cli.yaml`;
    (await import('node:fs')).writeFileSync(file, yamlStudy('cli-remote'));
    const env = { SIBYL_TOKEN: 'sesame' };
    const submitted = await runCli(['submit', file, '--server', s.base, '--runtime', 'external', '--json'], env);
    assert.equal(submitted.code, 0, submitted.stderr);
    assert.deepEqual([JSON.parse(submitted.stdout).name, JSON.parse(submitted.stdout).runtime], ['cli-remote', 'external']);

    const client = new SibylClient(s.base, { token: 'sesame' });
    const study = await client.getStudy('cli-remote');
    for (const loss of [0.5, 0.2]) await (await study.ask())!.tell({ loss });

    const studies = JSON.parse((await runCli(['studies', '--json', '--server', s.base], env)).stdout);
    assert.deepEqual(studies.map((x: { name: string }) => x.name), ['cli-remote']);
    const trials = JSON.parse((await runCli(['trials', 'cli-remote', '--json', '--server', s.base], env)).stdout);
    assert.deepEqual(trials.map((t: { objectiveValue: number }) => t.objectiveValue), [0.5, 0.2]);
    const best = await runCli(['best', 'cli-remote', '--server', s.base], env);
    assert.match(best.stdout, /Best trial cli-remote-0002: loss=0\.2/);

    const noToken = await runCli(['studies', '--server', s.base], { SIBYL_TOKEN: '' });
    assert.equal(noToken.code, 1);
    assert.equal(noToken.stderr, 'sibyl: authorization: a valid "Authorization: Bearer <token>" header is required\n');
    const missing = await runCli(['best', 'nope', '--server', s.base], env);
    assert.deepEqual([missing.code, missing.stderr], [2, 'sibyl: name: study "nope" not found\n']);
    const badRuntime = await runCli(['submit', file, '--server', s.base, '--runtime', 'moon'], env);
    assert.equal(badRuntime.code, 2);
    assert.match(badRuntime.stderr, /^sibyl: runtime: /);
    const badUrl = await runCli(['studies', '--server', 'not a url']);
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.stderr, /--server must be a URL such as http:\/\/127\.0\.0\.1:8080/);

    const closed = await troubledServer(() => {});
    const url = closed.url;
    await new Promise((r) => closed.server.close(r));
    const unreachable = await runCli(['studies', '--server', url]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^sibyl: GET \/studies: no answer from http:\/\/127\.0\.0\.1:\d+\/api\/v1 after 4 attempts \(.*ECONNREFUSED.*\)\n$/);
  } finally {
    await s.close();
  }
});

test('client runTrial: heartbeats keep a trial slower than heartbeatSeconds alive; returned metrics are told; a throw is told infeasible and rethrown', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    const client = new SibylClient(s.base);
    const study = await client.createStudy(askTellDoc('run-trial', 2), { runtime: 'external', heartbeatSeconds: 1 });
    const slow = await study.runTrial(async (trial) => {
      await new Promise((r) => setTimeout(r, 3000)); // three heartbeat deadlines, reporting nothing
      return { accuracy: Number(trial.assignment['x']) / 10 };
    });
    assert.deepEqual([slow!.state, slow!.data.objectiveValue], ['SUCCEEDED', 0.1], 'the beats kept it');
    await assert.rejects(study.runTrial(() => {
      throw new RangeError('loss is NaN');
    }), /loss is NaN/);
    const [, failed] = await study.trials();
    assert.deepEqual([failed!.state, failed!.data.reason, failed!.data.message], ['FAILED', 'Infeasible', 'RangeError: loss is NaN']);
    assert.equal(await study.runTrial(() => ({ accuracy: 1 })), null, 'the study has ended');
  } finally {
    await s.close();
  }
});
