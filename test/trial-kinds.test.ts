// Every trial kind Katib's examples use: Katib's example files validate for the kubernetes
// runtime; each kind's primary container is found by the kind's rule and gets the trial's env;
// Katib's GJSON forms (`[@this]`, `#(…)#`) judge the jobs; what cannot run is refused with what is
// wrong; and batch Job, TrainJob, Argo Workflow and Tekton PipelineRun studies run end to end on
// the fake API server, whose stand-in controllers (test/support/stand-ins/workloads.ts) play the
// TrainJob, Argo and Tekton controllers, each with a trial that succeeds and one that fails.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubernetesRuntime } from '../src/runtimes/kubernetes/index.js';
import { compileCondition, evaluateCondition, judgeJob } from '../src/runtimes/kubernetes/conditions.js';
import { planFor, renderTrial } from '../src/runtimes/kubernetes/render.js';
import { validateForKubernetes } from '../src/runtimes/kubernetes/validate.js';
import { templateArgv } from '../src/runtimes/local/argv.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument, parseStudyText } from '../src/spec/parse.js';
import type { StudySpec } from '../src/spec/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { startFakeKube, type FakeKube } from './support/fake-kube/index.js';
import { harness, runToEnd, tempDir } from './support/study.js';
import { argoStudy, BAD_LAYERS, batchJobStudy, EPOCHS, GOOD_LAYERS, metricsInLog, tektonStudy, trainJobStudy } from './support/trial-kinds.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/katib/', import.meta.url));
const MLP = fileURLToPath(new URL('../../examples/mlp/', import.meta.url));
const fixtureText = (name: string) => readFileSync(join(FIXTURES, `${name}.yaml`), 'utf8');
const fixture = (name: string) => parseStudyText(fixtureText(name));

const launchOf = (spec: StudySpec, trialName = 'trial-1') => ({
  studyName: spec.name,
  trialName,
  namespace: spec.namespace ?? 'default',
  template: spec.trialTemplate,
  baseDir: MLP,
  assignment: Object.fromEntries(spec.parameters.map((p) => [p.name, 'list' in p ? p.list[0]! : p.min])),
});
const envOf = (c: any) => Object.fromEntries((c.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));

test('Katib\'s examples of every trial kind validate for the kubernetes runtime, each with its primary pod and container', () => {
  const cases: [string, string, string][] = [
    ['random', 'job-name=trial-1', 'training-container'],
    ['pytorchjob-mnist', 'training.kubeflow.org/job-name=trial-1,training.kubeflow.org/job-role=master', 'pytorch'],
    ['mpijob-horovod', 'training.kubeflow.org/job-name=trial-1,mpi-job-role=launcher', 'mpi-launcher'],
    ['xgboostjob-lightgbm', 'training.kubeflow.org/job-name=trial-1,training.kubeflow.org/job-role=master', 'xgboost'],
    ['trainjob-pytorch', 'jobset.sigs.k8s.io/jobset-name=trial-1,jobset.sigs.k8s.io/replicatedjob-name=node,batch.kubernetes.io/job-completion-index=0', 'node'],
    ['argo-workflow', 'workflows.argoproj.io/workflow=trial-1,katib.kubeflow.org/model-training=true', 'main'],
  ];
  for (const [name, selector, container] of cases) {
    const spec = fixture(name);
    validateForKubernetes(spec);
    const plan = planFor(spec.trialTemplate);
    assert.equal(plan.podSelector('trial-1'), selector, name);
    assert.equal(plan.container, container, name);
  }
  // Katib's conditions for the Argo example: its workflow is judged by status.phase.
  const argo = planFor(fixture('argo-workflow').trialTemplate);
  assert.equal(judgeJob({ status: { phase: 'Running' } }, argo.conditions).state, 'running');
  assert.deepEqual(judgeJob({ status: { phase: 'Failed', message: 'child failed' } }, argo.conditions), { state: 'failed', reason: '', message: 'child failed' });
  assert.equal(judgeJob({ status: { phase: 'Succeeded' } }, argo.conditions).state, 'succeeded');
});

test('Katib\'s Tekton example is refused as Katib\'s webhook refuses it (its placeholder is Tekton\'s $(…), not ${trialParameters.…}); with it fixed it validates', () => {
  assert.throws(() => fixture('pipeline-run'), (e: unknown) => e instanceof SpecError && e.field === 'spec.trialTemplate.trialParameters[0].name' && /learningRate/.test(e.reason));
  const fixed = parseStudyText(fixtureText('pipeline-run').replace('$(trialParameters.lr)', '${trialParameters.learningRate}'));
  validateForKubernetes(fixed);
  const plan = planFor(fixed.trialTemplate);
  assert.equal(plan.podSelector('trial-1'), 'tekton.dev/pipelineRun=trial-1,tekton.dev/pipelineTask=model-training');
  assert.equal(plan.container, 'step-model-training');
  const running = { status: { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }] } };
  assert.equal(judgeJob(running, plan.conditions).state, 'running');
  assert.equal(judgeJob({ status: { conditions: [{ type: 'Succeeded', status: 'False', reason: 'Failed', message: 'Tasks Completed: 1 (Failed: 1' }] } }, plan.conditions).state, 'failed');
  assert.equal(judgeJob({ status: { conditions: [{ type: 'Succeeded', status: 'True', reason: 'Succeeded' }] } }, plan.conditions).state, 'succeeded');
});

test('GJSON: [@this] wraps an object so #(…)# queries it, multipaths, @this; Katib\'s own test case', () => {
  const ev = (expr: string, doc: unknown) => evaluateCondition(compileCondition(expr), doc);
  const wf = { status: { phase: 'Succeeded', message: 'done' } };
  assert.deepEqual(ev('status.[@this]', wf), [wf.status]);
  assert.deepEqual(ev('status.[@this].#(phase=="Succeeded")#', wf), [wf.status]);
  assert.deepEqual(ev('status.[@this].#(phase=="Failed")#', wf), []);
  assert.deepEqual(ev('status.@this', wf), wf.status);
  // Katib's job_util_test: `status.[@this].#(succeeded==1)` is the status object of a Job with one success.
  assert.deepEqual(ev('status.[@this].#(succeeded==1)', { status: { succeeded: 1 } }), { succeeded: 1 });
  assert.equal(ev('status.[@this].#(succeeded==1)', { status: { succeeded: 0 } }), undefined);
  // A multipath of two paths; a missing one is left out.
  assert.deepEqual(ev('status.[phase,message,missing]', wf), ['Succeeded', 'done']);
  assert.deepEqual(ev('status.conditions.#(type=="Complete")#|#(status=="True")#', { status: { conditions: [{ type: 'Complete', status: 'True' }] } }), [{ type: 'Complete', status: 'True' }]);
  for (const [expr, part] of [
    ['status.@reverse', '@reverse'],
    ['status.{phase}', '{phase}'],
    ['status.[]', '[]'],
    ['status.#', '#'],
  ] as const) {
    assert.throws(() => compileCondition(expr), (e: unknown) => e instanceof Error && e.message.includes(`"${part}"`), expr);
  }
});

/** A study document with its trialTemplate replaced. */
function withTemplate(template: Record<string, unknown>): unknown {
  const doc = parseYaml(fixtureText('random'));
  doc.spec.trialTemplate = { trialParameters: doc.spec.trialTemplate.trialParameters, ...template };
  return doc;
}

const TRAINER = { image: 'x', command: ['train', '--lr=${trialParameters.learningRate}', '--momentum=${trialParameters.momentum}'] };
const argoTemplates = (labels?: Record<string, string>) => [
  { name: 'entry', steps: [[{ name: 'a', template: 'prep' }], [{ name: 'b', template: 'train' }]] },
  { name: 'prep', script: { image: 'x', command: ['sh'], source: 'echo' } },
  { name: 'train', ...(labels ? { metadata: { labels } } : {}), container: { name: 'model-training', ...TRAINER } },
];
const ARGO_CONDITIONS = { successCondition: 'status.[@this].#(phase=="Succeeded")#', failureCondition: 'status.[@this].#(phase=="Failed")#' };

test('a kind that cannot be run is refused with what is wrong (table)', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a bare Pod', { primaryContainerName: 'c', trialSpec: { apiVersion: 'v1', kind: 'Pod', spec: { containers: [{ name: 'c', ...TRAINER }] } } }, 'spec.trialTemplate.trialSpec.apiVersion', /core-group kinds \(v1 Pod\).*no job status.*wrap the pod in a Job/],
    ['an unknown kind without conditions', { primaryContainerName: 'c', trialSpec: { apiVersion: 'example.com/v1', kind: 'Widget', spec: { template: { spec: { containers: [{ name: 'c', ...TRAINER }] } } } } }, 'spec.trialTemplate.successCondition', /required for kind Widget \(example\.com\/v1\): Katib has no default for it$/],
    ['an Argo Workflow without conditions', { primaryContainerName: 'main', trialSpec: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', spec: { entrypoint: 'train', templates: argoTemplates().slice(2) } } }, 'spec.trialTemplate.successCondition', /Katib has no default for it; Katib's example uses status\.\[@this\]\.#\(phase=="Succeeded"\)#/],
    ['a Job without the named container', { primaryContainerName: 'trainer', trialSpec: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { containers: [{ name: 'main', ...TRAINER }, { name: 'sidecar', image: 'y' }] } } } } }, 'spec.primaryContainerName', /no container named "trainer" in the trialSpec \(its containers: main, sidecar\)/],
    ['a kind without pod templates', { primaryContainerName: 'c', successCondition: 'status.ok', failureCondition: 'status.bad', trialSpec: { apiVersion: 'example.com/v1', kind: 'Widget', spec: { size: 1, note: '${trialParameters.learningRate}${trialParameters.momentum}' } } }, 'spec.primaryContainerName', /no container named "c".*no pod template with a containers list/],
    ['a TrainJob whose container is not "node"', { primaryContainerName: 'pytorch', trialSpec: { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', spec: { runtimeRef: { name: 'torch' }, trainer: TRAINER } } }, 'spec.primaryContainerName', /TrainJob runs its trainer \(spec\.trainer\) in the runtime's container "node".*set primaryContainerName to "node"/],
    ['an Argo Workflow with its template container\'s name', { primaryContainerName: 'model-training', ...ARGO_CONDITIONS, trialSpec: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', spec: { entrypoint: 'entry', templates: argoTemplates({ primary: 'yes' }) } } }, 'spec.primaryContainerName', /"model-training" is the container of template train, but Argo runs a template's container as "main" in its pod: set primaryContainerName to "main"/],
    ['an Argo Workflow with two container templates and no primaryPodLabels', { primaryContainerName: 'main', ...ARGO_CONDITIONS, trialSpec: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', spec: { entrypoint: 'entry', templates: argoTemplates() } } }, 'spec.primaryContainerName', /2 templates run a container \(prep, train\): set primaryPodLabels/],
    ['an Argo Workflow whose primaryPodLabels match no template', { primaryContainerName: 'main', primaryPodLabels: { role: 'train' }, ...ARGO_CONDITIONS, trialSpec: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', spec: { entrypoint: 'entry', templates: argoTemplates({ role: 'trainer' }) } } }, 'spec.primaryContainerName', /no template with a container has the primaryPodLabels \(role=train\) in its metadata\.labels \(templates: prep, train\)/],
    ['a Tekton step named without its container prefix', { primaryContainerName: 'train', successCondition: 'status.a', failureCondition: 'status.b', trialSpec: { apiVersion: 'tekton.dev/v1beta1', kind: 'PipelineRun', spec: { pipelineSpec: { tasks: [{ name: 't', taskSpec: { steps: [{ name: 'train', ...TRAINER }] } }] } } } }, 'spec.primaryContainerName', /Tekton runs step <s> as container "step-<s>": set primaryContainerName to "step-train" for step train/],
    ['a Tekton step that is not there', { primaryContainerName: 'step-fit', successCondition: 'status.a', failureCondition: 'status.b', trialSpec: { apiVersion: 'tekton.dev/v1beta1', kind: 'PipelineRun', spec: { pipelineSpec: { tasks: [{ name: 't', taskSpec: { steps: [{ name: 'train', ...TRAINER }] } }] } } } }, 'spec.primaryContainerName', /no step named "fit" in spec\.pipelineSpec\.tasks\[\]\.taskSpec\.steps \(steps: t\/train\)/],
    ['a PipelineRun of a referenced Pipeline', { primaryContainerName: 'step-train', successCondition: 'status.a', failureCondition: 'status.b', trialSpec: { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', spec: { pipelineRef: { name: 'p' }, params: [{ name: 'x', value: '${trialParameters.learningRate}${trialParameters.momentum}' }] } } }, 'spec.primaryContainerName', /refers to a Pipeline \(spec\.pipelineRef\) whose steps Sibyl cannot see: embed it as spec\.pipelineSpec/],
    ['an unsupported GJSON modifier', { primaryContainerName: 'main', successCondition: 'status.@reverse.#(phase=="Succeeded")', failureCondition: 'status.[@this].#(phase=="Failed")#', trialSpec: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', spec: { entrypoint: 'train', templates: argoTemplates().slice(2) } } }, 'spec.trialTemplate.successCondition', /unsupported modifier "@reverse".*only @this/],
  ];
  for (const [what, template, field, reason] of cases) {
    let spec: StudySpec;
    try {
      spec = parseStudyDocument(withTemplate(template));
    } catch (err) {
      assert.fail(`${what}: the parser refused it: ${(err as Error).message}`);
    }
    assert.throws(() => validateForKubernetes(spec), (e: unknown) => {
      assert.ok(e instanceof SpecError, `${what}: ${String(e)}`);
      assert.equal(e.field, field.startsWith('spec.trialTemplate') ? field : `spec.trialTemplate.${field.slice('spec.'.length)}`, what);
      assert.match(e.reason, reason, what);
      return true;
    }, what);
  }
});

test('file collectors and checkpoint folders need the primary container in a pod template: a TrainJob (trainer) and an Argo Workflow are refused naming the setting; a batch Job is not', () => {
  const volume = { claimName: 'checkpoints', dir: tempDir() };
  const with_ = (name: string, edit: (doc: any) => void) => {
    const doc = parseYaml(fixtureText(name));
    edit(doc);
    return parseStudyDocument(doc);
  };
  const fileCollector = (doc: any) => {
    doc.spec.metricsCollectorSpec = { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/var/log/metrics.log', kind: 'File' } } };
  };
  const checkpoints = (doc: any) => {
    doc.spec.algorithm = { algorithmName: 'pbt', algorithmSettings: [{ name: 'suggestion_trial_dir', value: '/var/log/katib/checkpoints/' }, { name: 'n_population', value: '5' }, { name: 'truncation_threshold', value: '0.4' }] };
  };
  for (const kind of ['trainjob-pytorch', 'argo-workflow']) {
    assert.throws(() => validateForKubernetes(with_(kind, fileCollector), { checkpointVolume: volume }), (e: unknown) =>
      e instanceof SpecError && e.field === 'spec.metricsCollectorSpec.collector.kind' && /File collector reads files through the primary container of a pod template.*use StdOut or Push/.test(e.reason), `${kind}, File collector`);
    assert.throws(() => validateForKubernetes(with_(kind, checkpoints), { checkpointVolume: volume }), (e: unknown) =>
      e instanceof SpecError && e.field === 'spec.algorithm.algorithmSettings[suggestion_trial_dir]' && /mounted into the primary container of a pod template/.test(e.reason), `${kind}, pbt`);
  }
  validateForKubernetes(with_('random', fileCollector), { checkpointVolume: volume });
  validateForKubernetes(with_('random', checkpoints), { checkpointVolume: volume });
});

test('the trial\'s env reaches the primary container of every kind (a TrainJob\'s trainer, an Argo template, a Tekton step, an MPIJob launcher), and only it', () => {
  const opts = { pushEndpoint: 'http://127.0.0.1:9/push', pushToken: 'tok' };
  const check = (c: any, what: string) => {
    const env = envOf(c);
    assert.equal(env['KATIB_TRIAL_NAME'], 'trial-1', what);
    assert.equal(env['SIBYL_TRIAL_NAME'], 'trial-1', what);
    assert.equal(env['SIBYL_PUSH_ENDPOINT'], 'http://127.0.0.1:9/push', what);
    assert.equal(env['SIBYL_PUSH_TOKEN'], 'tok', what);
  };
  const train = renderTrial(launchOf(fixture('trainjob-pytorch')), opts).object;
  check(train['spec'].trainer, 'TrainJob spec.trainer');
  assert.equal(train['spec'].trainer.numNodes, 2);
  assert.match(train['spec'].trainer.command.join(' '), /--lr=0\.01 /, 'placeholders substituted in the trainer');

  const bare = parseStudyDocument(withTemplate({ primaryContainerName: 'node', trialSpec: { apiVersion: 'trainer.kubeflow.org/v1alpha1', kind: 'TrainJob', metadata: { annotations: { a: '${trialParameters.learningRate}${trialParameters.momentum}' } }, spec: { runtimeRef: { name: 'torch' } } } }));
  validateForKubernetes(bare);
  check(renderTrial(launchOf(bare), opts).object['spec'].trainer, 'a TrainJob without trainer gets one for the env');
  assert.equal((bare.trialTemplate.trialSpec!['spec'] as Record<string, unknown>)['trainer'], undefined, 'the template itself is not changed');

  const argo = renderTrial(launchOf(fixture('argo-workflow')), opts).object;
  const [, gen, model] = argo['spec'].templates;
  check(model.container, 'Argo: the primary template\'s container');
  assert.equal(gen.script.env, undefined, 'the other template gets nothing');
  assert.equal(model.metadata.labels['katib.kubeflow.org/model-training'], 'true');
  assert.equal(model.metadata.labels['sibyl.dev/trial'], 'trial-1', 'the primary template\'s pod is labelled');

  const fixed = parseStudyText(fixtureText('pipeline-run').replace('$(trialParameters.lr)', '${trialParameters.learningRate}'));
  const tekton = renderTrial(launchOf(fixed), opts).object;
  const [prep, training] = tekton['spec'].pipelineSpec.tasks;
  check(training.taskSpec.steps[0], 'Tekton: the primary step');
  assert.equal(prep.taskSpec.steps[0].env, undefined);

  const mpi = renderTrial(launchOf(fixture('mpijob-horovod')), opts).object;
  check(mpi['spec'].mpiReplicaSpecs.Launcher.template.spec.containers[0], 'MPIJob launcher');
  assert.equal(mpi['spec'].mpiReplicaSpecs.Worker.template.spec.containers[0].env, undefined);

  // The local runtime runs the same primary container's command.
  assert.deepEqual(templateArgv(fixture('trainjob-pytorch').trialTemplate)?.slice(0, 2), ['python3', '/opt/pytorch-mnist/mnist.py']);
  assert.deepEqual(templateArgv(fixture('argo-workflow').trialTemplate)?.slice(0, 2), ['python3', '/opt/pytorch-mnist/mnist.py']);
});

interface KindRun {
  readonly kube: FakeKube;
  readonly store: SqliteStore;
  readonly studyId: number;
  readonly logs: string[];
  readonly posts: Record<string, any>[];
}

async function runStudy(spec: StudySpec, plural: string, body: (run: KindRun) => void): Promise<void> {
  const { kube, kubeConfig } = await startFakeKube({ resolveWorkingDir: () => MLP, bookmarkMs: 500 });
  const h = harness(tempDir(), {
    runtime: (listener, { log }) => new KubernetesRuntime({ kubeConfig: kubeConfig as KubeConfig, listener, log, requestTimeoutMs: 2000, podPollMs: 100, pushEndpoint: 'http://127.0.0.1:1/push' }),
  });
  try {
    validateForKubernetes(spec);
    const { study } = await runToEnd(h, spec, 1, MLP);
    const posts = kube.requests.filter((r) => r.method === 'POST' && r.path.endsWith(`/${plural}`)).map((r) => r.body!);
    body({ kube, store: h.store, studyId: study.id, logs: h.logs, posts });
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
    await kube.close();
  }
}

/** The good trial SUCCEEDED with every metric of its primary pod's log, the bad one FAILED with its exit code. */
async function assertOutcomes(run: KindRun, namespace: string, container: string, primaryPod: RegExp, failed = { reason: /^NonZeroExit$/, message: new RegExp(`container ${container}: exit code 2`) }): Promise<void> {
  const trials = await run.store.listTrials(run.studyId);
  assert.equal(trials.length, 2);
  const good = trials.find((t) => Number(t.assignment['hidden_layers']) === GOOD_LAYERS)!;
  const bad = trials.find((t) => Number(t.assignment['hidden_layers']) === BAD_LAYERS)!;
  assert.equal(good.state, 'SUCCEEDED', `${good.reason} ${good.message}\n${run.logs.join('\n')}`);
  assert.equal(bad.state, 'FAILED', `${bad.reason} ${bad.message}`);
  assert.match(bad.reason ?? '', failed.reason, bad.message ?? '');
  assert.match(bad.message ?? '', failed.message);
  // The log Sibyl read is the primary pod's, asked for by the container's name in the pod.
  const reads = run.kube.requests.filter((r) => r.method === 'GET' && /\/pods\/[^/]+\/log$/.test(r.path) && r.path.includes(good.name));
  assert.ok(reads.length > 0, 'the good trial\'s log was read');
  for (const r of reads) {
    assert.match(r.path, primaryPod, 'the primary pod\'s log');
    assert.equal(r.query.get('container'), container, 'by the container\'s name in the pod');
  }
  const pod = /\/pods\/([^/]+)\/log$/.exec(reads[0]!.path)![1]!;
  const accuracy = metricsInLog(run.kube.operator.podLog(namespace, pod), 'accuracy');
  assert.equal(accuracy.length, EPOCHS);
  assert.deepEqual(await run.store.metricValues(good.id, 'accuracy'), accuracy, 'every accuracy line of the primary pod, once, and nothing of the others');
  assert.equal(good.objectiveValue, accuracy.at(-1));
  // Every trial's env was in its primary container.
  for (const body of run.posts) assert.ok(JSON.stringify(body).includes(`"name":"KATIB_TRIAL_NAME","value":"${body['metadata'].name}"`), `${body['metadata'].name}: env`);
}

test('a batch Job study runs to its success and failure conditions (the fake\'s Job controller)', { timeout: 60_000 }, async () => {
  await runStudy(batchJobStudy('kinds'), 'jobs', (run) => assertOutcomes(run, 'kinds', 'training', /\/pods\/kinds-job-[a-z0-9-]+-[a-z0-9]{5}\/log$/));
});

test('a TrainJob study runs to Complete and Failed (stand-in controller): two node pods per trial, the primary one is node index 0, container "node"', { timeout: 60_000 }, async () => {
  await runStudy(trainJobStudy('kinds'), 'trainjobs', (run) => {
    // Either node may fail first, and the JobSet fails with it: the primary pod's exit code, or the TrainJob's word.
    assertOutcomes(run, 'kinds', 'node', /-node-0-0-[a-z0-9]{5}\/log$/, { reason: /^(NonZeroExit|JobSetFailed)$/, message: /container node: exit code 2|jobset kinds-trainjob-\d+: 1 node pod\(s\) failed/ });
    const body = run.posts[0]!;
    assert.equal(body['spec'].trainer.numNodes, 2);
    assert.ok(body['spec'].trainer.command.includes('--hidden-layers'));
  });
});

test('an Argo Workflow study runs to status.[@this].#(phase=="Succeeded")# and …"Failed" (stand-in controller): the training pod of two, container "main" beside "wait"', { timeout: 60_000 }, async () => {
  await runStudy(argoStudy('kinds', { 'katib.kubeflow.org/model-training': 'true' }), 'workflows', (run) => {
    assertOutcomes(run, 'kinds', 'main', /-train-[a-z0-9]{5}\/log$/);
    for (const body of run.posts) assert.equal(body['spec'].templates[2].metadata.labels['sibyl.dev/trial'], body['metadata'].name, 'the primary template\'s pod is labelled');
  });
});

test('a Tekton PipelineRun study runs to Succeeded True and False (stand-in controller): the train task\'s pod, container "step-train"', { timeout: 60_000 }, async () => {
  await runStudy(tektonStudy('kinds'), 'pipelineruns', (run) => assertOutcomes(run, 'kinds', 'step-train', /-train-pod\/log$/));
});

test('a primary pod without the primary container fails its trial with what is wrong, not as METRICS_UNAVAILABLE', { timeout: 60_000 }, async () => {
  // Where the spec shows it, validation refuses it: primaryPodLabels that pick a task without the step.
  const tekton = tektonStudy('kinds');
  const wrong: StudySpec = { ...tekton, trialTemplate: { ...tekton.trialTemplate, primaryPodLabels: { 'tekton.dev/pipelineTask': 'prepare' } } };
  assert.throws(() => validateForKubernetes(wrong), (e: unknown) => e instanceof SpecError && /no step named "train".*of task prepare/.test(e.reason));
  // Where only the running pod shows it: a batch Job whose pod's containers are not the template's
  // (as if a mutating webhook renamed them), played by renaming the fake's pods as they are created.
  const job = batchJobStudy('kinds');
  await runStudyWithRename(job, async (run) => {
    const trials = await run.store.listTrials(run.studyId);
    for (const t of trials) {
      assert.equal(t.state, 'FAILED', `${t.name}: ${t.state} ${t.reason}`);
      assert.equal(t.reason, 'PrimaryContainerNotFound');
      assert.match(t.message ?? '', /has no container "training" \(its containers: renamed\): check primaryContainerName and primaryPodLabels/);
    }
  });
});

async function runStudyWithRename(spec: StudySpec, body: (run: KindRun) => void): Promise<void> {
  const { kube, kubeConfig } = await startFakeKube({ resolveWorkingDir: () => MLP, bookmarkMs: 500 });
  const insert = kube.insert.bind(kube);
  kube.insert = (collection, obj) => {
    if (obj['kind'] === 'Pod') for (const c of obj['spec']?.containers ?? []) c.name = 'renamed';
    return insert(collection, obj);
  };
  const h = harness(tempDir(), {
    runtime: (listener, { log }) => new KubernetesRuntime({ kubeConfig, listener, log, requestTimeoutMs: 2000, podPollMs: 100 }),
  });
  try {
    const { study } = await runToEnd(h, spec, 1, MLP);
    body({ kube, store: h.store, studyId: study.id, logs: h.logs, posts: [] });
  } finally {
    await h.close();
    await kube.close();
  }
}
