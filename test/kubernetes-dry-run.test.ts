// A new study on the kubernetes runtime is checked by a dry run of its first trial's object
// (src/runtimes/kubernetes/dry-run.ts), through every way a study is made: the API, and the
// Experiment controller. Against the in-process fake API server, whose answers to the dry run are
// injected here: what a real API server answers for real templates is checked in
// test/kube-study.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../src/server/app.js';
import { startFakeKubeWithFile, type FakeKube, type Obj } from './support/fake-kube/index.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

const NS = 'team';
const JOBS = `/apis/batch/v1/namespaces/${NS}/jobs`;
let kube: FakeKube;
let server: RunningServer;
let experiments = '';
const logs: string[] = [];

before(async () => {
  const dir = tempDir();
  const fake = await startFakeKubeWithFile(dir);
  kube = fake.kube;
  experiments = kube.collectionKey('kubeflow.org', 'v1beta1', NS, 'experiments');
  server = await startServer({
    host: '127.0.0.1', grpcPort: 0, httpPort: 0, dataDir: join(dir, 'data'), runtime: 'kubernetes', kubeconfig: fake.kubeconfig,
    experiments: { namespaces: [NS], group: 'kubeflow.org', instance: 'test' }, log: (line) => logs.push(line),
  });
});

after(async () => {
  await server?.close();
  await kube?.close();
});

const study = (name: string): Obj => ({
  apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name, namespace: NS },
  spec: {
    objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
    algorithm: { algorithmName: 'grid' },
    parallelTrialCount: 1, maxTrialCount: 1, maxFailedTrialCount: 1,
    parameters: [
      { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.05', step: '0.02' } },
      { name: 'optimizer', parameterType: 'categorical', feasibleSpace: { list: ['sgd', 'adam'] } },
    ],
    trialTemplate: {
      primaryContainerName: 'trainer',
      trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'optimizer', reference: 'optimizer' }],
      trialSpec: {
        apiVersion: 'batch/v1', kind: 'Job',
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'trainer', image: 'unused', command: ['sh', '-c', 'echo "accuracy=$0"', '${trialParameters.lr}', '${trialParameters.optimizer}'] }] } } },
      },
    },
  },
});

async function create(doc: Obj): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: doc }),
  });
  return { status: res.status, body: await res.json() };
}

async function exists(name: string): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies/${name}`)).status === 200;
}

const dryRuns = (name: string) => kube.requests.filter((r) => r.method === 'POST' && r.path === JOBS && r.query.get('dryRun') === 'All' && r.body?.['metadata']?.['name'] === `${name}-0000`);

test('a study is refused when the API server refuses its first trial, naming the field; nothing is stored or created', async () => {
  const cases: { name: string; fault: Obj; field: string; message: RegExp }[] = [
    {
      name: 'invalid-field', field: 'spec.spec.trialTemplate.trialSpec.spec.template.spec.containers[0].image', message: /is invalid: Job\.batch "invalid-field-0000" is invalid: .*image: Required value/,
      fault: { status: 422, reason: 'Invalid', message: 'Job.batch "invalid-field-0000" is invalid: spec.template.spec.containers[0].image: Required value', details: { name: 'invalid-field-0000', group: 'batch', kind: 'Job', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers[0].image' }] } },
    },
    {
      name: 'undecodable', field: 'spec.spec.trialTemplate.trialSpec', message: /a Job of batch\/v1, with \{"lr":0\.01,"optimizer":"sgd"\}\) is invalid: Job in version "v1" cannot be handled/,
      fault: { status: 400, reason: 'BadRequest', message: 'Job in version "v1" cannot be handled as a Job: v1.Job.Spec: ReadString: expects " or n, but found 1' },
    },
    {
      name: 'no-namespace', field: 'spec.metadata.namespace', message: /namespace "team" does not exist in the cluster/,
      fault: { status: 404, reason: 'NotFound', message: 'namespaces "team" not found', details: { name: NS, kind: 'namespaces' } },
    },
    {
      name: 'not-served', field: 'spec.spec.trialTemplate.trialSpec.kind', message: /the cluster does not serve Job in batch\/v1 \(is its operator installed, with its CRD\?\): the server could not find the requested resource/,
      fault: { status: 404, reason: 'NotFound', message: 'the server could not find the requested resource', details: {} },
    },
    {
      name: 'forbidden', field: 'spec.spec.trialTemplate.trialSpec', message: /may not be created: jobs\.batch is forbidden: User "system:serviceaccount:sibyl:sibyl" cannot create resource "jobs"/,
      fault: { status: 403, reason: 'Forbidden', message: 'jobs.batch is forbidden: User "system:serviceaccount:sibyl:sibyl" cannot create resource "jobs" in API group "batch" in the namespace "team"', details: { group: 'batch', kind: 'jobs' } },
    },
  ];
  for (const c of cases) {
    kube.inject({ method: 'POST', path: JOBS, query: 'dryRun=All', count: 1, ...c.fault });
    const r = await create(study(c.name));
    assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.field, c.field, `${c.name}: ${r.body.error.message}`);
    assert.match(r.body.error.message, c.message, c.name);
    assert.equal(await exists(c.name), false, `${c.name}: no study stored`);
    assert.equal(dryRuns(c.name).length, 1, `${c.name}: one dry run`);
  }
  assert.equal(kube.pendingFaults, 0);
  assert.equal(kube.all('jobs').length, 0, 'no Job created');
});

test('a cluster that cannot judge the trial now (a full quota, a server error, no answer) does not refuse the study', async () => {
  const cases: { name: string; fault: Obj }[] = [
    { name: 'quota', fault: { status: 403, reason: 'Forbidden', message: 'jobs.batch "quota-0000" is forbidden: exceeded quota: compute, requested: cpu=1, used: cpu=4, limited: cpu=4' } },
    { name: 'server-error', fault: { status: 500 } },
    { name: 'no-answer', fault: { hang: true } },
  ];
  for (const c of cases) {
    kube.inject({ method: 'POST', path: JOBS, query: 'dryRun=All', count: 1, ...c.fault });
    const started = Date.now();
    const r = await create(study(c.name));
    assert.equal(r.status, 201, `${c.name}: ${JSON.stringify(r.body)}`);
    assert.ok(Date.now() - started < 10_000, `${c.name}: answered within the dry run's deadline and a little`);
    assert.ok(logs.some((l) => l.includes(`study ${c.name}: its trial object was not checked against the cluster`)), `${c.name}: logged:\n${logs.join('\n')}`);
    await until(`${c.name} ends`, 60_000, async () => {
      const s = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies/${c.name}`)).json()) as { state: string };
      return s.state === 'SUCCEEDED' ? s : undefined;
    });
  }
  assert.equal(kube.pendingFaults, 0);
});

test('the dry run sends the object the first trial is then created as', async () => {
  const name = 'same-object';
  const r = await create(study(name));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await until('the study ends', 60_000, async () => {
    const s = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies/${name}`)).json()) as { state: string };
    return s.state === 'SUCCEEDED' ? s : undefined;
  });
  const [dry] = dryRuns(name);
  const real = kube.requests.find((q) => q.method === 'POST' && q.path === JOBS && q.query.get('dryRun') === null && q.body?.['metadata']?.['name'] === `${name}-0001`);
  assert.ok(dry && real, 'a dry run, then the create');
  assert.ok(dry.time < real.time);
  // grid's first point is the space's first assignment: the two differ only by the trial's name.
  assert.deepEqual(JSON.parse(JSON.stringify(dry.body).replaceAll(`${name}-0000`, `${name}-0001`)), real.body);
  assert.deepEqual(dry.body?.['spec'].template.spec.containers[0].command.slice(3), ['0.01', 'sgd']);
});

test('an Experiment whose first trial the API server refuses fails ExperimentInvalid, with the field and the reason', async () => {
  // Every dry run of this study's trial is refused, as a real API server refuses the same object each time.
  kube.inject({
    method: 'POST', path: JOBS, query: 'dryRun=All', count: 1_000_000, body: (b) => b?.['metadata']?.['name'] === 'refused-0000', status: 422, reason: 'Invalid',
    message: 'Job.batch "refused-0000" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    details: { causes: [{ reason: 'FieldValueNotSupported', field: 'spec.template.spec.restartPolicy', message: 'Unsupported value: "Always"' }] },
  });
  kube.insert(experiments, { ...study('refused'), metadata: { name: 'refused', namespace: NS, generation: 1 } });
  const condition = await until('the Experiment fails', 30_000, () => {
    const conditions = (kube.get(experiments, 'refused')?.['status']?.conditions ?? []) as Obj[];
    return conditions.find((c) => c['type'] === 'Failed' && c['status'] === 'True');
  }, () => `${JSON.stringify(kube.get(experiments, 'refused'))}\n${logs.join('\n')}`);
  assert.equal(condition['reason'], 'ExperimentInvalid');
  assert.match(condition['message'], /^spec\.trialTemplate\.trialSpec\.spec\.template\.spec\.restartPolicy: the cluster refuses this study's trials: .*Unsupported value: "Always"/);
  // Reconciles after the refusal (its own status write's echo among them) refuse it again.
  await new Promise((r) => setTimeout(r, 2000));
  assert.ok(dryRuns('refused').length >= 1);
  assert.equal((kube.get(experiments, 'refused')?.['status']?.conditions as Obj[]).find((c) => c['type'] === 'Failed')?.['status'], 'True', 'still Failed');
  assert.equal(await exists('refused'), false, 'no study stored');
  assert.equal(kube.all('jobs').filter((j) => j['metadata'].name.startsWith('refused')).length, 0);
});

test('a repeated create of an existing study gets the study back without a second dry run; a different spec under its name is still checked first', async () => {
  const name = 'replayed';
  const first = await create(study(name));
  assert.equal(first.status, 201, JSON.stringify(first.body));
  assert.equal(dryRuns(name).length, 1);
  // The cluster would now refuse the trial: the replay gets the study all the same, as its first answer did.
  const pending = kube.pendingFaults; // the Experiment test's refusal stays, for its own study
  kube.inject({
    method: 'POST', path: JOBS, query: 'dryRun=All', count: 1, body: (b) => b?.['metadata']?.['name'] === `${name}-0000`, status: 422, reason: 'Invalid',
    message: `Job.batch "${name}-0000" is invalid: spec.template.spec.containers[0].image: Required value`,
    details: { causes: [{ reason: 'FieldValueRequired', field: 'spec.template.spec.containers[0].image', message: 'Required value' }] },
  });
  const replay = await create(study(name));
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  assert.equal(replay.body.name, name);
  assert.equal(dryRuns(name).length, 1, 'no second dry run');
  assert.equal(kube.pendingFaults, pending + 1);
  // A different spec under the name is checked before the name is found taken: the cluster's refusal comes first ...
  const changed = study(name);
  changed['spec'].maxTrialCount = 2;
  const refused = await create(changed);
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.equal(refused.body.error.field, 'spec.spec.trialTemplate.trialSpec.spec.template.spec.containers[0].image');
  assert.equal(dryRuns(name).length, 2);
  assert.equal(kube.pendingFaults, pending);
  // ... and with the cluster content, the name is.
  const taken = await create(changed);
  assert.equal(taken.status, 409, JSON.stringify(taken.body));
  assert.equal(taken.body.error.field, 'metadata.name');
});
