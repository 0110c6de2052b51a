// What the real-cluster suites share about the cluster and Sibyl's pods in it: kubectl bound to
// one cluster, Sibyl's Ready pods, and Sibyl's REST API at a pod's address with the token of a
// test overlay's Secret (there is no kube-proxy in the test cluster: Services do not route);
// a record of the objects Sibyl creates; and the grid study of batch Jobs they run.
import { readFileSync } from 'node:fs';
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import type { KubeCluster } from './kube-cluster.js';

export interface Kubectl {
  /** Runs kubectl; its stdout, or an error with its stderr. */
  (...args: string[]): string;
  /** Runs kubectl with `-o json`; the parsed object. */
  json(...args: string[]): any;
}

export function kubectlOf(cluster: Pick<KubeCluster, 'kubectl'>): Kubectl {
  const run = (...args: string[]) => {
    const r = cluster.kubectl(args);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  return Object.assign(run, { json: (...args: string[]) => JSON.parse(run(...args, '-o', 'json')) });
}

export interface SibylPod { name: string; ip: string; uid: string; restarts: number }

/** Sibyl's running, Ready pods in namespace `sibyl` that are not being deleted. */
export function readySibylPods(kubectl: Kubectl): SibylPod[] {
  return (kubectl.json('-n', 'sibyl', 'get', 'pods', '-l', 'app.kubernetes.io/name=sibyl').items as any[])
    .filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => ({ name: p.metadata.name, ip: p.status.podIP, uid: p.metadata.uid, restarts: p.status.containerStatuses[0].restartCount }));
}

export type SibylApi = (ip: string, method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** The API token of a test overlay's Secret (`stringData.token`). */
export const overlayToken = (secretFile: string): string =>
  (parse(readFileSync(secretFile, 'utf8')) as { stringData: { token: string } }).stringData.token;

/** Sibyl's REST API on port 8080 of a pod, authorised with `token`. */
export function sibylApi(token: string): SibylApi {
  return async (ip, method, path, body) => {
    const res = await fetch(`http://${ip}:8080${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

export interface CreateRecord {
  /** Each name seen, with every uid it had: a name with two uids was created twice. */
  readonly added: Map<string, Set<string>>;
  /** When each name was first seen (ms since the epoch). */
  readonly firstSeen: Map<string, number>;
  stop(): void;
}

/** Records every object created at the collection `path` from now on, by watching it (a watch that ends is resumed). */
export function recordCreates(kc: KubeConfig, path: string): CreateRecord {
  const added = new Map<string, Set<string>>();
  const firstSeen = new Map<string, number>();
  let abort: AbortController | undefined;
  let stopped = false;
  const watch = async () => {
    if (stopped) return;
    abort = await new Watch(kc).watch(path, {}, (type, obj: any) => {
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      if (!added.has(obj.metadata.name)) firstSeen.set(obj.metadata.name, Date.now());
      added.set(obj.metadata.name, (added.get(obj.metadata.name) ?? new Set<string>()).add(obj.metadata.uid));
    }, () => void new Promise((r) => setTimeout(r, 200)).then(watch));
  };
  void watch();
  return { added, firstSeen, stop: () => { stopped = true; abort?.abort(); } };
}

/**
 * A grid study in namespace sibyl over x = 1..max (at least 1..2), each trial a batch/v1 Job of
 * the example image running `script` (a shell script; ${x} is the trial's value); `extra` is added
 * to the spec.
 */
export function jobStudy(name: string, script: string, budget: { parallel: number; max: number }, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name, namespace: 'sibyl' },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
      algorithm: { algorithmName: 'grid' },
      parallelTrialCount: budget.parallel, maxTrialCount: budget.max,
      parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: String(Math.max(2, budget.max)) } }],
      trialTemplate: {
        primaryContainerName: 'trial',
        trialParameters: [{ name: 'x', reference: 'x' }],
        trialSpec: {
          apiVersion: 'batch/v1', kind: 'Job',
          spec: {
            backoffLimit: 0,
            template: { spec: { restartPolicy: 'Never', containers: [{ name: 'trial', image: 'sibyl/mlp-example:latest', imagePullPolicy: 'Never', command: ['sh', '-c', script.replaceAll('${x}', '${trialParameters.x}')] }] } },
          },
        },
      },
      ...extra,
    },
  });
}
