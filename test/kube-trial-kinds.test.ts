// The cluster tier for trial kinds: on the real single-node cluster (real kubelet, real pods of
// sibyl/mlp-example:latest, the real batch Job controller), Sibyl's KubernetesRuntime in this
// process runs three studies through the real Scheduler and Store: a batch Job, a TrainJob and an
// Argo Workflow, each with a trial that trains and one that exits 2. The TrainJob and Argo
// controllers cannot be built here: test-side STAND-INS play them
// (test/support/{trainjob-controller,argo-workflow}-stand-in.ts) with real pods and real status
// updates. Trials are retained, so their pods' logs can be compared with what Sibyl recorded.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../src/runtimes/kubernetes/index.js';
import { planFor } from '../src/runtimes/kubernetes/render.js';
import { validateForKubernetes } from '../src/runtimes/kubernetes/validate.js';
import type { StudySpec } from '../src/spec/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { ArgoWorkflowControllerStandIn } from './support/argo-workflow-stand-in.js';
import { startCluster, type KubeCluster } from './support/kube-cluster.js';
import type { WorkloadControllerStandIn } from './support/stand-ins/cluster-controller.js';
import { harness, runToEnd, tempDir } from './support/study.js';
import { TrainJobControllerStandIn } from './support/trainjob-controller-stand-in.js';
import { argoStudy, BAD_LAYERS, batchJobStudy, EPOCHS, GOOD_LAYERS, metricsInLog, trainJobStudy } from './support/trial-kinds.js';

const NS = 'trial-kinds';
let cluster: KubeCluster;
let kc: KubeConfig;
const standIns: WorkloadControllerStandIn[] = [];

before(async () => {
  cluster = await startCluster();
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  const r = cluster.kubectl(['create', 'namespace', NS]);
  if (r.status !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(`kubectl create namespace: ${r.stderr}`);
}, { timeout: 40 * 60_000 });

after(async () => {
  for (const s of standIns) await s.stop();
  cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  await cluster?.stop();
});

const retained = (spec: StudySpec): StudySpec => ({ ...spec, trialTemplate: { ...spec.trialTemplate, retain: true } });

async function runStudy(spec: StudySpec): Promise<{ store: SqliteStore; studyId: number; logs: string[] }> {
  validateForKubernetes(spec);
  const h = harness(tempDir(), {
    runtime: (listener, { dataDir, log }) => new KubernetesRuntime({ kubeConfig: kc, listener, log, logDir: join(dataDir, 'logs'), podPollMs: 500, pendingTimeoutMs: 180_000 }),
  });
  try {
    const { study } = await runToEnd(h, spec);
    assert.deepEqual(h.errors, []);
    return { store: h.store, studyId: study.id, logs: h.logs };
  } finally {
    await h.scheduler.close();
  }
}

/** The primary pod's log as the kubelet keeps it: through the API, by the plan's selector and container. */
function primaryLog(spec: StudySpec, trialName: string): string {
  const plan = planFor(spec.trialTemplate);
  const r = cluster.kubectl(['-n', NS, 'logs', '-l', plan.podSelector(trialName), '-c', plan.container!, '--tail=-1']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function check(spec: StudySpec, failure: { reason: RegExp; message: RegExp }): Promise<void> {
  const { store, studyId, logs } = await runStudy(spec);
  try {
    const trials = await store.listTrials(studyId);
    assert.equal(trials.length, 2);
    const good = trials.find((t) => Number(t.assignment['hidden_layers']) === GOOD_LAYERS)!;
    const bad = trials.find((t) => Number(t.assignment['hidden_layers']) === BAD_LAYERS)!;
    assert.equal(good.state, 'SUCCEEDED', `${good.reason} ${good.message}\n${logs.slice(-30).join('\n')}`);
    assert.equal(bad.state, 'FAILED', `${bad.reason} ${bad.message}`);
    assert.match(bad.reason ?? '', failure.reason, bad.message ?? '');
    assert.match(bad.message ?? '', failure.message);
    const accuracy = metricsInLog(primaryLog(spec, good.name), 'accuracy');
    assert.equal(accuracy.length, EPOCHS, 'the primary pod trained every epoch');
    assert.deepEqual(await store.metricValues(good.id, 'accuracy'), accuracy, 'Sibyl recorded the primary pod\'s metrics, each once');
    assert.equal(good.objectiveValue, accuracy.at(-1));
  } finally {
    await store.close();
  }
}

test('a batch Job study on the real cluster: the Job controller\'s Complete and Failed conditions end its trials', { timeout: 10 * 60_000 }, async () => {
  await check(retained(batchJobStudy(NS)), { reason: /^NonZeroExit$/, message: /container training: exit code 2/ });
});

test('a TrainJob study on the real cluster (TrainJob controller: a stand-in): node pods of a JobSet, container "node", Complete and Failed', { timeout: 10 * 60_000 }, async () => {
  const standIn = new TrainJobControllerStandIn(kc, NS);
  standIns.push(standIn);
  await standIn.install();
  standIn.start();
  const spec = retained(trainJobStudy(NS));
  await check(spec, { reason: /^(NonZeroExit|JobSetFailed)$/, message: /container node: exit code 2|1 node pod\(s\) failed/ });
  assert.deepEqual(standIn.errors, []);
  // Both nodes of the good trial trained; Sibyl read node 0's.
  const nodes = [...standIn.ended.values()].filter((p) => p.phase === 'Succeeded');
  assert.equal(nodes.length, 2);
});

test('an Argo Workflow study on the real cluster (Argo controller: a stand-in): the training pod after a preparing one, container "main" beside "wait", status.[@this] conditions', { timeout: 10 * 60_000 }, async () => {
  const standIn = new ArgoWorkflowControllerStandIn(kc, NS);
  standIns.push(standIn);
  await standIn.install();
  standIn.start();
  const spec = retained(argoStudy(NS, { 'katib.kubeflow.org/model-training': 'true' }));
  await check(spec, { reason: /^NonZeroExit$/, message: /container main: exit code 2/ });
  assert.deepEqual(standIn.errors, []);
  // The preparing pods ran first and printed their decoy line, which Sibyl did not take.
  const prepared = [...standIn.ended.values()].filter((p) => p.labels['katib.kubeflow.org/model-training'] === undefined);
  assert.equal(prepared.length, 2);
  for (const p of prepared) assert.match(p.logs['main'] ?? '', /accuracy=0\.000123/);
});
