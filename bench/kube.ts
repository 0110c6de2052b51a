// The overhead Sibyl adds per trial on a real cluster (the single-node Kubernetes 1.20.2 of the
// test tier, test/support/kube-cluster.ts; needs root): 20 short batch/v1 Job trials, 4 at a
// time, run by `sibyl run --runtime kubernetes`, against the same 20 Jobs created and watched by
// this script directly with client-node (the baseline: Kubernetes without Sibyl), in one run.
//
// Each trial's container prints the time it starts and the time it ends (the node's clock, the
// same as this script's). The two alternate over ROUNDS rounds (baseline, Sibyl, baseline, …)
// so that the machine's drift falls on both alike. Per trial:
//   to start   from the trial being recorded (Sibyl) / the create call (baseline) to its container's start
//   to end     from its container's last line to the trial being SUCCEEDED (Sibyl) / the Job's
//              Complete condition seen on a watch (baseline)
// Sibyl's share is the difference of the medians (Sibyl − baseline) of to start + to end over all
// rounds: what it adds beyond what Kubernetes itself takes to start and to finish a pod. Target:
// ≤ 0.5 s. Each round's own share is printed too: their spread is the measurement's noise.
//
// Results: a table, and bench/results/kube.json.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchV1Api, KubeConfig, Watch, type V1Job } from '@kubernetes/client-node';
import { quantile } from 'simple-statistics';
import { stringify } from 'yaml';
import { SqliteStore } from '../src/store/sqlite.js';
import { runCli } from '../test/support/cli.js';
import { startCluster } from '../test/support/kube-cluster.js';
import { tempDir } from '../test/support/study.js';
import { writeResults } from './results.js';

const TRIALS = 20;
const ROUNDS = 3;
const PARALLEL = 4;
const TARGET_SHARE_S = 0.5;
const NS = 'default';

/** The trial: its start and end times, a metric between them. */
const SCRIPT = `node -e "console.log('started=' + Date.now()); console.log('accuracy=0.5'); console.log('ended=' + Date.now())"`;
const container = (name: string) => ({ name, image: 'sibyl/mlp-example:latest', imagePullPolicy: 'Never', command: ['sh', '-c', SCRIPT] });
const times = (log: string) => ({
  started: Number(/started=(\d+)/.exec(log)?.[1]),
  ended: Number(/ended=(\d+)/.exec(log)?.[1]),
});

interface Sample { toStart: number; toEnd: number }
const median = (xs: number[]) => quantile(xs, 0.5);
const p95 = (xs: number[]) => quantile(xs, 0.95);
const summary = (samples: Sample[]) => {
  const toStart = samples.map((s) => s.toStart);
  const toEnd = samples.map((s) => s.toEnd);
  const both = samples.map((s) => s.toStart + s.toEnd);
  return { n: samples.length, toStart: { median: median(toStart), p95: p95(toStart) }, toEnd: { median: median(toEnd), p95: p95(toEnd) }, overhead: { median: median(both), p95: p95(both) } };
};

async function viaSibyl(kubeconfig: string, round: number): Promise<Sample[]> {
  const dir = tempDir();
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify({
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: `bench-kube-${round}`, namespace: NS },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'accuracy' }, algorithm: { algorithmName: 'random' },
      parallelTrialCount: PARALLEL, maxTrialCount: TRIALS,
      parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } }],
      trialTemplate: {
        primaryContainerName: 'trial', trialParameters: [{ name: 'x', reference: 'x' }],
        trialSpec: { apiVersion: 'batch/v1', kind: 'Job', metadata: { annotations: { x: '${trialParameters.x}' } }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [container('trial')] } } } },
      },
    },
  }));
  const dataDir = join(dir, 'data');
  const run = await runCli(['run', file, '--runtime', 'kubernetes', '--kubeconfig', kubeconfig, '--data-dir', dataDir]);
  if (run.code !== 0) throw new Error(`sibyl run failed (${run.code}): ${run.stderr.slice(-3000)}`);
  const store = SqliteStore.open(dataDir);
  try {
    const study = (await store.getStudyByName(`bench-kube-${round}`))!;
    return (await store.listTrials(study.id)).map((t) => {
      const { started, ended } = times(readFileSync(join(dataDir, 'logs', `${t.name}.log`), 'utf8'));
      return { toStart: (started - Date.parse(t.createdAt)) / 1000, toEnd: (Date.parse(t.completedAt!) - ended) / 1000 };
    });
  } finally {
    await store.close();
  }
}

async function baseline(kc: KubeConfig, round: number): Promise<Sample[]> {
  const batch = kc.makeApiClient(BatchV1Api);
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(CoreV1Api);
  const complete = new Map<string, number>();
  const controller = await new Watch(kc).watch(`/apis/batch/v1/namespaces/${NS}/jobs`, { labelSelector: 'bench=baseline' }, (_type, job: V1Job) => {
    if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') && !complete.has(job.metadata!.name!)) complete.set(job.metadata!.name!, Date.now());
  }, () => {});
  const samples: Sample[] = [];
  try {
    const one = async (i: number) => {
      const name = `baseline-${round}-${String(i).padStart(4, '0')}`;
      const created = Date.now();
      await batch.createNamespacedJob({ namespace: NS, body: { metadata: { name, labels: { bench: 'baseline' } }, spec: { backoffLimit: 0, template: { metadata: { labels: { bench: 'baseline', job: name } }, spec: { restartPolicy: 'Never', containers: [container('trial')] } } } } });
      while (!complete.has(name)) await new Promise((r) => setTimeout(r, 20));
      const pod = (await core.listNamespacedPod({ namespace: NS, labelSelector: `job=${name}` })).items[0]!;
      const { started, ended } = times(await core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: NS }));
      samples.push({ toStart: (started - created) / 1000, toEnd: (complete.get(name)! - ended) / 1000 });
      await batch.deleteNamespacedJob({ name, namespace: NS, propagationPolicy: 'Foreground' });
    };
    // PARALLEL at a time, as the study runs them.
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < TRIALS) await one(next++);
    }));
  } finally {
    controller.abort();
  }
  return samples;
}

async function main(): Promise<void> {
  const cluster = await startCluster();
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const base: Sample[] = [];
    const mine: Sample[] = [];
    const rounds: { baseline: number; sibyl: number; share: number }[] = [];
    const both = (xs: Sample[]) => median(xs.map((x) => x.toStart + x.toEnd));
    for (let r = 1; r <= ROUNDS; r++) {
      process.stdout.write(`round ${r}/${ROUNDS}: ${TRIALS} Jobs created and watched directly, then ${TRIALS} trials by sibyl run, ${PARALLEL} at a time ... `);
      const b = await baseline(kc, r);
      const m = await viaSibyl(cluster.kubeconfigPath, r);
      base.push(...b);
      mine.push(...m);
      rounds.push({ baseline: both(b), sibyl: both(m), share: both(m) - both(b) });
      console.log(`Sibyl's share ${rounds.at(-1)!.share.toFixed(3)} s`);
    }
    console.log('');
    const baseSummary = summary(base);
    const sibyl = summary(mine);
    const f = (x: number) => x.toFixed(3).padStart(9);
    console.log(`${'seconds per trial'.padEnd(34)}${'median'.padStart(9)}${'p95'.padStart(9)}`);
    for (const [label, s] of [['Kubernetes alone', baseSummary], ['Sibyl', sibyl]] as const) {
      console.log(`${`${label}: to start`.padEnd(34)}${f(s.toStart.median)}${f(s.toStart.p95)}`);
      console.log(`${`${label}: to end`.padEnd(34)}${f(s.toEnd.median)}${f(s.toEnd.p95)}`);
      console.log(`${`${label}: both`.padEnd(34)}${f(s.overhead.median)}${f(s.overhead.p95)}`);
    }
    const share = { median: sibyl.overhead.median - baseSummary.overhead.median, p95: sibyl.overhead.p95 - baseSummary.overhead.p95 };
    console.log(`${"Sibyl's share".padEnd(34)}${f(share.median)}${f(share.p95)}`);
    console.log(`${"Sibyl's share, round by round".padEnd(34)}${rounds.map((r) => f(r.share)).join('')}`);
    const met = share.median <= TARGET_SHARE_S;
    console.log(`\ntarget Sibyl's share ≤ ${TARGET_SHARE_S} s median: ${met ? 'met' : 'MISSED'} (${share.median.toFixed(3)} s)`);
    const out = writeResults('kube', { trials: TRIALS, parallel: PARALLEL, rounds: ROUNDS, unit: 's', baseline: baseSummary, sibyl, share, byRound: rounds, target: TARGET_SHARE_S, met });
    console.log(`results: ${out}`);
  } finally {
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
