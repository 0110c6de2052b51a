// A stand-in controller on the real cluster: registers its kind's CRD (any fields kept, a status
// subresource), then polls the objects of one namespace and applies the kind's rule of
// ./workloads.ts — real pods (owned by the object, so the garbage collector deletes them with
// it), stage after stage, and the object's status from the pods' phases, through the API as the
// real controller would. It keeps each pod's log once the pod ended, for the tests to compare.
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { PollLoop } from '../poll-loop.js';
import { nextStage, type Obj, type PodPhase, type WorkloadRule } from './workloads.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const STAGE_ANNOTATION = 'stand-in.sibyl.dev/stage';
/** Status fields that change on every pass without saying anything new. */
const signature = (status: Obj | undefined) => JSON.stringify(status ?? {}, (k, v) => (['lastTransitionTime', 'startedAt', 'finishedAt'].includes(k) ? undefined : v));

export interface EndedPod {
  readonly labels: Record<string, string>;
  readonly phase: PodPhase;
  /** Per container. */
  readonly logs: Record<string, string>;
}

export class WorkloadControllerStandIn {
  readonly errors: string[] = [];
  /** Every pod that ended, by name. */
  readonly ended = new Map<string, EndedPod>();
  private readonly co: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly loop = new PollLoop(() => this.reconcileAll(), this.errors);

  constructor(private readonly kc: KubeConfig, private readonly namespace: string, private readonly rule: WorkloadRule) {
    this.co = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** The CRD, and a wait until the API serves it. */
  async install(): Promise<void> {
    const r = this.rule;
    const singular = r.kind.toLowerCase();
    await this.kc.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({
      body: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${r.plural}.${r.group}` },
        spec: {
          group: r.group,
          scope: 'Namespaced',
          names: { kind: r.kind, plural: r.plural, singular, listKind: `${r.kind}List` },
          versions: [{ name: r.version, served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } }],
        },
      },
    });
    for (let i = 0; ; i++) {
      try {
        await this.co.listNamespacedCustomObject({ group: r.group, version: r.version, namespace: this.namespace, plural: r.plural });
        return;
      } catch (e) {
        if (i > 100) throw new Error(`the ${r.kind} CRD is not served: ${String(e)}`);
        await new Promise((res) => setTimeout(res, 300));
      }
    }
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async reconcileAll(): Promise<void> {
    const r = this.rule;
    const list = (await this.co.listNamespacedCustomObject({ group: r.group, version: r.version, namespace: this.namespace, plural: r.plural })) as { items: Obj[] };
    for (const obj of list.items) {
      if (obj['metadata'].deletionTimestamp) continue; // the garbage collector takes it from here
      await this.reconcile(obj).catch((e) => void this.errors.push(`${obj['metadata'].name}: ${String(e)}`));
    }
  }

  private async reconcile(obj: Obj): Promise<void> {
    const r = this.rule;
    const name: string = obj['metadata'].name;
    const stages = r.stages(obj);
    const pods = (await this.core.listNamespacedPod({ namespace: this.namespace })).items.filter((p) => p.metadata?.ownerReferences?.[0]?.uid === obj['metadata'].uid);
    for (const p of pods) await this.keepLog(p);
    const phases: PodPhase[][] = stages.map((_, i) => pods.filter((p) => p.metadata?.annotations?.[STAGE_ANNOTATION] === String(i)).map((p) => (p.status?.phase ?? 'Pending') as PodPhase));
    const status = r.status(obj, phases, obj['status']);
    if (signature(status) !== signature(obj['status'])) {
      await this.co.patchNamespacedCustomObjectStatus({ group: r.group, version: r.version, namespace: this.namespace, plural: r.plural, name, body: { status } }, mergePatch);
    }
    const next = nextStage(stages, phases);
    if (next === undefined) return;
    for (const plan of stages[next]!) {
      const main = plan.containers.find((c) => c['image']) ?? {};
      // A container the rule names but does not run (Argo's "wait"): one that exits at once.
      const containers = plan.containers.map((c) => (c['image'] ? { imagePullPolicy: 'IfNotPresent', ...c } : { ...c, image: main['image'], imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', 'exit 0'] }));
      const body: V1Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: plan.name,
          namespace: this.namespace,
          labels: plan.labels,
          annotations: { [STAGE_ANNOTATION]: String(next) },
          ownerReferences: [{ apiVersion: `${r.group}/${r.version}`, kind: r.kind, name, uid: obj['metadata'].uid, controller: true, blockOwnerDeletion: true }],
        },
        spec: { restartPolicy: 'Never', containers },
      } as unknown as V1Pod;
      await this.core.createNamespacedPod({ namespace: this.namespace, body });
    }
  }

  private async keepLog(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const phase = pod.status?.phase as PodPhase | undefined;
    if (this.ended.has(name) || (phase !== 'Succeeded' && phase !== 'Failed')) return;
    const logs: Record<string, string> = {};
    for (const c of pod.spec?.containers ?? []) {
      logs[c.name] = await this.core.readNamespacedPodLog({ name, namespace: this.namespace, container: c.name }).catch((e) => `(no log: ${String(e)})`);
    }
    this.ended.set(name, { labels: { ...(pod.metadata?.labels ?? {}) }, phase, logs });
  }
}
