// The kubernetes runtime end to end: the real Scheduler and Store, @kubernetes/client-node, and
// the in-process fake API server playing the apiserver, the training operator and the kubelet
// (each TFJob's primary container runs as a local process, its output is the pod log).
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../src/runtimes/kubernetes/index.js';
import { rotatedLogPath, trialLogPath } from '../src/runtimes/logs.js';
import { LIMITS } from '../src/model/limits.js';
import { compileCondition, evaluateCondition, judgeJob, matchOf } from '../src/runtimes/kubernetes/conditions.js';
import { setEnv } from '../src/runtimes/kubernetes/render.js';
import { validateForKubernetes } from '../src/runtimes/kubernetes/validate.js';
import { parseStudyDocument, parseStudyText } from '../src/spec/parse.js';
import { SpecError } from '../src/spec/errors.js';
import type { StudySpec } from '../src/spec/types.js';
import { type Store, type StudyRecord, type TrialRecord } from '../src/store/store.js';
import { startFakeKube, type FakeKube } from './support/fake-kube/index.js';
import { harness, tempDir, type Harness } from './support/study.js';
import { inspect } from './support/sqlite.js';

const MLP = fileURLToPath(new URL('../../examples/mlp/', import.meta.url));
const TFJOB_YAML = readFileSync(`${MLP}tfjob.yaml`, 'utf8');

/** examples/mlp/tfjob.yaml with `--epochs 20` appended to the trial's args. */
function shortTfjobText(): string {
  const text = TFJOB_YAML.replace(/\n(\s+)- \$\{trialParameters\.hiddenLayers\}\n/, (all, indent: string) => `${all.trimEnd()}\n${indent}- --epochs\n${indent}- "20"\n`);
  assert.notEqual(text, TFJOB_YAML);
  return text;
}

/** The short study with its document edited (budgets, the container's command). */
function editedSpec(edit: (doc: any) => void): StudySpec {
  const doc = parseYaml(shortTfjobText());
  edit(doc);
  return parseStudyDocument(doc);
}

const containerOf = (doc: any) => doc.spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker.template.spec.containers[0];

/** The scheduler harness with the kubernetes runtime on `kubeConfig`. */
function kubeHarness(kubeConfig: KubeConfig, dataDir = tempDir()): Harness {
  return harness(dataDir, {
    runtime: (listener, { log }) =>
      new KubernetesRuntime({
        kubeConfig,
        listener,
        pushEndpoint: 'http://127.0.0.1:1/push',
        logDir: join(dataDir, 'logs'),
        log,
        requestTimeoutMs: 1000,
        podPollMs: 100,
      }),
  });
}

function fakeFor() {
  return startFakeKube({ resolveWorkingDir: () => MLP, bookmarkMs: 500 });
}

/** Runs `spec` to its end on a fresh fake API server, hands what ran to `check`, and closes both. */
async function runOnFake(spec: StudySpec, check: (run: { kube: FakeKube; h: Harness; study: StudyRecord; trials: TrialRecord[] }) => Promise<void>) {
  const { kube, kubeConfig } = await fakeFor();
  const h = kubeHarness(kubeConfig);
  try {
    const created = await h.store.createStudy(spec, MLP, 1);
    await h.scheduler.adopt([created.id]);
    const study = await h.scheduler.waitForEnd(created.id);
    await check({ kube, h, study, trials: await h.store.listTrials(created.id) });
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
    await kube.close();
  }
}

/** The metric values a pod log holds, in order (the trainer prints `epoch=N loss=… accuracy=…`). */
function metricsInLog(log: string, metric: string): number[] {
  return [...log.matchAll(new RegExp(`\\b${metric}=([-+0-9.eE]+)`, 'g'))].map((m) => Number(m[1]));
}

async function assertMetricsMatchLogs(kube: FakeKube, store: Store, namespace: string, trials: TrialRecord[], lines = 20, logDir?: string) {
  for (const t of trials) {
    const log = kube.operator.podLog(namespace, `${t.name}-worker-0`);
    if (logDir) assert.equal(readFileSync(join(logDir, `${t.name}.log`), 'utf8'), log.endsWith('\n') ? log : `${log}\n`, `${t.name}: the pod log is kept in the data dir`);
    const accuracy = metricsInLog(log, 'accuracy');
    assert.equal(accuracy.length, lines, `${t.name}: ${lines} metrics lines in the pod log`);
    assert.deepEqual(await store.metricValues(t.id, 'accuracy'), accuracy, `${t.name}: every accuracy line recorded exactly once`);
    assert.deepEqual(await store.metricValues(t.id, 'loss'), metricsInLog(log, 'loss'), `${t.name}: loss lines`);
    assert.equal(t.objectiveValue, accuracy[accuracy.length - 1], `${t.name}: objective = latest accuracy`);
  }
}

test('examples/mlp/tfjob.yaml runs to SUCCEEDED as TFJobs: one per trial, values in the args, metrics from the pod logs, objects deleted', { timeout: 60_000 }, async () => {
  const { kube, kubeConfig } = await fakeFor();
  const h = kubeHarness(kubeConfig);
  try {
    const spec = parseStudyText(shortTfjobText());
    validateForKubernetes(spec);
    const created = await h.store.createStudy(spec, MLP, 1);
    await h.scheduler.adopt([created.id]);
    const study = await h.scheduler.waitForEnd(created.id);
    const trials = await h.store.listTrials(created.id);
    assert.equal(study.state, 'SUCCEEDED', study.message ?? '');
    assert.equal(trials.length, 9);
    assert.ok(trials.every((t) => t.state === 'SUCCEEDED'), trials.map((t) => `${t.name} ${t.state} ${t.reason} ${t.message}`).join('\n'));

    const posts = kube.requests.filter((r) => r.method === 'POST' && r.path === '/apis/kubeflow.org/v1/namespaces/kubeflow/tfjobs');
    assert.equal(posts.length, 9, 'one create per trial');
    for (const t of trials) {
      assert.equal(kube.created.get(t.name), 1);
      const body = posts.find((p) => p.body?.['metadata'].name === t.name)?.body;
      assert.ok(body, `${t.name} was created`);
      assert.equal(body['metadata'].namespace, 'kubeflow');
      assert.equal(body['metadata'].labels['sibyl.dev/study'], 'mlp-tfjob');
      assert.equal(body['metadata'].labels['sibyl.dev/trial'], t.name);
      const worker = body['spec'].tfReplicaSpecs.Worker.template;
      assert.equal(worker.metadata.labels['sibyl.dev/trial'], t.name, 'the pod template is labelled');
      const c = worker.spec.containers[0];
      assert.deepEqual(c.args, ['--learning-rate', String(t.assignment['learning_rate']), '--hidden-layers', String(t.assignment['hidden_layers']), '--epochs', '20']);
      const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
      assert.equal(env['KATIB_TRIAL_NAME'], t.name);
      assert.equal(env['SIBYL_TRIAL_NAME'], t.name);
      assert.equal(env['SIBYL_PUSH_ENDPOINT'], 'http://127.0.0.1:1/push');
    }
    assertMetricsMatchLogs(kube, h.store, 'kubeflow', trials, 20, join(h.dataDir, 'logs'));
    // Objects are deleted once their trial is recorded (give the last deletes a moment).
    for (let i = 0; i < 50 && kube.all('tfjobs').length > 0; i++) await sleep(50);
    assert.equal(kube.all('tfjobs').length, 0, 'every TFJob deleted');
    assert.equal(kube.all('pods').length, 0, 'their pods went with them');
    assert.ok(kube.count('DELETE', '/tfjobs/') >= 9);
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
    await kube.close();
  }
});

test('500s, hung requests, 409s, an expired watch and cut log streams lose no trial and duplicate none', { timeout: 60_000 }, async () => {
  const { kube, kubeConfig } = await fakeFor();
  const h = kubeHarness(kubeConfig);
  // Output paced at 40 ms a line, so log streams get cut mid-trial.
  const spec = editedSpec((doc) => {
    Object.assign(containerOf(doc), { command: ['sh', '-c', 'node train.mjs "$@" | while IFS= read -r l; do echo "$l"; sleep 0.04; done', 'train'] });
    doc.spec.maxTrialCount = 6;
  });
  const tfjobs = '/apis/kubeflow.org/v1/namespaces/kubeflow/tfjobs';
  kube.inject({ method: 'POST', path: tfjobs, count: 2, status: 500 }); // refused, nothing created
  kube.inject({ method: 'POST', path: tfjobs, count: 1, status: 500, applyFirst: true }); // created, answer lost
  kube.inject({ method: 'POST', path: tfjobs, count: 1, hang: true, applyFirst: true }); // created, never answered
  kube.inject({ method: 'POST', path: tfjobs, count: 1, status: 409, applyFirst: true }); // created, answered 409
  kube.inject({ method: 'GET', path: tfjobs, query: 'watch=true', count: 2, status: 500 });
  kube.inject({ method: 'GET', path: '/pods', count: 2, status: 503 });
  const chaos = setInterval(() => {
    kube.expireWatches();
    kube.operator.dropLogStreams();
  }, 400);
  try {
    const created = await h.store.createStudy(spec, MLP, 1);
    await h.scheduler.adopt([created.id]);
    const study = await h.scheduler.waitForEnd(created.id);
    clearInterval(chaos);
    const trials = await h.store.listTrials(created.id);
    assert.equal(study.state, 'SUCCEEDED', study.message ?? '');
    assert.equal(trials.length, 6);
    assert.ok(trials.every((t) => t.state === 'SUCCEEDED'), trials.map((t) => `${t.name} ${t.state} ${t.reason} ${t.message}`).join('\n'));
    for (const t of trials) assert.equal(kube.created.get(t.name), 1, `${t.name} created once`);
    assert.equal(kube.pendingFaults, 0, 'every injected fault was hit');
    assert.ok(kube.count('POST', tfjobs) > 6 + 2, 'creates were retried');
    assert.ok(h.logs.some((l) => /creating the TFJob failed \((AbortError|TimeoutError|FetchError)/.test(l)), `a hung create timed out:\n${h.logs.join('\n')}`);
    assert.ok(h.logs.some((l) => /exists already: adopting/.test(l)), 'a 409 was adopted');
    assert.ok(h.logs.some((l) => /expired \(410\)/.test(l)), 'an expired watch was relisted');
    assertMetricsMatchLogs(kube, h.store, 'kubeflow', trials);
    assert.deepEqual(h.errors, []);
  } finally {
    clearInterval(chaos);
    await h.close();
    await kube.close();
  }
});

test('a TFJob that fails (its command exits 1) is a FAILED trial naming the pod\'s exit code, with the operator\'s message', { timeout: 30_000 }, async () => {
  const { kube, kubeConfig } = await fakeFor();
  const h = kubeHarness(kubeConfig);
  const spec = editedSpec((doc) => {
    Object.assign(containerOf(doc), { command: ['sh', '-c', 'echo "accuracy=0.5 loss=1"; echo boom >&2; exit 1', 'trial'] });
    Object.assign(doc.spec, { parallelTrialCount: 1, maxTrialCount: 2, maxFailedTrialCount: 1 });
  });
  try {
    const created = await h.store.createStudy(spec, MLP, 1);
    await h.scheduler.adopt([created.id]);
    const study = await h.scheduler.waitForEnd(created.id);
    const trials = await h.store.listTrials(created.id);
    assert.equal(study.state, 'FAILED');
    assert.ok(trials.length >= 1);
    for (const t of trials) {
      assert.equal(t.state, 'FAILED');
      // The pod says how it ended; the TFJob's own condition follows.
      assert.equal(t.reason, 'NonZeroExit');
      assert.match(t.message ?? '', new RegExp(`^pod ${t.name}-\\S+, container tensorflow: exit code 1 \\(Error\\); TFJob kubeflow/${t.name} has failed because 1 Worker replica\\(s\\) failed\\.$`));
      assert.equal(kube.created.get(t.name), 1);
    }
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
    await kube.close();
  }
});

test('a pod printing more than the log limit: its log file rotates, keeps the newest part in order, and the metrics after it arrive', { timeout: 60_000 }, async () => {
  // 40 MiB of 64-byte lines in 64 KiB writes, then the metrics; the limit is 32 MiB.
  const lines = Math.ceil((40 * 1024 * 1024) / 64);
  const program = `const pad='z'.repeat(48); let s=''; for (let i=0;i<${lines};i++){ s+='chatter '+String(i).padStart(7,'0')+pad+'\\n'; if (s.length>65536){ process.stdout.write(s); s=''; } } process.stdout.write(s+'accuracy=0.5 loss=1\\n');`;
  const spec = editedSpec((doc) => {
    Object.assign(containerOf(doc), { command: [process.execPath, '-e', program, 'trial'] });
    Object.assign(doc.spec, { parallelTrialCount: 1, maxTrialCount: 1, maxFailedTrialCount: 1 });
  });
  await runOnFake(spec, async ({ kube, h, study, trials: [trial] }) => {
    assert.equal(study.state, 'SUCCEEDED');
    assert.equal(trial!.state, 'SUCCEEDED');
    assert.deepEqual((await h.store.observations(trial!.id)).map((o) => [o.metric, o.value]).sort(), [['accuracy', 0.5], ['loss', 1]]);
    const path = trialLogPath(join(h.dataDir, 'logs'), trial!.name);
    const kept = readFileSync(rotatedLogPath(path), 'utf8') + readFileSync(path, 'utf8');
    assert.ok(statSync(path).size <= LIMITS.maxTrialLogBytes && statSync(rotatedLogPath(path)).size <= LIMITS.maxTrialLogBytes);
    assert.ok(kept.length > LIMITS.maxTrialLogBytes, 'more than one part is kept');
    assert.ok(kube.operator.podLog('kubeflow', `${trial!.name}-worker-0`).endsWith(kept), 'the two parts are the end of the pod log, in order');
  });
});

test('a restart while the TFJobs run re-adopts them: none is created twice and the study completes', { timeout: 40_000 }, async () => {
  const { kube, kubeConfig } = await fakeFor();
  const dataDir = tempDir();
  const spec = editedSpec((doc) => {
    // A metrics line before the restart, the rest after it.
    Object.assign(containerOf(doc), { command: ['sh', '-c', 'echo "epoch=0 loss=9 accuracy=0.01"; sleep 1.5; exec node train.mjs "$@"', 'train'] });
    Object.assign(doc.spec, { parallelTrialCount: 3, maxTrialCount: 3 });
  });
  const first = kubeHarness(kubeConfig, dataDir);
  let second: Harness | undefined;
  try {
    const created = await first.store.createStudy(spec, MLP, 1);
    await first.scheduler.adopt([created.id]);
    // Wait until the three TFJobs run (their pods' processes are in their sleep).
    for (let i = 0; i < 100 && kube.all('pods').filter((p) => p['status'].phase === 'Running').length < 3; i++) await sleep(50);
    assert.equal(kube.all('tfjobs').length, 3);
    const observed = () => inspect(first.store).prepare('SELECT count(*) AS n FROM observations').get() as { n: number };
    for (let i = 0; i < 100 && observed().n < 6; i++) await sleep(20);
    assert.equal(observed().n, 6, 'the first runner recorded each trial\'s first line');
    await first.close();
    const running = kube.all('pods').filter((p) => p['status'].phase === 'Running').length;
    assert.equal(running, 3, 'the TFJobs outlive the runner');

    second = kubeHarness(kubeConfig, dataDir);
    await second.scheduler.adopt([created.id]);
    const study = await second.scheduler.waitForEnd(created.id);
    const trials = await second.store.listTrials(created.id);
    assert.equal(study.state, 'SUCCEEDED', study.message ?? '');
    assert.equal(trials.length, 3);
    assert.ok(trials.every((t) => t.state === 'SUCCEEDED'), trials.map((t) => `${t.name} ${t.state} ${t.reason} ${t.message}`).join('\n'));
    for (const t of trials) assert.equal(kube.created.get(t.name), 1, `${t.name} created once`);
    assert.equal(kube.count('POST', '/tfjobs'), 3, 'no create after the restart: recover re-adopted all three');
    assertMetricsMatchLogs(kube, second.store, 'kubeflow', trials, 21, join(second.dataDir, 'logs'));
    assert.deepEqual([...first.errors, ...second.errors], []);
  } finally {
    await second?.close();
    await kube.close();
  }
});

test('conditions: Katib\'s default GJSON paths, failure first; validateForKubernetes', () => {
  const success = compileCondition('status.conditions.#(type=="Succeeded")#|#(status=="True")#');
  const failure = compileCondition('status.conditions.#(type=="Failed")#|#(status=="True")#');
  const job = (conditions: object[]) => ({ status: { conditions } });
  const running = job([{ type: 'Created', status: 'True' }, { type: 'Running', status: 'True' }]);
  assert.deepEqual(judgeJob(running, { success, failure }), { state: 'running' });
  const done = job([{ type: 'Running', status: 'False' }, { type: 'Succeeded', status: 'True', reason: 'TFJobSucceeded', message: 'ok' }]);
  assert.deepEqual(judgeJob(done, { success, failure }), { state: 'succeeded', reason: 'TFJobSucceeded', message: 'ok' });
  const both = job([{ type: 'Succeeded', status: 'True' }, { type: 'Failed', status: 'True', reason: 'R', message: 'M' }]);
  assert.deepEqual(judgeJob(both, { success, failure }), { state: 'failed', reason: 'R', message: 'M' });
  assert.equal(matchOf(evaluateCondition(success, job([{ type: 'Succeeded', status: 'False' }]))), undefined);
  assert.deepEqual(evaluateCondition(compileCondition('status.conditions.#(type=="Succeeded").reason'), done), 'TFJobSucceeded');
  assert.deepEqual(evaluateCondition(compileCondition('status.conditions.#(status!="True")#.type'), done), ['Running']);
  assert.deepEqual(evaluateCondition(compileCondition('status.replicas.#(n>=2)#'), { status: { replicas: [{ n: 1 }, { n: 2 }, { n: 3 }] } }), [{ n: 2 }, { n: 3 }]);
  assert.throws(() => compileCondition('status.conditions.#.type'), /unsupported/);
  assert.throws(() => compileCondition('status.conditions.#(type=Succeeded)'), /JSON literal|unsupported/);

  const spec = parseStudyText(shortTfjobText());
  validateForKubernetes(spec);
  const local = parseStudyDocument({
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'x' },
    spec: { objective: { type: 'maximize', objectiveMetricName: 'a' }, algorithm: { algorithmName: 'grid' }, parameters: [{ name: 'p', parameterType: 'int', feasibleSpace: { min: '1', max: '2' } }], trialTemplate: { command: ['echo', '${trialParameters.p}'], trialParameters: [{ name: 'p', reference: 'p' }] } },
  });
  assert.throws(() => validateForKubernetes(local), (e: unknown) => e instanceof SpecError && e.field === 'spec.trialTemplate.trialSpec' && e.reason === 'required by the kubernetes runtime');
  const badContainer = editedSpec((doc) => (doc.spec.trialTemplate.primaryContainerName = 'pytorch'));
  assert.throws(() => validateForKubernetes(badContainer), (e: unknown) => e instanceof SpecError && e.field === 'spec.trialTemplate.primaryContainerName');
});

test('validateForKubernetes: pod templates\' metadata must be an ObjectMeta with string labels and annotations (each trial\'s labels go there)', () => {
  const refused = (edit: (doc: any) => void, field: string, reason: RegExp) =>
    assert.throws(() => validateForKubernetes(editedSpec(edit)), (e: unknown) => e instanceof SpecError && e.field === field && reason.test(e.reason), field);
  const worker = 'spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker.template.metadata';
  const workerOf = (doc: any) => doc.spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker.template;
  refused((doc) => (workerOf(doc).metadata = 7), worker, /must be an object/);
  refused((doc) => (workerOf(doc).metadata = { labels: ['a'] }), `${worker}.labels`, /must be an object/);
  refused((doc) => (workerOf(doc).metadata = { annotations: { 'sidecar.istio.io/inject': false } }), `${worker}.annotations.sidecar.istio.io/inject`, /must be a string \(got false\)/);
  validateForKubernetes(editedSpec((doc) => (workerOf(doc).metadata = { labels: { team: '' }, annotations: { note: 'kept' } })));

  // An Argo Workflow: the primary template's metadata gets the trial's labels.
  const argo = (edit: (templates: any[]) => void) => {
    const doc = parseYaml(readFileSync(new URL('../../test/fixtures/katib/argo-workflow.yaml', import.meta.url), 'utf8'));
    edit(doc.spec.trialTemplate.trialSpec.spec.templates);
    return parseStudyDocument(doc);
  };
  validateForKubernetes(argo(() => {}));
  const primary = (templates: any[]) => templates.findIndex((t) => t.metadata !== undefined);
  let index = -1;
  const spec = argo((templates) => { index = primary(templates); templates[index].metadata.annotations = { retries: 3 }; });
  assert.throws(() => validateForKubernetes(spec), (e: unknown) => e instanceof SpecError && e.field === `spec.trialTemplate.trialSpec.spec.templates[${index}].metadata.annotations.retries`);
  // The path is the template's position in the list as written, whatever comes before it.
  const shifted = argo((templates) => { templates.unshift('not a template', { name: 'steps-only', steps: [] }); index = primary(templates); templates[index].metadata.annotations = { retries: 3 }; });
  assert.throws(() => validateForKubernetes(shifted), (e: unknown) => e instanceof SpecError && e.field === `spec.trialTemplate.trialSpec.spec.templates[${index}].metadata.annotations.retries`);
  // One template object listed twice (what a YAML alias gives) is two templates: which one is primary is ambiguous.
  const twice = argo((templates) => { templates.push(templates[primary(templates)]); });
  assert.throws(() => validateForKubernetes(twice), (e: unknown) => e instanceof SpecError && e.field === 'spec.trialTemplate.primaryContainerName' && /^2 templates run a container/.test(e.reason));
});

test('setEnv replaces only the variables it sets: an env var named "constructor" and a null entry are left as they are', () => {
  const container = { name: 'c', env: [null, { name: 'constructor', value: 'mine' }, { name: 'SIBYL_TRIAL', value: 'old' }] };
  setEnv(container, { SIBYL_TRIAL: 't-1' });
  assert.deepEqual(container.env, [null, { name: 'constructor', value: 'mine' }, { name: 'SIBYL_TRIAL', value: 't-1' }]);
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

test('medianstop on the kubernetes runtime: a stopped trial\'s TFJob is deleted while it runs, the trial ends EARLY_STOPPED', { timeout: 60_000 }, async () => {
  const curveTrial = fileURLToPath(new URL('../../test/support/curve-trial.mjs', import.meta.url));
  const qualities = ['0.9', '0.8', '0.7', '0.2', '0.85'];
  const spec = editedSpec((doc) => {
    doc.spec.objective = { type: 'maximize', objectiveMetricName: 'accuracy' };
    doc.spec.algorithm = { algorithmName: 'grid' };
    doc.spec.earlyStopping = { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }] };
    doc.spec.parallelTrialCount = 1;
    doc.spec.maxTrialCount = qualities.length;
    doc.spec.parameters = [{ name: 'q', parameterType: 'categorical', feasibleSpace: { list: qualities } }];
    doc.spec.trialTemplate.trialParameters = [{ name: 'q', reference: 'q' }];
    Object.assign(containerOf(doc), { command: ['node', curveTrial], args: ['${trialParameters.q}', '20', '60'] });
  });
  await runOnFake(spec, async ({ kube, h, study, trials }) => {
    assert.equal(study.state, 'SUCCEEDED', study.message ?? '');
    const stopped = trials.filter((t) => t.state === 'EARLY_STOPPED');
    assert.deepEqual(stopped.map((t) => `${t.assignment['q']}@${t.earlyStop?.step}`), ['0.2@4'], trials.map((t) => `${t.name} ${t.state} ${t.message}`).join('\n'));
    const laggard = stopped[0]!;
    const log = kube.operator.podLog('kubeflow', `${laggard.name}-worker-0`);
    assert.ok(metricsInLog(log, 'accuracy').length < 20, 'stopped while it ran: its pod printed fewer than its 20 steps');
    assert.doesNotMatch(log, /done/);
    assert.ok(kube.count('DELETE', `/tfjobs/${laggard.name}`) >= 1, 'its TFJob was deleted');
    assert.equal(laggard.objectiveValue, Math.max(...await h.store.metricValues(laggard.id, 'accuracy')));
    for (const t of trials.filter((x) => x !== laggard)) assert.equal(t.state, 'SUCCEEDED');
  });
});
