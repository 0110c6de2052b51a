// pbt's checkpoint folders on a real cluster: `sibyl run --runtime kubernetes` in this process's
// child, with `--kube-checkpoint-claim` naming a real PersistentVolumeClaim (bound by the real
// controller manager to a hostPath PersistentVolume, ReadWriteMany, on the single node) and
// `--kube-checkpoint-dir` the same folder as this machine sees it. The trials are batch Jobs in
// the MLP example's image (uid 1000, as its Containerfile says): the real kubelet mounts each
// trial's folder `<study>/<trial>` of the claim at `suggestion_trial_dir`, the trainer resumes
// from the checkpoint found there, and a child trial's folder starts as a copy of its parent's.
// Then the same in a cluster: deploy/overlays/checkpoints/ (through the test overlay
// test/fixtures/kube-checkpoints/: the local image, hostPath volumes for its claims, the token)
// and an Experiment applied with kubectl, run by the in-cluster Sibyl as uid 1000.
import assert from 'node:assert/strict';
import { chownSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { SqliteStore } from '../src/store/sqlite.js';
import { GENERATION_LABEL, PARENT_LABEL } from '../suggestion-algorithms/pbt/index.js';
import { runCli, startCli } from './support/cli.js';
import { repoPath } from './support/kube-apiserver.js';
import { startCluster, WORK, type KubeCluster } from './support/kube-cluster.js';
import { kubectlOf, overlayToken, readySibylPods, sibylApi } from './support/sibyl-in-cluster.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

const NS = 'checkpoints';
const CLAIM = 'sibyl-checkpoints';
const VOLUME = `sibyl-checkpoints-${process.pid}`;
const HOST_DIR = join(WORK, 'volumes', VOLUME);
const TRAINER_UID = 1000;
let cluster: KubeCluster;

const must = (r: { status: number; stdout: string; stderr: string }, what: string) => {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
};

before(async () => {
  cluster = await startCluster();
  // The volume's folder, given to the user the trials run as (as an admin gives a hostPath or an NFS export).
  rmSync(HOST_DIR, { recursive: true, force: true });
  mkdirSync(HOST_DIR, { recursive: true });
  chownSync(HOST_DIR, TRAINER_UID, TRAINER_UID);
  must(cluster.kubectl(['create', 'namespace', NS]), 'create namespace');
  must(cluster.kubectl(['apply', '-f', '-'], [
    {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: VOLUME },
      spec: {
        capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: '',
        claimRef: { namespace: NS, name: CLAIM }, hostPath: { path: HOST_DIR, type: 'Directory' },
      },
    },
    {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: CLAIM, namespace: NS },
      spec: { accessModes: ['ReadWriteMany'], storageClassName: '', volumeName: VOLUME, resources: { requests: { storage: '1Gi' } } },
    },
  ].map((o) => `---\n${stringify(o)}`).join('')), 'apply the volume and its claim');
  await until('the claim is Bound', 60_000, () => cluster.kubectl(['-n', NS, 'get', 'pvc', CLAIM, '-o', 'jsonpath={.status.phase}']).stdout === 'Bound' || undefined,
    () => cluster.kubectl(['-n', NS, 'describe', 'pvc', CLAIM]).stdout);
}, { timeout: 40 * 60_000 });

after(async () => {
  cluster?.kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s']);
  cluster?.kubectl(['delete', 'pv', VOLUME, '--wait=false']);
  await cluster?.stop();
  rmSync(HOST_DIR, { recursive: true, force: true });
});

const EPOCHS = 4;
const POPULATION = 5;
const GENERATIONS = 2;

/** A pbt Experiment of Job trials in the MLP example's image, writing their checkpoints where Katib's simple-pbt.yaml does. */
function pbtExperiment(name: string, namespace: string, epochMs = 0) {
  return {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name, namespace },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'accuracy', metricStrategies: [{ name: 'accuracy', value: 'latest' }] },
      algorithm: {
        algorithmName: 'pbt',
        algorithmSettings: [
          { name: 'suggestion_trial_dir', value: '/var/log/katib/checkpoints/' },
          { name: 'n_population', value: String(POPULATION) }, { name: 'truncation_threshold', value: '0.4' }, { name: 'random_state', value: '7' },
        ],
      },
      parallelTrialCount: POPULATION, maxTrialCount: POPULATION * GENERATIONS, maxFailedTrialCount: 0, resumePolicy: 'FromVolume',
      parameters: [{ name: 'learning_rate', parameterType: 'double', feasibleSpace: { min: '0.01', max: '1.0', step: '0.01' } }],
      trialTemplate: {
        primaryContainerName: 'training-container',
        trialParameters: [{ name: 'learningRate', reference: 'learning_rate' }],
        trialSpec: {
          apiVersion: 'batch/v1', kind: 'Job',
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                restartPolicy: 'Never',
                containers: [{
                  name: 'training-container', image: 'sibyl/mlp-example:latest', imagePullPolicy: 'Never',
                  // Katib's simple-pbt.yaml passes the path the same way.
                  command: ['node', 'train.mjs', '--learning-rate=${trialParameters.learningRate}', `--epochs=${EPOCHS}`, `--epoch-ms=${epochMs}`, '--checkpoint=/var/log/katib/checkpoints/'],
                }],
              },
            },
          },
        },
      },
    },
  };
}

/** No Job is left in the test's namespace: each was deleted, and each delete has completed. */
const jobsGone = () => until('every Job is deleted', 120_000, () => must(cluster.kubectl(['-n', NS, 'get', 'jobs', '-o', 'name']), 'get jobs').trim() === '',
  () => must(cluster.kubectl(['-n', NS, 'get', 'jobs', '-o', 'yaml']), 'get jobs').slice(-2000));

/** Every trial of the study SUCCEEDED, each trained its epochs once, and each child went on from its parent's checkpoint, in the folder on the volume. */
async function checkStudy(dataDir: string, name: string): Promise<void> {
  const store = SqliteStore.open(dataDir);
  try {
    const study = (await store.listStudies()).find((s) => s.name === name)!;
    const trials = await store.listTrials(study.id);
    assert.equal(trials.length, POPULATION * GENERATIONS);
    const byName = new Map(trials.map((t) => [t.name, t]));
    const epochs = async (id: number) => (await store.observations(id)).filter((o) => o.metric === 'accuracy').map((o) => o.step);
    for (const t of trials) {
      assert.equal(t.state, 'SUCCEEDED', `${t.name}: ${t.reason}: ${t.message}`);
      const g = Number(t.labels?.[GENERATION_LABEL]);
      // What the trainer wrote in its pod, at the trial's folder of the volume, as uid 1000.
      const checkpointFile = join(HOST_DIR, name, t.name, 'checkpoint.json');
      const checkpoint = JSON.parse(readFileSync(checkpointFile, 'utf8')) as { epoch: number };
      assert.equal(checkpoint.epoch, EPOCHS * (g + 1), `${t.name} (generation ${g}) trained on to epoch ${EPOCHS * (g + 1)}`);
      assert.equal(statSync(checkpointFile).uid, TRAINER_UID);
      const seen = await epochs(t.id);
      assert.deepEqual(seen, Array.from({ length: EPOCHS }, (_, i) => EPOCHS * g + i + 1), `${t.name}: the epochs its pod printed`);
      const parent = t.labels?.[PARENT_LABEL];
      if (g === 0) {
        assert.equal(parent, undefined);
        continue;
      }
      assert.equal(Number(byName.get(parent!)!.labels?.[GENERATION_LABEL]), g - 1, `${t.name}'s parent ${parent} is of the generation before`);
    }
  } finally {
    await store.close();
  }
}

test('pbt on the kubernetes runtime: each trial mounts its folder of the claim at suggestion_trial_dir; children resume from copies of their parents\' checkpoints', { timeout: 15 * 60_000 }, async () => {
  const dir = tempDir();
  const file = join(dir, 'pbt.yaml');
  const name = 'kube-pbt';
  writeFileSync(file, stringify(pbtExperiment(name, NS)));
  const dataDir = join(dir, 'data');
  const run = await runCli(['run', file, '--runtime', 'kubernetes', '--kubeconfig', cluster.kubeconfigPath, '--data-dir', dataDir, '--pending-timeout', '120',
    '--kube-checkpoint-claim', CLAIM, '--kube-checkpoint-dir', HOST_DIR]);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-4000)}`);
  assert.match(run.stdout, /Study kube-pbt SUCCEEDED/);

  await checkStudy(dataDir, name);
  // Every trial's object is deleted (the last delete is sent before `sibyl run` exits; the
  // garbage collector then removes the pods first); the claim's folders stay with the study.
  await jobsGone();
});

test('pbt on the kubernetes runtime, `sibyl run` killed with SIGKILL while the second generation trains, then run again: no trial lost, the running ones re-adopted with their folders, the study as without the kill', { timeout: 15 * 60_000 }, async () => {
  const dir = tempDir();
  const file = join(dir, 'pbt.yaml');
  const name = 'kill-pbt';
  // Slow epochs, so that the kill lands while generation 1 trains.
  writeFileSync(file, stringify(pbtExperiment(name, NS, 1500)));
  const dataDir = join(dir, 'data');
  const args = ['run', file, '--runtime', 'kubernetes', '--kubeconfig', cluster.kubeconfigPath, '--data-dir', dataDir, '--pending-timeout', '120',
    '--kube-checkpoint-claim', CLAIM, '--kube-checkpoint-dir', HOST_DIR];
  const first = startCli(args);
  let out = '';
  first.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until('a trial of generation 1 runs', 5 * 60_000, () => /kill-pbt-0007 RUNNING/.test(out), () => out.slice(-2000));
  await new Promise((r) => setTimeout(r, 2000)); // into its training
  first.child.kill('SIGKILL');
  await first.done;
  // The Jobs of the dead run go on in the cluster.
  const running = must(cluster.kubectl(['-n', NS, 'get', 'jobs', '-o', 'name']), 'get jobs').trim().split('\n').filter((l) => l !== '');
  assert.ok(running.length > 0, 'the killed run left Jobs behind');
  const again = await runCli(args);
  assert.equal(again.code, 0, `${again.stdout}\n${again.stderr.slice(-4000)}`);
  assert.match(again.stdout, /Study kill-pbt SUCCEEDED/);
  await checkStudy(dataDir, name);
  await jobsGone();
});

test('kubectl apply -k deploy/overlays/checkpoints/, then a pbt Experiment in namespace sibyl: the in-cluster Sibyl (uid 1000) makes the folders on its claim and the trials resume from their parents\' copies', { timeout: 15 * 60_000 }, async () => {
  const fixture = repoPath('test', 'fixtures', 'kube-checkpoints');
  const volumes = ['checkpoints-sibyl-data', 'checkpoints-trials'].map((v) => join(WORK, 'volumes', v));
  // Folders owned by root, as a hostPath usually is: the overlay's init container gives both to uid 1000.
  for (const v of volumes) {
    rmSync(v, { recursive: true, force: true });
    mkdirSync(v, { recursive: true });
  }
  const kubectl = kubectlOf(cluster);
  const api = sibylApi(overlayToken(join(fixture, 'secret.yaml')));
  const name = 'cluster-pbt';
  try {
    kubectl('apply', '-k', repoPath('deploy', 'crds'));
    kubectl('apply', '-k', fixture);
    const pod = () => until('Sibyl\'s pod runs and is Ready', 180_000, () => readySibylPods(kubectl)[0], () => cluster.kubectl(['-n', 'sibyl', 'describe', 'pods']).stdout.slice(-3000));
    await pod();
    await until('the Experiment CRD is served', 60_000, () => cluster.kubectl(['get', 'experiments.kubeflow.org', '-A']).status === 0);
    must(cluster.kubectl(['apply', '-f', '-'], stringify(pbtExperiment(name, 'sibyl'))), 'apply the Experiment');
    await until('the Experiment is Succeeded', 10 * 60_000, () => {
      const o = kubectl.json('-n', 'sibyl', 'get', 'experiments.kubeflow.org', name);
      return o.status?.conditions?.some((c: any) => c.type === 'Succeeded' && c.status === 'True') || undefined;
    }, () => JSON.stringify(kubectl.json('-n', 'sibyl', 'get', 'experiments.kubeflow.org', name).status ?? {}).slice(0, 3000));
    const trials = (await api((await pod()).ip, 'GET', `/api/v1/studies/${name}/trials`)).body.trials as { name: string; state: string; labels: Record<string, string> }[];
    assert.equal(trials.length, POPULATION * GENERATIONS);
    const root = join(volumes[1]!, name);
    assert.equal(statSync(root).uid, TRAINER_UID, 'made by Sibyl, uid 1000');
    let children = 0;
    for (const t of trials) {
      assert.equal(t.state, 'SUCCEEDED', t.name);
      const g = Number(t.labels[GENERATION_LABEL]);
      // A child that found no copy of its parent's checkpoint would have ended at epoch 4, not 8.
      const checkpoint = JSON.parse(readFileSync(join(root, t.name, 'checkpoint.json'), 'utf8')) as { epoch: number };
      assert.equal(checkpoint.epoch, EPOCHS * (g + 1), `${t.name} (generation ${g})`);
      if (g > 0) children += 1;
    }
    assert.equal(children, POPULATION);
  } finally {
    cluster.kubectl(['-n', 'sibyl', 'delete', 'experiments.kubeflow.org', name, '--wait=true', '--timeout=120s']);
    cluster.kubectl(['delete', '-k', fixture, '--wait=true', '--timeout=180s']);
    for (const v of volumes) rmSync(v, { recursive: true, force: true });
  }
});
