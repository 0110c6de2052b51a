// Contract tier for the Experiment controller (src/controller/): Sibyl's server in this process,
// with `--watch-experiments`, against a real kube-apiserver 1.20.2 with deploy/crds/ installed and
// kubectl as a user drives it. There is no kubelet and no training operator: a test-side stand-in
// for the TFJob operator (`JobRunner`, below) pushes each trial's metrics the way a trial would
// and sets the TFJob's conditions; it also plays the garbage collector's part in foreground
// deletion. The real-cluster tier (test/kube-cluster.test.ts) runs the MLP example through the
// in-cluster Sibyl; this file covers the controller's cases one by one: status as Katib writes it,
// Events, invalid specs, a name taken, budget edits, restarts, deletion, and Katib's presence.
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { startServer, type RunningServer } from '../src/server/app.js';
import { freePort, kubectl, repoPath, startKubeApiServer, type KubeApiServer } from './support/kube-apiserver.js';
import { PollLoop } from './support/poll-loop.js';
import { until } from './support/wait.js';

const NS = 'kubeflow';
const TFJOBS = { group: 'kubeflow.org', version: 'v1', namespace: NS, plural: 'tfjobs' } as const;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a trial "learns": a function of its learning rate, pushed for 3 epochs. */
const accuracy = (lr: number, epoch: number) => Math.round((0.9 - Math.abs(Math.log10(lr) + 1.5) * 0.1 + 0.01 * epoch) * 1e6) / 1e6;

function experiment(name: string, spec: Record<string, unknown> = {}, group = 'kubeflow.org'): string {
  return stringify({
    apiVersion: `${group}/v1beta1`, kind: 'Experiment', metadata: { name, namespace: NS },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
      algorithm: { algorithmName: 'grid' },
      parallelTrialCount: 2, maxTrialCount: 3, maxFailedTrialCount: 1,
      parameters: [{ name: 'lr', parameterType: 'discrete', feasibleSpace: { list: ['0.003', '0.03', '0.3', '0.01', '0.1'] } }],
      trialTemplate: {
        primaryContainerName: 'tensorflow',
        trialParameters: [{ name: 'lr', reference: 'lr' }],
        trialSpec: {
          apiVersion: 'kubeflow.org/v1', kind: 'TFJob',
          spec: { tfReplicaSpecs: { Worker: { replicas: 1, restartPolicy: 'Never', template: { spec: { containers: [{ name: 'tensorflow', image: 'unused', args: ['--lr', '${trialParameters.lr}'] }] } } } } },
        },
      },
      ...spec,
    },
  });
}

/**
 * The TFJob operator's stand-in: every TFJob not held is run at once (3 pushed epochs, then
 * Succeeded); held studies' TFJobs stay Running. Polls the real API (no watch needed here).
 */
class JobRunner {
  readonly ran = new Map<string, number>();
  readonly held = new Set<string>();
  readonly errors: string[] = [];
  private readonly co: CustomObjectsApi;
  private readonly loop = new PollLoop(async () => {
    const list = (await this.co.listNamespacedCustomObject({ ...TFJOBS })) as { items: any[] };
    for (const job of list.items) await this.step(job);
  }, this.errors);

  constructor(kc: KubeConfig) {
    this.co = kc.makeApiClient(CustomObjectsApi);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async step(job: any): Promise<void> {
    const name: string = job.metadata.name;
    if (job.metadata.deletionTimestamp) {
      if (job.metadata.finalizers?.includes('foregroundDeletion')) {
        await this.co.patchNamespacedCustomObject({ ...TFJOBS, name, body: { metadata: { finalizers: null } } }, mergePatch);
      }
      return;
    }
    const study = job.metadata.labels['sibyl.dev/study'];
    if (this.ran.has(name)) return;
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const cond = (type: string) => ({ type, status: 'True', reason: `TFJob${type}`, message: type, lastUpdateTime: now, lastTransitionTime: now });
    if (this.held.has(study)) {
      if (!job.status?.conditions) await this.co.patchNamespacedCustomObjectStatus({ ...TFJOBS, name, body: { status: { conditions: [cond('Created'), cond('Running')] } } }, mergePatch);
      return;
    }
    this.ran.set(name, (this.ran.get(name) ?? 0) + 1);
    const container = job.spec.tfReplicaSpecs.Worker.template.spec.containers[0];
    const env = Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const lr = Number(container.args[1]);
    const observations = [1, 2, 3].map((epoch) => ({ metric: 'accuracy', value: accuracy(lr, epoch), step: epoch }));
    const res = await fetch(`${env['SIBYL_PUSH_ENDPOINT']}/api/v1/trials/${env['SIBYL_TRIAL_NAME']}/observations`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${env['SIBYL_PUSH_TOKEN']}` }, body: JSON.stringify({ observations }),
    });
    if (res.status !== 200) this.errors.push(`${name}: push answered ${res.status}: ${await res.text()}`);
    await this.co.patchNamespacedCustomObjectStatus({ ...TFJOBS, name, body: { status: { conditions: [cond('Created'), cond('Running'), cond('Succeeded')] } } }, mergePatch);
  }
}

test('Experiment objects: kubectl apply makes the study, status and Events as Katib writes them, invalid specs, a taken name, budget edits, restarts, kubectl delete, Katib present', {
  timeout: 30 * 60_000, // the first run on a fresh machine builds kube-apiserver (~10 min)
}, async (t) => {
  const srv: KubeApiServer = await startKubeApiServer();
  const dirs: string[] = [];
  const servers: RunningServer[] = [];
  const kc = new KubeConfig();
  kc.loadFromFile(srv.kubeconfigPath);
  const runner = new JobRunner(kc);
  const k = (...args: string[]) => {
    const r = kubectl(srv, args);
    assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  /** kubectl that waits without blocking this process (Sibyl runs in it). */
  const kAsync = (...args: string[]) => new Promise<string>((resolve, reject) => {
    execFile(srv.kubectl, ['--kubeconfig', srv.kubeconfigPath, ...args], { timeout: 120_000 }, (err, stdout, stderr) => (err ? reject(new Error(`kubectl ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
  const apply = (text: string) => {
    const r = kubectl(srv, ['apply', '-f', '-'], text);
    assert.equal(r.status, 0, r.stderr);
  };
  const get = (name: string, group = 'kubeflow.org') => {
    const r = kubectl(srv, ['-n', NS, 'get', `experiments.${group}`, name, '-o', 'json']);
    return r.status === 0 ? JSON.parse(r.stdout) : undefined;
  };
  const events = (name: string) => (JSON.parse(k('-n', NS, 'get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json')).items as any[])
    .map((e) => ({ type: e.type as string, reason: e.reason as string, message: e.message as string, kind: e.involvedObject.kind as string, uid: e.involvedObject.uid as string }));
  const condition = (o: any, type: string) => (o?.status?.conditions as any[] | undefined)?.find((c) => c.type === type);
  const logs: string[] = [];
  const httpPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'sibyl-exp-'));
  dirs.push(dataDir);
  const serve = async (options: { dataDir: string; namespaces: string[]; group?: 'kubeflow.org' | 'sibyl.dev'; httpPort: number }) => {
    const s = await startServer({
      dataDir: options.dataDir, host: '127.0.0.1', grpcPort: 0, httpPort: options.httpPort, runtime: 'kubernetes', kubeconfig: srv.kubeconfigPath,
      pushUrl: `http://127.0.0.1:${options.httpPort}`,
      experiments: { namespaces: options.namespaces, group: options.group ?? 'kubeflow.org', instance: 'test' },
      log: (m) => logs.push(m),
    });
    servers.push(s);
    return s;
  };
  const rest = async (s: RunningServer, method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${s.httpPort}/api/v1${path}`, { method, ...(body ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  try {
    k('apply', '-k', repoPath('deploy', 'crds'));
    k('apply', '-f', repoPath('deploy', 'crds', 'experiment-sibyl.yaml'));
    k('wait', '--for=condition=Established', '--timeout=60s', 'crd/tfjobs.kubeflow.org', 'crd/experiments.kubeflow.org', 'crd/experiments.sibyl.dev', 'crd/trials.sibyl.dev');
    k('create', 'namespace', NS);
    await until('experiments served', 60_000, () => kubectl(srv, ['-n', NS, 'get', 'experiments.kubeflow.org']).status === 0 || undefined);
    runner.start();
    let sibyl = await serve({ dataDir, namespaces: [NS], httpPort });

    await t.test('kubectl apply runs the study to Succeeded; status, printer columns and Events as Katib writes them', async () => {
      apply(experiment('grid-a'));
      const done = await until('grid-a Succeeded', 120_000, () => (condition(get('grid-a'), 'Succeeded')?.status === 'True' ? get('grid-a') : undefined));
      assert.deepEqual(done.metadata.finalizers, ['sibyl.dev/study']);
      const st = done.status;
      assert.deepEqual(st.conditions.map((c: any) => [c.type, c.status, c.reason]), [
        ['Created', 'True', 'ExperimentCreated'], ['Running', 'False', 'ExperimentRunning'], ['Succeeded', 'True', 'ExperimentMaxTrialsReached']]);
      const study = (await rest(sibyl, 'GET', '/studies/grid-a')).body;
      const trials = (await rest(sibyl, 'GET', '/studies/grid-a/trials')).body.trials as any[];
      assert.equal(trials.length, 3);
      assert.deepEqual([st.trials, st.trialsSucceeded, st.trialsFailed, st.trialsRunning, st.trialsPending], [3, 3, 0, 0, 0]);
      assert.deepEqual([...st.succeededTrialList].sort(), trials.map((x) => x.name).sort());
      // The best trial: the store's, with its assignment and metrics as Katib's strings.
      const best = trials.find((x) => x.name === study.best.trial);
      assert.equal(st.currentOptimalTrial.bestTrialName, best.name);
      assert.deepEqual(st.currentOptimalTrial.parameterAssignments, [{ name: 'lr', value: String(best.assignment.lr) }]);
      const lr = Number(best.assignment.lr);
      assert.deepEqual(st.currentOptimalTrial.observation.metrics, [{ name: 'accuracy', min: String(accuracy(lr, 1)), max: String(accuracy(lr, 3)), latest: String(accuracy(lr, 3)) }]);
      assert.equal(st.bestObjectiveValue, String(accuracy(lr, 3)));
      assert.equal(Math.max(...trials.map((x) => x.objectiveValue)), best.objectiveValue, 'the best of the three');
      assert.ok(st.startTime && st.completionTime, 'start and completion times');
      // kubectl get: the printer columns.
      const table = k('-n', NS, 'get', 'experiments.kubeflow.org', 'grid-a');
      assert.match(table.split('\n')[0]!, /NAME\s+TYPE\s+STATUS\s+BEST\s+BEST TRIAL\s+TRIALS\s+SUCCEEDED\s+FAILED\s+RUNNING\s+AGE/);
      assert.match(table.split('\n')[1]!, new RegExp(`grid-a\\s+Succeeded\\s+True\\s+${st.bestObjectiveValue.replace('.', '\\.')}\\s+${best.name}\\s+3\\s+3\\s+0\\s+0\\s`));
      // Events: the study's creation and end, and each trial's transitions, on the Experiment.
      const seen = await until('the Events are written', 30_000, () => {
        const e = events('grid-a');
        return e.filter((x) => x.reason === 'TrialSucceeded').length === 3 && e.some((x) => x.reason === 'ExperimentMaxTrialsReached') ? e : undefined;
      });
      assert.ok(seen.every((e) => e.kind === 'Experiment' && e.uid === done.metadata.uid));
      assert.ok(seen.some((e) => e.reason === 'StudyCreated' && e.type === 'Normal'));
      for (const trial of trials) {
        assert.ok(seen.some((e) => e.reason === 'TrialSucceeded' && e.message.startsWith(`trial ${trial.name}: SUCCEEDED`) && e.message.includes(`lr=${trial.assignment.lr}`)), `${trial.name}'s Event`);
      }
      assert.equal(seen.filter((e) => e.reason === 'TrialSucceeded').length, 3, 'one Event per transition, not per reconcile');
      // kubectl describe shows them.
      assert.match(k('-n', NS, 'describe', 'experiments.kubeflow.org', 'grid-a'), /TrialSucceeded/);
      // The trials as objects: kubectl get answers what the dashboard answers.
      const objects = await until('3 Trial objects, all SUCCEEDED', 30_000, () => {
        const items = JSON.parse(k('-n', NS, 'get', 'trials.sibyl.dev', '-l', 'sibyl.dev/study=grid-a', '-o', 'json')).items as any[];
        return items.length === 3 && items.every((o) => o.status?.state === 'SUCCEEDED') ? items : undefined;
      });
      for (const trial of trials) {
        const o = objects.find((x) => x.metadata.name === trial.name);
        assert.ok(o, `${trial.name} has an object`);
        assert.deepEqual(o.spec.parameterAssignments, [{ name: 'lr', value: String(trial.assignment.lr) }]);
        assert.equal(o.status.objectiveValue, String(trial.objectiveValue));
        assert.deepEqual(o.status.conditions.map((c: any) => [c.type, c.status, c.reason]), [['Succeeded', 'True', 'TrialSucceeded']]);
        const m = trial.metrics[0];
        assert.deepEqual(o.status.observation.metrics, [{ name: 'accuracy', min: String(m.min), max: String(m.max), latest: String(m.latest) }]);
        assert.deepEqual(o.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.uid]), [['Experiment', 'grid-a', done.metadata.uid]]);
      }
      const rows = k('-n', NS, 'get', 'trials.sibyl.dev', '-l', 'sibyl.dev/study=grid-a').trim().split('\n');
      assert.match(rows[0]!, /NAME\s+STUDY\s+STATE\s+OBJECTIVE\s+ASSIGNMENT\s+AGE/);
      assert.equal(rows.length, 4);
      assert.ok(rows.slice(1).every((r) => /\sgrid-a\s+SUCCEEDED\s+0\.\d+\s+lr=0\.\d+\s/.test(r)), rows.join('\n'));
    });

    await t.test('an invalid Experiment gets a Failed condition and a Warning Event naming the field; no study is made', async () => {
      apply(experiment('bad-b', { parameters: [{ name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.5', max: '0.1' } }] }));
      const bad = await until('bad-b refused', 30_000, () => (condition(get('bad-b'), 'Failed') ? get('bad-b') : undefined));
      const c = condition(bad, 'Failed');
      assert.equal(c.status, 'True');
      assert.equal(c.reason, 'ExperimentInvalid');
      assert.match(c.message, /^spec\.parameters\[0\]\.feasibleSpace/);
      assert.equal(condition(bad, 'Created'), undefined, 'never Created');
      const warn = await until('the Warning Event', 30_000, () => events('bad-b').find((e) => e.type === 'Warning'));
      assert.equal(warn.reason, 'ExperimentInvalid');
      assert.equal(warn.message, c.message);
      assert.equal((await rest(sibyl, 'GET', '/studies/bad-b')).status, 404);
      // Fixed with kubectl apply: the study is made then.
      apply(experiment('bad-b', { maxTrialCount: 1, parallelTrialCount: 1 }));
      await until('bad-b fixed and Succeeded', 60_000, () => condition(get('bad-b'), 'Succeeded')?.status === 'True' || undefined);
      assert.equal(condition(get('bad-b'), 'Failed').status, 'False', 'the old refusal is no longer true');
      assert.equal(events('bad-b').filter((e) => e.reason === 'ExperimentInvalid').length, 1, 'one Event for the refusal, not one per reconcile');
    });

    await t.test('a name taken by a study made through the API is refused, and that study is left alone', async () => {
      const made = await rest(sibyl, 'POST', '/studies', { specText: experiment('taken-c'), runtime: 'external' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      apply(experiment('taken-c'));
      const refused = await until('taken-c refused', 30_000, () => condition(get('taken-c'), 'Failed'));
      assert.equal(refused.reason, 'ExperimentNameTaken');
      assert.match(refused.message, /created through the API/);
      assert.equal((await rest(sibyl, 'GET', '/studies/taken-c')).body.runtime, 'external');
      await kAsync('-n', NS, 'delete', 'experiments.kubeflow.org', 'taken-c', '--timeout=60s');
      assert.equal((await rest(sibyl, 'GET', '/studies/taken-c')).status, 200, 'deleting the Experiment does not delete a study it does not own');
    });

    await t.test('editing maxTrialCount and parallelTrialCount on the object changes the budget; an ended study reopens', async () => {
      apply(experiment('budget-d', { maxTrialCount: 2, parallelTrialCount: 1 }));
      await until('budget-d Succeeded at 2', 60_000, () => (get('budget-d')?.status?.trialsSucceeded === 2 && condition(get('budget-d'), 'Succeeded')?.status === 'True') || undefined);
      k('-n', NS, 'patch', 'experiments.kubeflow.org', 'budget-d', '--type=merge', '-p', JSON.stringify({ spec: { maxTrialCount: 4, parallelTrialCount: 2 } }));
      const reopened = await until('budget-d Succeeded at 4', 90_000, () => {
        const o = get('budget-d');
        return o?.status?.trialsSucceeded === 4 && condition(o, 'Succeeded')?.status === 'True' ? o : undefined;
      });
      const study = (await rest(sibyl, 'GET', '/studies/budget-d')).body;
      assert.deepEqual([study.maxTrialCount, study.parallelTrialCount, study.trials.SUCCEEDED], [4, 2, 4]);
      assert.ok(events('budget-d').some((e) => e.reason === 'BudgetChanged' && /maxTrialCount 2 → 4/.test(e.message)));
      assert.equal(reopened.status.trials, 4);
      // An edit Katib would not allow is reported and changes nothing.
      k('-n', NS, 'patch', 'experiments.kubeflow.org', 'budget-d', '--type=merge', '-p', JSON.stringify({ spec: { algorithm: { algorithmName: 'random' } } }));
      await until('the ignored edit is reported', 30_000, () => events('budget-d').find((e) => e.reason === 'SpecChangeIgnored'));
      assert.equal((await rest(sibyl, 'GET', '/studies/budget-d')).body.algorithm, 'grid');
    });

    await t.test('a restart re-reads both: no second study, none lost, and an Experiment applied while Sibyl was down is taken up', async () => {
      const before = (await rest(sibyl, 'GET', '/studies')).body.studies.map((s: any) => s.name).sort();
      await sibyl.close();
      apply(experiment('while-down-e', { maxTrialCount: 1, parallelTrialCount: 1 }));
      await sleep(1000);
      sibyl = await serve({ dataDir, namespaces: [NS], httpPort });
      await until('while-down-e Succeeded', 60_000, () => condition(get('while-down-e'), 'Succeeded')?.status === 'True' || undefined);
      const after = (await rest(sibyl, 'GET', '/studies')).body.studies.map((s: any) => s.name).sort();
      assert.deepEqual(after, [...before, 'while-down-e'].sort());
      assert.equal(get('grid-a').status.trials, 3, 'grid-a still mirrors its 3 trials');
      assert.equal((await rest(sibyl, 'GET', '/studies/grid-a/trials')).body.trials.length, 3, 'and ran none again');
    });

    await t.test('kubectl delete of a running Experiment stops its trials, deletes their objects and the study', async () => {
      runner.held.add('running-f');
      apply(experiment('running-f', { maxTrialCount: 4, parallelTrialCount: 2 }));
      await until('two trials run', 60_000, () => get('running-f')?.status?.trialsRunning === 2 || undefined);
      const jobs = () => ((JSON.parse(k('-n', NS, 'get', 'tfjobs', '-l', 'sibyl.dev/study=running-f', '-o', 'json')).items) as unknown[]).length;
      assert.equal(jobs(), 2);
      await kAsync('-n', NS, 'delete', 'experiments.kubeflow.org', 'running-f', '--timeout=90s');
      assert.equal(get('running-f'), undefined, 'the Experiment is gone');
      assert.equal(jobs(), 0, 'its TFJobs were gone before the finalizer was removed');
      assert.equal((await rest(sibyl, 'GET', '/studies/running-f')).status, 404, 'the study is deleted');
      assert.deepEqual(JSON.parse(k('-n', NS, 'get', 'trials.sibyl.dev', '-l', 'sibyl.dev/study=running-f', '-o', 'json')).items, [], 'and its Trial objects');
      assert.ok(events('running-f').some((e) => e.reason === 'ExperimentDeleted'));
    });

    await t.test('sibyl.dev Experiments, for clusters where Katib runs: the same controller, in its own group', async () => {
      const other = mkdtempSync(join(tmpdir(), 'sibyl-exp-'));
      dirs.push(other);
      const second = await serve({ dataDir: other, namespaces: [NS], group: 'sibyl.dev', httpPort: await freePort() });
      apply(experiment('own-group-g', { maxTrialCount: 1, parallelTrialCount: 1 }, 'sibyl.dev'));
      await until('own-group-g Succeeded', 60_000, () => condition(get('own-group-g', 'sibyl.dev'), 'Succeeded')?.status === 'True' || undefined);
      assert.equal((await rest(second, 'GET', '/studies/own-group-g')).status, 200);
      assert.equal((await rest(sibyl, 'GET', '/studies/own-group-g')).status, 404, 'the kubeflow.org controller never saw it');
      await second.close();
    });

    await t.test('where Katib\'s Suggestion kind is served, Sibyl leaves kubeflow.org Experiments alone', async () => {
      const katibCrd = {
        apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'suggestions.kubeflow.org' },
        spec: { group: 'kubeflow.org', scope: 'Namespaced', names: { kind: 'Suggestion', plural: 'suggestions', singular: 'suggestion', listKind: 'SuggestionList' },
          versions: [{ name: 'v1beta1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
      };
      apply(JSON.stringify(katibCrd));
      k('wait', '--for=condition=Established', '--timeout=60s', 'crd/suggestions.kubeflow.org');
      await until('Suggestion discoverable', 30_000, () => kubectl(srv, ['api-resources', '--api-group=kubeflow.org', '-o', 'name']).stdout.includes('suggestions') || undefined);
      k('create', 'namespace', 'with-katib');
      const other = mkdtempSync(join(tmpdir(), 'sibyl-exp-'));
      dirs.push(other);
      const third = await serve({ dataDir: other, namespaces: ['with-katib'], httpPort: await freePort() });
      apply(experiment('katib-owned-h').replace(`namespace: ${NS}`, 'namespace: with-katib'));
      await sleep(3000);
      const o = JSON.parse(k('-n', 'with-katib', 'get', 'experiments.kubeflow.org', 'katib-owned-h', '-o', 'json'));
      assert.equal(o.metadata.finalizers, undefined, 'no finalizer added');
      assert.equal(o.status, undefined, 'no status written');
      assert.equal((await rest(third, 'GET', '/studies/katib-owned-h')).status, 404);
      assert.ok(logs.some((m) => /Katib's controller runs on this cluster/.test(m)), logs.join('\n'));
      await third.close();
    });

    assert.deepEqual(runner.errors, []);
  } finally {
    await runner.stop();
    for (const s of servers) await s.close().catch(() => {});
    await srv.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
});
