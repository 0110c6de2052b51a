// The cluster tier: a real single-node Kubernetes 1.20.2 (test/support/kube-cluster.ts) with a
// real kubelet running real pods, Sibyl's own image built from deploy/Containerfile running as
// the Deployment of deploy/ (plus the test overlay: image, hostPath volume, token Secret), and
// trials as real pods. The one stand-in is Kubeflow's training operator (it cannot be built
// here): test/support/tfjob-operator.ts turns TFJobs into real pods and sets their conditions.
// Everything the cluster changed on the machine is undone afterwards, also when a test fails.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { loadProtos } from '../src/api/grpc/protos.js';
import { runCli } from './support/cli.js';
import { repoPath } from './support/kube-apiserver.js';
import { startCluster, WORK, type KubeCluster } from './support/kube-cluster.js';
import { tempDir } from './support/study.js';
import { TFJobOperatorStandIn } from './support/tfjob-operator.js';
import { kubectlOf, overlayToken, readySibylPods, recordCreates, sibylApi, jobStudy, type Kubectl, type SibylPod } from './support/sibyl-in-cluster.js';
import { until } from './support/wait.js';

const TOKEN = overlayToken(repoPath('test', 'fixtures', 'kube-cluster', 'secret.yaml'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: KubeCluster;
let kc: KubeConfig;

before(async () => {
  cluster = await startCluster();
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  kubectl = kubectlOf(cluster);
}, { timeout: 40 * 60_000 }); // a fresh machine: apt, a ~10 min build, the images

after(async () => {
  await cluster?.stop();
});

let kubectl: Kubectl;
const json = (...args: string[]) => kubectl.json(...args);

/** Sibyl's pod: its name and address, once it runs. */
async function sibylPod(): Promise<SibylPod> {
  return until('Sibyl\'s pod runs and is Ready', 180_000, () => readySibylPods(kubectl)[0], () => cluster.kubectl(['-n', 'sibyl', 'describe', 'pods']).stdout.slice(-3000));
}

const api = sibylApi(TOKEN);

async function waitForStudy(ip: () => Promise<string>, name: string, timeoutMs: number): Promise<any> {
  return until(`study ${name} ends`, timeoutMs, async () => {
    const s = (await api(await ip(), 'GET', `/api/v1/studies/${name}`)).body;
    return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(s?.state) ? s : undefined;
  });
}

test('Sibyl\'s image from deploy/Containerfile runs as the Deployment of deploy/: Ready on a hostPath volume, probes, non-root, read-only root, REST and gRPC at the pod', { timeout: 10 * 60_000 }, async () => {
  // A folder owned by root, as a hostPath usually is: the init container gives it to uid 1000.
  mkdirSync(join(WORK, 'volumes', 'sibyl-data'), { recursive: true });
  kubectl('apply', '-k', repoPath('test', 'fixtures', 'kube-cluster'));
  const pod = await sibylPod();
  const spec = json('-n', 'sibyl', 'get', 'pod', pod.name).spec;
  assert.equal(spec.containers[0].image, 'sibyl:latest');
  assert.equal(spec.containers[0].readinessProbe.httpGet.path, '/readyz');
  assert.equal(spec.containers[0].livenessProbe.httpGet.path, '/healthz');
  // Probed for real: the kubelet marked it Ready, and after a few liveness periods it still has not restarted it.
  await sleep(25_000);
  assert.equal((await sibylPod()).restarts, 0, 'the liveness probe passes');
  const inside = cluster.kubectl(['-n', 'sibyl', 'exec', pod.name, '-c', 'sibyl', '--', 'sh', '-c', 'id -u; id -g; touch /probe-root 2>&1 || true; ls -ln /var/lib/sibyl']);
  assert.equal(inside.status, 0, inside.stderr);
  const [uid, gid] = inside.stdout.split('\n');
  assert.deepEqual([uid, gid], ['1000', '1000'], 'non-root, uid and gid 1000');
  assert.match(inside.stdout, /Read-only file system/, 'the root filesystem is read-only');
  assert.match(inside.stdout, /sibyl\.db/, 'the store is on the claimed volume');
  assert.match(readFileSync(join(WORK, 'volumes', 'sibyl-data', 'sibyl.lock.pid'), 'utf8'), /^\d+\n$/, 'the data directory is the hostPath folder');
  // REST and gRPC at the pod's address.
  assert.equal((await fetch(`http://${pod.ip}:8080/healthz`)).status, 200);
  assert.equal((await api(pod.ip, 'GET', '/api/v1/studies')).status, 200);
  assert.equal((await fetch(`http://${pod.ip}:8080/api/v1/studies`)).status, 401, 'the token is required');
  const health: any = new (loadProtos().health.Health)(`${pod.ip}:6789`, grpc.credentials.createInsecure());
  const served = await new Promise((resolve, reject) => health.check({ service: 'manager.v1beta1.Suggestion' }, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
  health.close();
  assert.deepEqual(served, { status: 'SERVING' });
});

test('kubectl apply -f examples/mlp/tfjob.yaml: the in-cluster Sibyl runs the Experiment as real pods (stand-in operator) to Succeeded: 9 trials ran train.mjs with their values, accuracies as the pods printed them, objects deleted; kubectl get experiments shows the best trial', { timeout: 15 * 60_000 }, async () => {
  kubectl('apply', '-k', repoPath('deploy', 'crds'));
  await until('the TFJob CRD is served', 60_000, () => cluster.kubectl(['get', 'tfjobs', '-A']).status === 0);
  // The study's namespace: Sibyl's Role bound there too, as deploy/base/rbac.yaml says for another namespace.
  kubectl('create', 'namespace', 'kubeflow');
  const rbac = readFileSync(repoPath('deploy', 'base', 'rbac.yaml'), 'utf8').replace(/namespace: sibyl\n(\s+labels)/g, 'namespace: kubeflow\n$1');
  assert.equal(cluster.kubectl(['apply', '-f', '-'], rbac).status, 0);
  const operator = new TFJobOperatorStandIn(kc, 'kubeflow');
  operator.start();
  try {
    await sibylPod();
    await until('the Experiment CRD is served', 60_000, () => cluster.kubectl(['get', 'experiments.kubeflow.org', '-A']).status === 0);
    kubectl('apply', '-f', repoPath('examples', 'mlp', 'tfjob.yaml'));
    const succeeded = await until('the Experiment is Succeeded', 12 * 60_000, () => {
      const o = json('-n', 'kubeflow', 'get', 'experiments.kubeflow.org', 'mlp-tfjob');
      return o.status?.conditions?.some((c: any) => c.type === 'Succeeded' && c.status === 'True') ? o : undefined;
    }, () => JSON.stringify(json('-n', 'kubeflow', 'get', 'experiments.kubeflow.org', 'mlp-tfjob').status ?? {}).slice(0, 3000));
    const study = await waitForStudy(async () => (await sibylPod()).ip, 'mlp-tfjob', 60_000);
    assert.deepEqual([study.state, study.reason, study.trials.SUCCEEDED], ['SUCCEEDED', 'MaxTrialsReached', 9], JSON.stringify(study.trials));
    const trials = (await api((await sibylPod()).ip, 'GET', '/api/v1/studies/mlp-tfjob/trials')).body.trials as any[];
    assert.equal(trials.length, 9);
    for (const t of trials) {
      const seen = operator.jobs.get(t.name);
      assert.ok(seen, `${t.name}: a TFJob was created`);
      assert.equal(seen.uids.size, 1, `${t.name}: created once`);
      assert.deepEqual(seen.args, ['--learning-rate', String(t.assignment.learning_rate), '--hidden-layers', String(t.assignment.hidden_layers)]);
      const printed = [...(seen.log ?? '').matchAll(/accuracy=([\d.]+)/g)].map((m) => Number(m[1]));
      assert.ok(printed.length > 100, `${t.name}: the pod printed its epochs (${printed.length})`);
      assert.equal(t.objectiveValue, printed.at(-1), `${t.name}: the stored accuracy is the pod's last one`);
    }
    // The object mirrors the store: Katib's status fields, and the printer columns of `kubectl get`.
    const st = succeeded.status;
    assert.equal(st.conditions.at(-1).reason, 'ExperimentMaxTrialsReached');
    assert.deepEqual([st.trials, st.trialsSucceeded, st.trialsFailed, st.trialsRunning], [9, 9, 0, 0]);
    assert.equal(st.currentOptimalTrial.bestTrialName, study.best.trial);
    assert.deepEqual(Object.fromEntries(st.currentOptimalTrial.parameterAssignments.map((a: any) => [a.name, a.value])),
      Object.fromEntries(Object.entries(study.best.assignment).map(([k, v]) => [k, String(v)])));
    assert.equal(st.bestObjectiveValue, String(study.best.value));
    const table = kubectl('-n', 'kubeflow', 'get', 'experiments');
    assert.match(table, new RegExp(`mlp-tfjob\\s+Succeeded\\s+True\\s+${String(study.best.value).replace('.', '\\.')}\\s+${study.best.trial}\\s+9\\s+9\\s+0\\s+0\\s`), table);
    await until('every TFJob is deleted', 120_000, () => (json('-n', 'kubeflow', 'get', 'tfjobs').items as unknown[]).length === 0);
    await until('and their pods', 120_000, () => (json('-n', 'kubeflow', 'get', 'pods').items as unknown[]).length === 0);
    assert.deepEqual(operator.errors, []);
  } finally {
    await operator.stop();
  }
});

test('kubectl delete of a running Experiment stops its trials and removes their Jobs and pods; an invalid Experiment gets a condition and an Event naming the field', { timeout: 10 * 60_000 }, async () => {
  await sibylPod();
  const apply = (text: string) => assert.equal(cluster.kubectl(['apply', '-f', '-'], text).status, 0);
  const running = (study: string) => (json('-n', 'sibyl', 'get', 'pods', '-l', `sibyl.dev/study=${study}`).items as any[]).filter((p) => p.status.phase === 'Running').length;
  // Trials that print an epoch a second for two minutes: still running when the Experiment is deleted.
  apply(jobStudy('exp-delete', 'for i in $(seq 1 120); do echo "epoch=$i accuracy=0.${x}"; sleep 1; done', { parallel: 2, max: 4 }));
  await until('two trial pods run', 180_000, () => running('exp-delete') === 2 || undefined,
    () => JSON.stringify(json('-n', 'sibyl', 'get', 'experiments.kubeflow.org', 'exp-delete').status ?? {}).slice(0, 2000));
  const live = await until('the Experiment shows two running trials', 60_000, () => {
    const o = json('-n', 'sibyl', 'get', 'experiments.kubeflow.org', 'exp-delete');
    return o.status?.trialsRunning === 2 ? o : undefined;
  });
  assert.deepEqual(live.metadata.finalizers, ['sibyl.dev/study']);
  kubectl('-n', 'sibyl', 'delete', 'experiments.kubeflow.org', 'exp-delete', '--wait=false');
  // The trials' pods run `sh` as pid 1, which ignores SIGTERM: the kubelet kills them after the 30 s grace period.
  await until('the Experiment is gone', 240_000, () => /NotFound/.test(cluster.kubectl(['-n', 'sibyl', 'get', 'experiments.kubeflow.org', 'exp-delete']).stderr) || undefined);
  // Gone only after its trials: the Jobs (deleted in the foreground, so after their pods) are gone too.
  assert.deepEqual(json('-n', 'sibyl', 'get', 'jobs', '-l', 'sibyl.dev/study=exp-delete').items, []);
  await until('and the pods', 60_000, () => (json('-n', 'sibyl', 'get', 'pods', '-l', 'sibyl.dev/study=exp-delete').items as unknown[]).length === 0 || undefined);
  assert.equal((await api((await sibylPod()).ip, 'GET', '/api/v1/studies/exp-delete')).status, 404, 'the study is deleted');
  const deletedEvent = (json('-n', 'sibyl', 'get', 'events', '--field-selector', 'involvedObject.name=exp-delete').items as any[]).find((e) => e.reason === 'ExperimentDeleted');
  assert.ok(deletedEvent, 'an ExperimentDeleted Event');

  // An invalid Experiment: a Failed condition and a Warning Event, both naming the field; no crash, no study.
  const invalid = jobStudy('exp-invalid', 'echo accuracy=0.${x}', { parallel: 1, max: 1 }).replace('algorithmName: grid', 'algorithmName: no-such-algorithm');
  apply(invalid);
  const failed = await until('the invalid Experiment is refused', 60_000, () => json('-n', 'sibyl', 'get', 'experiments.kubeflow.org', 'exp-invalid').status?.conditions?.find((c: any) => c.type === 'Failed'));
  assert.equal(failed.reason, 'ExperimentInvalid');
  assert.match(failed.message, /^spec\.algorithm\.algorithmName: .*no-such-algorithm/);
  const warning = await until('its Warning Event', 30_000, () => (json('-n', 'sibyl', 'get', 'events', '--field-selector', 'involvedObject.name=exp-invalid').items as any[]).find((e) => e.type === 'Warning'));
  assert.equal(warning.message, failed.message);
  assert.match(kubectl('-n', 'sibyl', 'describe', 'experiments.kubeflow.org', 'exp-invalid'), /ExperimentInvalid/);
  assert.equal((await api((await sibylPod()).ip, 'GET', '/api/v1/studies/exp-invalid')).status, 404);
  assert.equal((await sibylPod()).restarts, 0, 'Sibyl did not crash');
  kubectl('-n', 'sibyl', 'delete', 'experiments.kubeflow.org', 'exp-invalid', '--timeout=60s');
});

test('batch Job trials: metrics come from the real kubelet\'s log stream while the pods run; a trial pushes with its own credential, never the API token', { timeout: 10 * 60_000 }, async () => {
  const pod = await sibylPod();
  const slow = jobStudy('job-stream', 'for i in 1 2 3 4 5 6; do echo "epoch=$i accuracy=0.${x}$i"; sleep 1; done', { parallel: 2, max: 2 });
  assert.equal((await api(pod.ip, 'POST', '/api/v1/studies', { specText: slow })).status, 201);
  // While the first trial runs, its metrics grow.
  const counts = await until('a trial reports while it runs', 120_000, async () => {
    const t = (await api(pod.ip, 'GET', '/api/v1/trials/job-stream-0001')).body;
    const n = t?.metrics?.find((m: any) => m.name === 'accuracy')?.count ?? 0;
    return t?.state === 'RUNNING' && n >= 2 ? n : undefined;
  });
  assert.ok(counts >= 2);
  const streamed = await waitForStudy(async () => pod.ip, 'job-stream', 180_000);
  assert.equal(streamed.trials.SUCCEEDED, 2);
  const first = (await api(pod.ip, 'GET', '/api/v1/trials/job-stream-0001')).body;
  assert.deepEqual([first.objectiveValue, first.metrics.find((m: any) => m.name === 'accuracy').count], [0.16, 6]);

  // A trial that reports by push (the Push collector: nothing is read from its log).
  const pushScript = `node -e "fetch(process.env.SIBYL_PUSH_ENDPOINT + '/api/v1/trials/' + process.env.SIBYL_TRIAL_NAME + '/observations', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.SIBYL_PUSH_TOKEN }, body: JSON.stringify({ observations: [{ metric: 'accuracy', value: 0.7\${x}, step: 1 }] }) }).then((r) => { console.log('pushed', r.status); process.exit(r.status === 200 ? 0 : 1); })"; sleep 2`;
  const pushed = jobStudy('job-push', pushScript, { parallel: 1, max: 1 }, { metricsCollectorSpec: { collector: { kind: 'Push' } } });
  assert.equal((await api(pod.ip, 'POST', '/api/v1/studies', { specText: pushed })).status, 201);
  const envSeen = await until('the push trial\'s Job exists', 60_000, () => {
    const jobs = json('-n', 'sibyl', 'get', 'jobs', '-l', 'sibyl.dev/study=job-push').items as any[];
    return jobs[0]?.spec.template.spec.containers[0].env as { name: string; value: string }[] | undefined;
  });
  const env = Object.fromEntries(envSeen.map((e) => [e.name, e.value]));
  assert.equal(env['SIBYL_PUSH_ENDPOINT'], `http://${pod.ip}:8080`);
  assert.ok(env['SIBYL_PUSH_TOKEN'] && env['SIBYL_PUSH_TOKEN'] !== TOKEN, 'a credential of its own');
  assert.ok(!envSeen.some((e) => e.value?.includes(TOKEN)), 'the API token is in no pod spec');
  const done = await waitForStudy(async () => pod.ip, 'job-push', 180_000);
  assert.equal(done.trials.SUCCEEDED, 1);
  assert.equal((await api(pod.ip, 'GET', '/api/v1/trials/job-push-0001')).body.objectiveValue, 0.71);
  // That credential is good for its own trial's observations only.
  const other = await fetch(`http://${pod.ip}:8080/api/v1/trials/job-stream-0002/observations`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${env['SIBYL_PUSH_TOKEN']}` }, body: JSON.stringify({ observations: [] }) });
  assert.equal(other.status, 401);
  const read = await fetch(`http://${pod.ip}:8080/api/v1/trials/job-push-0001`, { headers: { authorization: `Bearer ${env['SIBYL_PUSH_TOKEN']}` } });
  assert.equal(read.status, 401, 'nor for reading');
});

test('deleting Sibyl\'s pod with three trial pods running loses no trial and creates none twice (counted on the API server)', { timeout: 15 * 60_000 }, async () => {
  const creates = recordCreates(kc, '/apis/batch/v1/namespaces/sibyl/jobs');
  try {
    let pod = await sibylPod();
    const study = jobStudy('survive', 'echo "epoch=1 accuracy=0.0${x}"; sleep 25; echo "epoch=2 accuracy=0.${x}"', { parallel: 3, max: 6 });
    assert.equal((await api(pod.ip, 'POST', '/api/v1/studies', { specText: study })).status, 201);
    await until('three trial pods run', 120_000, () => (json('-n', 'sibyl', 'get', 'pods', '-l', 'sibyl.dev/study=survive', '--field-selector', 'status.phase=Running').items as unknown[]).length === 3);
    const old = pod.uid;
    kubectl('-n', 'sibyl', 'delete', 'pod', pod.name, '--wait=false');
    pod = await until('a new Sibyl pod', 180_000, async () => {
      const p = await sibylPod();
      return p.uid !== old ? p : undefined;
    });
    const ended = await waitForStudy(async () => (await sibylPod()).ip, 'survive', 10 * 60_000);
    assert.deepEqual([ended.state, ended.trials.SUCCEEDED, ended.trials.FAILED, ended.trials.KILLED], ['SUCCEEDED', 6, 0, 0], JSON.stringify(ended.trials));
    const trials = (await api(pod.ip, 'GET', '/api/v1/studies/survive/trials')).body.trials as any[];
    assert.deepEqual(trials.map((t) => t.objectiveValue).sort(), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
    for (const t of trials) assert.equal(creates.added.get(t.name)?.size, 1, `${t.name}: one Job, created once`);
    assert.equal(creates.added.size, 6);
  } finally {
    creates.stop();
  }
});

test('failures only a real cluster shows: a non-zero exit, an OOM kill, an image never pulled, a pod that never schedules: each a FAILED trial naming the cause', { timeout: 10 * 60_000 }, async () => {
  const cases = [
    { name: 'fail-exit', container: { command: ['sh', '-c', 'echo going; exit 3'] }, reason: 'NonZeroExit', message: /exit code 3/ },
    { name: 'fail-oom', container: { command: ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(1 << 20, 1))'], resources: { limits: { memory: '64Mi' } } }, reason: 'OOMKilled', message: /memory limit/ },
    { name: 'fail-image', container: { image: 'sibyl/no-such-image:1', command: ['true'] }, reason: 'ErrImageNeverPull', message: /no-such-image/ },
    { name: 'fail-schedule', container: { command: ['true'], resources: { requests: { memory: '64Ti' } } }, reason: 'Unschedulable', message: /Insufficient memory/ },
  ];
  const results = await Promise.all(cases.map(async (c) => {
    const dir = tempDir();
    const file = join(dir, 'study.yaml');
    writeFileSync(file, stringify({
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: c.name, namespace: 'default' },
      spec: {
        objective: { type: 'maximize', objectiveMetricName: 'accuracy' }, algorithm: { algorithmName: 'grid' }, parallelTrialCount: 1, maxTrialCount: 1,
        parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '2' } }],
        trialTemplate: {
          primaryContainerName: 'trial', trialParameters: [{ name: 'x', reference: 'x' }],
          trialSpec: { apiVersion: 'batch/v1', kind: 'Job', metadata: { annotations: { x: '${trialParameters.x}' } }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'trial', image: 'sibyl/mlp-example:latest', imagePullPolicy: 'Never', ...c.container }] } } } },
        },
      },
    }));
    const started = Date.now();
    const run = await runCli(['run', file, '--runtime', 'kubernetes', '--kubeconfig', cluster.kubeconfigPath, '--data-dir', join(dir, 'data'), '--pending-timeout', '20']);
    const trials = JSON.parse((await runCli(['trials', c.name, '--json', '--data-dir', join(dir, 'data')])).stdout);
    return { c, run, trials, seconds: (Date.now() - started) / 1000 };
  }));
  for (const { c, run, trials, seconds } of results) {
    assert.equal(trials.length, 1, `${c.name}: ${run.stderr.slice(-2000)}`);
    assert.equal(trials[0].state, 'FAILED', `${c.name}: ${JSON.stringify(trials[0])}`);
    assert.equal(trials[0].reason, c.reason, `${c.name}: ${trials[0].message}`);
    assert.match(trials[0].message, c.message, c.name);
    assert.ok(seconds < 180, `${c.name} took ${seconds} s`);
  }
  await until('the failed trials\' Jobs are deleted', 120_000, () => (json('get', 'jobs').items as unknown[]).length === 0);
});

test('with the API server cut off, the leader stops scheduling within its renew deadline, and no one launches a trial before the Lease expired', { timeout: 10 * 60_000 }, async (t) => {
  const pod = await sibylPod();
  const lease = () => json('-n', 'sibyl', 'get', 'lease', 'sibyl-leader').spec as { holderIdentity: string; renewTime: string; acquireTime: string; leaseDurationSeconds: number };
  const holder = await until('the pod holds the Lease', 60_000, () => (lease().holderIdentity?.startsWith(pod.name) ? lease().holderIdentity : undefined));
  // A study in progress across the cut, one short trial after another.
  const creates = recordCreates(kc, '/apis/batch/v1/namespaces/sibyl/jobs');
  t.after(() => creates.stop());
  assert.equal((await api(pod.ip, 'POST', '/api/v1/studies', { specText: jobStudy('lead', 'sleep 3; echo "accuracy=0.${x}"', { parallel: 1, max: 5 }) })).status, 201);
  await until('the study\'s first Job', 60_000, () => creates.added.size > 0);
  cluster.isolatePods(true);
  let lostAt: number;
  let lastRenew: number;
  try {
    // Its own words, in its log, with the container runtime's timestamp: it gave up leading.
    lostAt = await until('the leader gives up', 60_000, () => {
      const log = ['--previous', undefined].map((p) => cluster.kubectl(['-n', 'sibyl', 'logs', '--timestamps', pod.name, '-c', 'sibyl', ...(p ? [p] : [])]).stdout).join('\n');
      const line = /^(\S+) .*lost sibyl\/sibyl-leader/m.exec(log);
      return line ? Date.parse(line[1]!) : undefined;
    });
    // Still cut off, so this is the leader's last successful renew (the host still reaches the API server).
    lastRenew = Date.parse(lease().renewTime);
  } finally {
    cluster.isolatePods(false);
  }
  // The renew deadline is 10 s after the last renew: it stopped then, not a lease or more later.
  const steppedDown = (lostAt - lastRenew) / 1000;
  assert.ok(steppedDown >= 9.5 && steppedDown <= 12, `the leader stopped scheduling ${steppedDown} s after its last renew (deadline 10 s)`);
  // The restarted container has a new identity and takes the Lease only as a candidate.
  const next = await until('a new holder', 120_000, () => {
    const l = lease();
    return l.holderIdentity && l.holderIdentity !== holder ? l : undefined;
  });
  assert.ok(next.holderIdentity.startsWith(pod.name), 'the same pod, restarted');
  const gap = (Date.parse(next.acquireTime) - lastRenew) / 1000;
  assert.ok(gap >= next.leaseDurationSeconds, `the new holder took the Lease ${gap} s after the old one's last renew (the Lease lasts ${next.leaseDurationSeconds} s)`);
  assert.notEqual(next.holderIdentity, holder, 'a restarted container is a new candidate, not the old holder');
  assert.ok((await sibylPod()).restarts >= 1);
  // Nothing was launched between the old leader's stepping down and the new one's taking the Lease.
  const acquired = Date.parse(next.acquireTime);
  assert.deepEqual([...creates.firstSeen].filter(([, t]) => t > lostAt && t < acquired), [], 'no Job created without a leader');
  const ended = await waitForStudy(async () => (await sibylPod()).ip, 'lead', 5 * 60_000);
  assert.deepEqual([ended.state, ended.trials.SUCCEEDED], ['SUCCEEDED', 5], JSON.stringify(ended.trials));
  for (const [name, uids] of creates.added) assert.equal(uids.size, 1, `${name}: created once`);
  assert.equal(creates.added.size, 5);
  t.diagnostic(`stepped down ${steppedDown} s after the last renew; the new holder took the Lease ${gap} s after it`);
});
