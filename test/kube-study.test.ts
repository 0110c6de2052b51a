// Contract tier, end to end: the real `sibyl run <tfjob study> --runtime kubernetes` (a child
// process) against a real kube-apiserver 1.20.2 with Sibyl's TFJob CRD. There is no kubelet and no
// training operator: a test-side operator watches the TFJobs through the real API, reads each
// one's args and env, moves its status Created → Running → Succeeded (status subresource), and in
// between pushes the trial's metrics to SIBYL_PUSH_ENDPOINT the way a trial would. It also plays
// the garbage collector's part in foreground deletion (removes the `foregroundDeletion`
// finalizer), so a deleted TFJob really goes away.
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, loadYaml, PatchStrategy, setHeaderOptions, Watch, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { runCli, startCli } from './support/cli.js';
import { freePort, repoPath, startKubeApiServer, type KubeApiServer } from './support/kube-apiserver.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

const NS = 'kubeflow';
const G = { group: 'kubeflow.org', version: 'v1', namespace: NS, plural: 'tfjobs' } as const;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EPOCHS = 3;

/** The promise's value, or undefined after ms (the timer does not outlive it). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const cond = (type: string, status: 'True' | 'False', reason: string, message: string) =>
  ({ type, status, reason, message, lastUpdateTime: now(), lastTransitionTime: now() });

/** What a trial of the MLP example "learns": a deterministic function of its args and the epoch. */
function accuracy(lr: number, layers: number, epoch: number): number {
  return Math.round((0.5 + 0.1 * layers - Math.abs(Math.log10(lr) + 1.5) * 0.1 + 0.01 * epoch) * 1e6) / 1e6;
}

/** The value after a flag in an argv (`--flag value`) or in `--flag=value`. */
function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

interface Seen {
  readonly name: string;
  readonly uid: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  running: boolean;
  pushed: number[];
  succeeded: boolean;
}

/**
 * The test-side operator: follows the TFJobs of one study through a watch (resumed from its last
 * resourceVersion if it ends), records every ADDED event, and runs each new job to success.
 * `hold` (while set) keeps jobs Running after their first pushed epoch.
 */
class TestOperator {
  readonly added: { name: string; uid: string }[] = [];
  readonly jobs = new Map<string, Seen>();
  readonly errors: string[] = [];
  private readonly co: CustomObjectsApi;
  private abort?: AbortController;
  private stopped = false;
  private rv = '';
  private release?: () => void;
  private held?: Promise<void>;

  constructor(private readonly kc: KubeConfig, private readonly study: string) {
    this.co = kc.makeApiClient(CustomObjectsApi);
  }

  hold(): void {
    this.held = new Promise((r) => (this.release = r));
  }

  unhold(): void {
    this.release?.();
    this.held = undefined;
  }

  async start(): Promise<void> {
    const list = (await this.co.listNamespacedCustomObject({ ...G, labelSelector: `sibyl.dev/study=${this.study}` })) as any;
    this.rv = list.metadata.resourceVersion;
    await this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.unhold();
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    this.abort = await new Watch(this.kc).watch(`/apis/kubeflow.org/v1/namespaces/${NS}/tfjobs`,
      { resourceVersion: this.rv, labelSelector: `sibyl.dev/study=${this.study},sibyl.dev/trial` },
      (type, obj: any) => {
        if (obj?.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
        if (type === 'ADDED') this.onAdded(obj);
        if ((type === 'ADDED' || type === 'MODIFIED') && obj.metadata.deletionTimestamp && obj.metadata.finalizers?.includes('foregroundDeletion')) {
          // The garbage collector's part: a TFJob without pods has no dependents to wait for.
          void this.co.patchNamespacedCustomObject({ ...G, name: obj.metadata.name, body: { metadata: { finalizers: null } } }, mergePatch)
            .catch((e) => this.errors.push(`finalizer ${obj.metadata.name}: ${String(e)}`));
        }
      },
      () => void sleep(200).then(() => this.watch()).catch((e) => this.errors.push(`watch: ${String(e)}`)));
  }

  private onAdded(obj: any): void {
    const name: string = obj.metadata.name;
    this.added.push({ name, uid: obj.metadata.uid });
    if (this.jobs.has(name)) return; // counted; never run twice
    const container = (obj.spec.tfReplicaSpecs.Worker.template.spec.containers as any[]).find((c) => c.name === 'tensorflow');
    const env = Object.fromEntries(((container?.env ?? []) as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    const seen: Seen = { name, uid: obj.metadata.uid, args: [...(container?.args ?? [])], env, running: false, pushed: [], succeeded: false };
    this.jobs.set(name, seen);
    this.run(seen).catch((e) => this.errors.push(`${name}: ${(e as Error).stack ?? String(e)}`));
  }

  private async status(name: string, status: Record<string, unknown>): Promise<void> {
    await this.co.patchNamespacedCustomObjectStatus({ ...G, name, body: { status } }, mergePatch);
  }

  /** A trial's push, retried while no Sibyl listens (a restart in between). */
  private async push(job: Seen, epoch: number): Promise<void> {
    const lr = Number(argValue(job.args, '--learning-rate'));
    const layers = Number(argValue(job.args, '--hidden-layers'));
    const value = accuracy(lr, layers, epoch);
    const url = `${job.env['SIBYL_PUSH_ENDPOINT']}/api/v1/trials/${job.env['SIBYL_TRIAL_NAME']}/observations`;
    const body = JSON.stringify({ observations: [{ metric: 'accuracy', value, step: epoch }, { metric: 'loss', value: 1 - value, step: epoch }] });
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) });
        const text = await res.text();
        if (res.status !== 200) throw new Error(`push ${url} answered ${res.status}: ${text}`);
        assert.deepEqual(JSON.parse(text), { accepted: 2 });
        job.pushed.push(value);
        return;
      } catch (e) {
        if (this.stopped || attempt >= 150 || !/fetch failed|ECONNREFUSED|timeout/i.test(String((e as Error).cause ?? e))) throw e;
        await sleep(200);
      }
    }
  }

  private async run(job: Seen): Promise<void> {
    const created = cond('Created', 'True', 'TFJobCreated', `TFJob ${job.name} is created.`);
    const running = cond('Running', 'True', 'TFJobRunning', `TFJob ${NS}/${job.name} is running.`);
    await this.status(job.name, { conditions: [created] });
    await sleep(50);
    await this.status(job.name, { conditions: [created, running], startTime: now(), replicaStatuses: { Worker: { active: 1 } } });
    job.running = true;
    for (let epoch = 1; epoch <= EPOCHS; epoch++) {
      await this.push(job, epoch);
      if (epoch === 1 && this.held) await this.held;
      if (this.stopped) return;
      await sleep(30);
    }
    await this.status(job.name, {
      conditions: [created, { ...running, status: 'False' }, cond('Succeeded', 'True', 'TFJobSucceeded', `TFJob ${NS}/${job.name} successfully completed.`)],
      completionTime: now(),
      replicaStatuses: { Worker: { active: 0, succeeded: 1 } },
    });
    job.succeeded = true;
  }
}

test('sibyl run --runtime kubernetes: TFJob study against a real kube-apiserver with a test operator', {
  timeout: 30 * 60_000, // the first run on a fresh machine builds kube-apiserver (~10 min)
}, async (t) => {
  const started = Date.now();
  const srv: KubeApiServer = await startKubeApiServer();
  t.diagnostic(`kube-apiserver ready after ${Date.now() - started} ms`);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfigPath);
    const co = kc.makeApiClient(CustomObjectsApi);
    // loadYaml, not a plain parse: typed APIs drop keys whose model name differs from the JSON one
    // (see test/kube-contract.test.ts).
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: loadYaml<V1CustomResourceDefinition>(readFileSync(repoPath('deploy', 'crds', 'tfjob.yaml'), 'utf8')) });
    await until('CRD Established', 60_000, async () => {
      const got = await ext.readCustomResourceDefinition({ name: 'tfjobs.kubeflow.org' });
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    await until('tfjobs served', 60_000, async () => (await co.listNamespacedCustomObject({ ...G })) as unknown);

    /** A copy of examples/mlp/tfjob.yaml: 6 trials, 3 at a time, under another study name. */
    const studyFile = (dir: string, name: string) => {
      const doc = parse(readFileSync(repoPath('examples', 'mlp', 'tfjob.yaml'), 'utf8'));
      doc.metadata.name = name;
      doc.spec.maxTrialCount = 6;
      assert.equal(doc.spec.parallelTrialCount, 3);
      const file = join(dir, 'tfjob.yaml');
      writeFileSync(file, stringify(doc));
      return file;
    };

    /** The checks both runs end with: the study, its trials, and the TFJobs they had. */
    const verify = async (op: TestOperator, study: string, dataDir: string) => {
      const q = await runCli(['trials', study, '--json', '--data-dir', dataDir]);
      assert.equal(q.code, 0, q.stderr);
      const trials = JSON.parse(q.stdout) as { name: string; state: string; reason: string | null; message: string | null; objectiveValue: number | null; assignment: Record<string, number | string> }[];
      const studyQ = await runCli(['studies', '--json', '--data-dir', dataDir]);
      const shaped = (JSON.parse(studyQ.stdout) as { name: string; state: string }[]).find((s) => s.name === study);
      assert.equal(shaped?.state, 'SUCCEEDED');
      assert.equal(trials.length, 6);
      for (const trial of trials) {
        assert.equal(trial.state, 'SUCCEEDED', `${trial.name}: ${trial.reason}: ${trial.message}`);
        const job = op.jobs.get(trial.name);
        assert.ok(job, `a TFJob for ${trial.name}`);
        assert.equal(job.pushed.length, EPOCHS);
        assert.equal(trial.objectiveValue, job.pushed.at(-1), `${trial.name}: the objective is the last accuracy pushed`);
        assert.equal(Number(argValue(job.args, '--learning-rate')), Number(trial.assignment['learning_rate']), `${trial.name} ${job.args.join(' ')}`);
        assert.equal(Number(argValue(job.args, '--hidden-layers')), Number(trial.assignment['hidden_layers']), `${trial.name} ${job.args.join(' ')}`);
        assert.equal(job.args[job.args.indexOf('--learning-rate') + 1], String(trial.assignment['learning_rate']));
        assert.equal(job.env['SIBYL_TRIAL_NAME'], trial.name);
        assert.match(job.env['SIBYL_PUSH_ENDPOINT'] ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
      }
      assert.deepEqual(op.added.map((a) => a.name).sort(), trials.map((tr) => tr.name).sort(), 'exactly one TFJob created per trial');
      assert.equal(new Set(op.added.map((a) => a.uid)).size, 6);
      // Deleted once done (retain is false); the operator removes the foreground-deletion finalizer.
      let left: any;
      await until('TFJobs deleted', 30_000, async () => {
        left = (await co.listNamespacedCustomObject({ ...G, labelSelector: `sibyl.dev/study=${study}` })) as any;
        return left.items.length === 0 ? true : undefined;
      }, () => `${JSON.stringify(left?.items.map((i: any) => i.metadata))}\n${op.errors.join('\n')}`);
      assert.deepEqual(op.errors, []);
    };

    await t.test('a template the API server refuses is refused before any trial, naming the field; nothing is created', async (st) => {
      const dir = tempDir();
      const cases: { name: string; edit: (doc: any) => void; expected: RegExp }[] = [
        {
          name: 'replicas-text', // the CRD's schema: replicas is an integer
          edit: (doc) => { doc.spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker.replicas = 'two'; },
          expected: /^sibyl: invalid study: spec\.trialTemplate\.trialSpec\.spec\.tfReplicaSpecs\.Worker\.replicas: the cluster refuses this study's trials: the first \(a TFJob of kubeflow\.org\/v1, with \{"learning_rate":0\.003,"hidden_layers":1\}\) is invalid: .*Invalid value: "string"/m,
        },
        {
          name: 'job-command-numbers', // a built-in kind: the API server cannot decode it
          edit: (doc) => {
            const worker = doc.spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker;
            worker.template.spec.containers[0].command = [1, 2];
            doc.spec.trialTemplate.trialSpec = { apiVersion: 'batch/v1', kind: 'Job', spec: { template: worker.template } };
            worker.template.spec.restartPolicy = 'Never';
          },
          expected: /^sibyl: invalid study: spec\.trialTemplate\.trialSpec: the cluster refuses this study's trials: the first \(a Job of batch\/v1, .*\) is invalid: Job in version "v1" cannot be handled as a Job/m,
        },
        {
          name: 'no-such-namespace',
          edit: (doc) => { doc.metadata.namespace = 'nowhere'; },
          expected: /^sibyl: invalid study: metadata\.namespace: namespace "nowhere" does not exist in the cluster$/m,
        },
        {
          name: 'kind-not-served', // no PyTorchJob CRD on this cluster
          edit: (doc) => { doc.spec.trialTemplate.trialSpec.kind = 'PyTorchJob'; doc.spec.trialTemplate.trialSpec.spec = { pytorchReplicaSpecs: { Master: doc.spec.trialTemplate.trialSpec.spec.tfReplicaSpecs.Worker } }; },
          expected: /^sibyl: invalid study: spec\.trialTemplate\.trialSpec\.kind: the cluster does not serve PyTorchJob in kubeflow\.org\/v1 /m,
        },
      ];
      for (const c of cases) {
        const doc = parse(readFileSync(repoPath('examples', 'mlp', 'tfjob.yaml'), 'utf8'));
        doc.metadata.name = c.name;
        c.edit(doc);
        const file = join(dir, `${c.name}.yaml`);
        writeFileSync(file, stringify(doc));
        const dataDir = join(dir, c.name);
        const result = await runCli(['run', file, '--runtime', 'kubernetes', '--kubeconfig', srv.kubeconfigPath, '--data-dir', dataDir]);
        assert.equal(result.code, 2, `${c.name}:\n${result.stdout}\n${result.stderr}`);
        assert.match(result.stderr, c.expected, c.name);
        st.diagnostic(`${c.name}: ${result.stderr.trim()}`);
        const studies = await runCli(['studies', '--json', '--data-dir', dataDir]);
        assert.deepEqual(JSON.parse(studies.stdout), [], `${c.name}: no study stored`);
      }
      const core = kc.makeApiClient(CoreV1Api);
      const jobs = (await kc.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: 'batch', version: 'v1', namespace: NS, plural: 'jobs' })) as any;
      const tfjobs = (await co.listNamespacedCustomObject({ ...G })) as any;
      assert.deepEqual([...jobs.items, ...tfjobs.items].map((o: any) => o.metadata.name), [], 'nothing was created');
      assert.equal((await core.listNamespacedPod({ namespace: NS })).items.length, 0);
    });

    await t.test('6 trials, one TFJob each with the values in its args, pushed metrics recorded, study SUCCEEDED', async () => {
      const dir = tempDir();
      const dataDir = join(dir, 'data');
      const study = 'mlp-tfjob';
      const file = studyFile(dir, study);
      const op = new TestOperator(kc, study);
      await op.start();
      const cli = startCli(['run', file, '--runtime', 'kubernetes', '--kubeconfig', srv.kubeconfigPath, '--data-dir', dataDir]);
      try {
        const result = await within(cli.done, 60_000);
        assert.ok(result, 'sibyl run ends within 60 s');
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${op.errors.join('\n')}`);
        assert.match(result.stdout, /Study mlp-tfjob SUCCEEDED/);
        await verify(op, study, dataDir);
      } finally {
        op.stop();
        cli.child.kill('SIGKILL');
      }
    });

    await t.test('SIGKILL mid-study, then a rerun: the TFJobs are re-adopted, none is created twice, the study finishes', async () => {
      const dir = tempDir();
      const dataDir = join(dir, 'data');
      const study = 'mlp-tfjob-restart';
      const file = studyFile(dir, study);
      // A fixed port: trials keep the SIBYL_PUSH_ENDPOINT they were created with.
      const args = ['run', file, '--runtime', 'kubernetes', '--kubeconfig', srv.kubeconfigPath, '--data-dir', dataDir, '--push-port', String(await freePort())];
      const op = new TestOperator(kc, study);
      op.hold();
      await op.start();
      let cli = startCli(args);
      try {
        const first = cli;
        await until('3 TFJobs Running with a pushed epoch', 60_000, async () => {
          const ready = [...op.jobs.values()].filter((j) => j.running && j.pushed.length === 1);
          return ready.length >= 3 || first.child.exitCode !== null ? true : undefined;
        }, () => op.errors.join('\n'));
        assert.equal(first.child.exitCode, null, 'still running before the kill');
        const before = new Map([...op.jobs.values()].map((j) => [j.name, j.uid]));
        assert.equal(before.size, 3);
        first.child.kill('SIGKILL');
        const killed = await first.done;
        assert.equal(killed.signal, 'SIGKILL');
        const left = (await co.listNamespacedCustomObject({ ...G, labelSelector: `sibyl.dev/study=${study}` })) as any;
        assert.deepEqual(left.items.map((i: any) => i.metadata.name).sort(), [...before.keys()].sort(), 'SIGKILL leaves the TFJobs');

        cli = startCli(args);
        const second = cli;
        let err = '';
        second.child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
        await until('the rerun listens for pushes', 30_000, () => (/trials push metrics to/.test(err) ? true : undefined), () => err);
        op.unhold();
        const result = await within(second.done, 60_000);
        assert.ok(result, `the rerun ends within 60 s\n${err}\n${op.errors.join('\n')}\n${JSON.stringify([...op.jobs.values()])}`);
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}\n${op.errors.join('\n')}`);
        for (const [name, uid] of before) {
          assert.equal(op.added.filter((a) => a.name === name).length, 1, `${name} created once`);
          assert.equal(op.jobs.get(name)?.uid, uid, `${name} kept its object`);
          assert.ok(op.jobs.get(name)?.succeeded);
        }
        await verify(op, study, dataDir);
      } finally {
        op.stop();
        cli.child.kill('SIGKILL');
      }
    });
  } finally {
    await srv.stop();
  }
  t.diagnostic(`total ${Date.now() - started} ms`);
});
