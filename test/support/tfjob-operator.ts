// A STAND-IN for Kubeflow's training operator, for the real single-node cluster: the operator
// itself cannot be built here (no Go module proxy). It does what the operator does for TFJobs
// (shared/reference/k8s.md §2): turns each replica spec into real pods named
// `<job>-<type>-<index>` with the operator's labels (job-role=master on the Chief/Master, else
// on worker 0), `TF_CONFIG` in the `tensorflow` container when the job is distributed, and an
// ownerReference to the TFJob (so the cluster's garbage collector deletes them with it), and it
// sets the TFJob's conditions from the pods' phases: Created, Running, then Succeeded (the
// primary pod succeeded) or Failed (a pod failed). Polling, not watching: simple and enough here.
//
// It also keeps what the tests compare against: every TFJob uid seen per name (one create per
// trial), each job's container args, and each primary pod's log as the pod printed it.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { PollLoop } from './poll-loop.js';

const G = { group: 'kubeflow.org', version: 'v1', plural: 'tfjobs' } as const;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const TYPES = ['Chief', 'Master', 'PS', 'Worker', 'Evaluator'] as const;
const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

type Obj = Record<string, any>;

export interface SeenJob {
  readonly uids: Set<string>;
  readonly args: string[];
  readonly env: Record<string, string>;
  /** The primary pod's log once it ended. */
  log?: string;
  phase?: 'Running' | 'Succeeded' | 'Failed';
}

export class TFJobOperatorStandIn {
  readonly jobs = new Map<string, SeenJob>();
  readonly errors: string[] = [];
  private readonly co: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly loop = new PollLoop(() => this.reconcileAll(), this.errors);

  constructor(kc: KubeConfig, private readonly namespace: string) {
    this.co = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async reconcileAll(): Promise<void> {
    const list = (await this.co.listNamespacedCustomObject({ ...G, namespace: this.namespace })) as { items: Obj[] };
    for (const job of list.items) {
      try {
        await this.reconcile(job);
      } catch (e) {
        this.errors.push(`${job['metadata'].name}: ${String(e)}`);
      }
    }
  }

  private async reconcile(job: Obj): Promise<void> {
    const name: string = job['metadata'].name;
    const uid: string = job['metadata'].uid;
    if (job['metadata'].deletionTimestamp) return; // the garbage collector takes it from here
    const specs = (job['spec']?.tfReplicaSpecs ?? {}) as Record<string, Obj>;
    let seen = this.jobs.get(name);
    if (!seen) {
      const primary = (specs['Worker'] ?? specs['Chief'] ?? specs['Master'])?.template?.spec?.containers?.find((c: Obj) => c['name'] === 'tensorflow');
      seen = { uids: new Set(), args: [...(primary?.args ?? [])], env: Object.fromEntries(((primary?.env ?? []) as Obj[]).map((e) => [e['name'], e['value']])) };
      this.jobs.set(name, seen);
    }
    seen.uids.add(uid);
    const conditions = ((job['status']?.conditions ?? []) as Obj[]);
    if (conditions.some((c) => (c['type'] === 'Succeeded' || c['type'] === 'Failed') && c['status'] === 'True')) return;

    const hasChief = Boolean(specs['Chief'] ?? specs['Master']);
    const total = Object.values(specs).reduce((n, s) => n + (s['replicas'] ?? 1), 0);
    const hosts: Record<string, string[]> = {};
    for (const type of TYPES) {
      const n = specs[type]?.['replicas'] ?? (specs[type] ? 1 : 0);
      if (n > 0) hosts[type.toLowerCase()] = Array.from({ length: n }, (_, i) => `${name}-${type.toLowerCase()}-${i}.${this.namespace}.svc:2222`);
    }
    const existing = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector: `training.kubeflow.org/job-name=${name}` });
    const pods = new Map(existing.items.map((p) => [p.metadata!.name!, p]));
    for (const type of TYPES) {
      const spec = specs[type];
      if (!spec) continue;
      for (let i = 0; i < (spec['replicas'] ?? 1); i++) {
        const podName = `${name}-${type.toLowerCase()}-${i}`;
        if (pods.has(podName)) continue;
        const master = hasChief ? type === 'Chief' || type === 'Master' : type === 'Worker' && i === 0;
        const template = structuredClone(spec['template'] ?? {}) as Obj;
        const containers = ((template['spec']?.containers ?? []) as Obj[]).map((c) =>
          c['name'] === 'tensorflow' && total > 1
            ? { ...c, env: [...(c['env'] ?? []), { name: 'TF_CONFIG', value: JSON.stringify({ cluster: hosts, task: { type: type.toLowerCase(), index: i }, environment: 'cloud' }) }] }
            : c);
        const body: V1Pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: podName,
            namespace: this.namespace,
            labels: {
              ...(template['metadata']?.labels ?? {}),
              'training.kubeflow.org/job-name': name,
              'training.kubeflow.org/operator-name': 'tfjob-controller',
              'training.kubeflow.org/replica-type': type.toLowerCase(),
              'training.kubeflow.org/replica-index': String(i),
              ...(master ? { 'training.kubeflow.org/job-role': 'master' } : {}),
            },
            annotations: template['metadata']?.annotations ?? {},
            ownerReferences: [{ apiVersion: 'kubeflow.org/v1', kind: 'TFJob', name, uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: { ...(template['spec'] ?? {}), containers, restartPolicy: spec['restartPolicy'] === 'ExitCode' ? 'Never' : (spec['restartPolicy'] ?? 'Never') },
        } as V1Pod;
        const created = await this.core.createNamespacedPod({ namespace: this.namespace, body });
        pods.set(podName, created);
      }
    }

    const phases = [...pods.values()].map((p) => p.status?.phase ?? 'Pending');
    const primary = [...pods.values()].find((p) => p.metadata?.labels?.['training.kubeflow.org/job-role'] === 'master');
    const created = cond('Created', 'True', 'TFJobCreated', `TFJob ${name} is created.`);
    const next: Obj[] = [created];
    let phase: SeenJob['phase'];
    if (phases.includes('Failed')) {
      phase = 'Failed';
      next.push(cond('Running', 'False', 'TFJobRunning', `TFJob ${this.namespace}/${name} is running.`));
      const failed = [...pods.values()].filter((p) => p.status?.phase === 'Failed').length;
      next.push(cond('Failed', 'True', 'TFJobFailed', `TFJob ${this.namespace}/${name} has failed because ${failed} Worker replica(s) failed.`));
    } else if (primary?.status?.phase === 'Succeeded') {
      phase = 'Succeeded';
      next.push(cond('Running', 'False', 'TFJobRunning', `TFJob ${this.namespace}/${name} is running.`));
      next.push(cond('Succeeded', 'True', 'TFJobSucceeded', `TFJob ${this.namespace}/${name} successfully completed.`));
    } else if (phases.includes('Running')) {
      phase = 'Running';
      next.push(cond('Running', 'True', 'TFJobRunning', `TFJob ${this.namespace}/${name} is running.`));
    }
    if (phase === 'Succeeded' || phase === 'Failed') {
      // What the pod printed, read before the job (and with it the pod) is deleted.
      if (primary) seen.log = await this.core.readNamespacedPodLog({ name: primary.metadata!.name!, namespace: this.namespace, container: 'tensorflow' }).catch(() => undefined);
    }
    const types = conditions.map((c) => `${c['type']}=${c['status']}`).join(',');
    if (types === next.map((c) => `${c['type']}=${c['status']}`).join(',')) return;
    seen.phase = phase;
    const counts = { active: phases.filter((p) => p === 'Running' || p === 'Pending').length, succeeded: phases.filter((p) => p === 'Succeeded').length, failed: phases.filter((p) => p === 'Failed').length };
    await this.co.patchNamespacedCustomObjectStatus({
      ...G, namespace: this.namespace, name,
      body: { status: { conditions: next, replicaStatuses: { Worker: counts }, startTime: job['status']?.startTime ?? now(), ...(phase === 'Succeeded' || phase === 'Failed' ? { completionTime: now() } : {}) } },
    }, mergePatch);
  }
}

function cond(type: string, status: 'True' | 'False', reason: string, message: string): Obj {
  return { type, status, reason, message, lastUpdateTime: now(), lastTransitionTime: now() };
}
