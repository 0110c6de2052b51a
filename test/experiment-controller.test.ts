// The Experiment controller (src/controller/) against the in-process fake API server, for what a
// real API server cannot be made to do on cue: answer a write late, after a user's edit landed.
// test/kube-experiments.test.ts covers the controller's cases against a real kube-apiserver.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../src/server/app.js';
import { startFakeKubeWithFile, type FakeKube, type Obj } from './support/fake-kube/index.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

const NS = 'team';
let kube: FakeKube;
let server: RunningServer;
let experiments = '';

before(async () => {
  const dir = tempDir();
  const fake = await startFakeKubeWithFile(dir);
  kube = fake.kube;
  const kubeconfig = fake.kubeconfig;
  experiments = kube.collectionKey('kubeflow.org', 'v1beta1', NS, 'experiments');
  server = await startServer({
    host: '127.0.0.1', grpcPort: 0, httpPort: 0, dataDir: join(dir, 'data'), runtime: 'kubernetes', kubeconfig,
    experiments: { namespaces: [NS], group: 'kubeflow.org', instance: 'test' }, log: () => {},
  });
});

after(async () => {
  await server?.close();
  await kube?.close();
});

const experiment = (name: string, maxTrialCount: number): Obj => ({
  apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name, namespace: NS, generation: 1 },
  spec: {
    objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
    algorithm: { algorithmName: 'grid' },
    parallelTrialCount: 1, maxTrialCount, maxFailedTrialCount: 1,
    parameters: [{ name: 'lr', parameterType: 'discrete', feasibleSpace: { list: ['0.1', '0.2', '0.3'] } }],
    trialTemplate: {
      primaryContainerName: 'trainer',
      trialParameters: [{ name: 'lr', reference: 'lr' }],
      trialSpec: {
        apiVersion: 'batch/v1', kind: 'Job',
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'trainer', image: 'unused', command: ['sh', '-c', 'echo "accuracy=$0"', '${trialParameters.lr}'] }] } } },
      },
    },
  },
});

const succeeded = (o: Obj | undefined) => (o?.['status']?.conditions as Obj[] | undefined)?.some((c) => c['type'] === 'Succeeded' && c['status'] === 'True') ?? false;

async function userPatch(name: string, patch: Obj): Promise<void> {
  const res = await fetch(`${kube.url}/apis/kubeflow.org/v1beta1/namespaces/${NS}/experiments/${name}`, {
    method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify(patch),
  });
  assert.equal(res.status, 200, await res.text());
}

test('a budget edit that lands while the status write ending the study is in flight is not lost: the study reopens for it', async () => {
  // The status write that marks the study Succeeded is answered 1.5 s late; the user's edit lands meanwhile.
  kube.inject({
    method: 'PATCH', path: `/experiments/budget/status`, count: 1, holdMs: 1500,
    body: (b) => (b?.['status']?.conditions as Obj[] | undefined)?.some((c) => c['type'] === 'Succeeded' && c['status'] === 'True') ?? false,
  });
  const writes = () => kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/experiments/budget/status')).length;
  kube.insert(experiments, experiment('budget', 1));
  await until('the study ends and its status write is held', 60_000, () => succeeded(kube.get(experiments, 'budget')) || undefined);
  const ending = kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/experiments/budget/status') && JSON.stringify(r.body).includes('"type":"Succeeded","status":"True"'));
  assert.equal(ending.length, 1, 'the write ending the study was made (and is the one held)');
  const before = writes();
  await userPatch('budget', { metadata: { generation: 2 }, spec: { maxTrialCount: 2 } });
  // The controller's answer (the object with maxTrialCount 1) arrives after the edit's watch event.
  await until('the held write is answered and the edit applied', 60_000, async () => {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies/budget`);
    const study = (await res.json()) as { maxTrialCount: number; trials: Record<string, number> };
    return study.maxTrialCount === 2 && study.trials['SUCCEEDED'] === 2 && succeeded(kube.get(experiments, 'budget')) ? study : undefined;
  });
  assert.ok(writes() > before, 'the reopened study wrote its status again');
  assert.equal(kube.get(experiments, 'budget')?.['status']?.trialsSucceeded, 2);
});

test("a watch that brings the controller's own writes back late does not undo them: each Experiment event is sent once", async () => {
  // Each write is answered before its watch event comes; the events of earlier writes then
  // arrive after later answers, and adopting them would make the controller write again.
  kube.watchLagMs = 300;
  try {
    kube.insert(experiments, experiment('plain', 1));
    await until('the study ends', 60_000, () => succeeded(kube.get(experiments, 'plain')) || undefined);
    // Every echo delivered, then the controller quiet for a second after the last one: an echo
    // adopted as newer than the controller's own write would have made it write again by then.
    await until('the controller is quiet after the last echo', 30_000, () => {
      const lastWrite = Math.max(0, ...kube.requests.filter((r) => r.method !== 'GET').map((r) => r.time));
      return kube.laggingEvents === 0 && Date.now() - Math.max(kube.lastLaggedDelivery, lastWrite) > 1000;
    });
  } finally {
    kube.watchLagMs = 0;
  }
  const events = kube.requests
    .filter((r) => r.method === 'POST' && r.path.endsWith('/events') && r.body?.['involvedObject']?.['name'] === 'plain')
    .map((r) => `${r.body?.['reason']}: ${r.body?.['message']}`);
  for (const reason of ['ExperimentCreated', 'ExperimentRunning', 'TrialRunning', 'ExperimentMaxTrialsReached', 'TrialSucceeded']) {
    assert.equal(events.filter((e) => e.startsWith(`${reason}:`)).length, 1, `${reason} once in:\n${events.join('\n')}`);
  }
  const statusWrites = kube.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/experiments/plain/status')).length;
  assert.ok(statusWrites <= 3, `${statusWrites} status writes: Created, Running, Succeeded at most`);
});
