// The few API calls the runtime makes, through @kubernetes/client-node, each with a deadline
// (client-node has none: a hung apiserver would hang the call forever), and error helpers.
import { ApiException, CoreV1Api, CustomObjectsApi, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from './render.js';
import type { Resource } from './resources.js';

export interface KubeApiOptions {
  /** Deadline of one request (not of watches or log streams). */
  readonly requestTimeoutMs?: number;
}

export class KubeApi {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;
  private readonly timeoutMs: number;

  constructor(readonly kubeConfig: KubeConfig, options: KubeApiOptions = {}) {
    this.custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.core = kubeConfig.makeApiClient(CoreV1Api);
    this.timeoutMs = options.requestTimeoutMs ?? 15_000;
  }

  /** A per-call middleware that aborts the request at the deadline. */
  private deadline() {
    const ms = this.timeoutMs;
    return {
      middleware: [
        {
          pre: (ctx: { setSignal(s: AbortSignal): void }) => {
            ctx.setSignal(AbortSignal.timeout(ms));
            return settled(ctx);
          },
          post: <T>(ctx: T) => settled(ctx),
        },
      ],
      middlewareMergeStrategy: 'append',
    } as any;
  }

  /** `dryRun`: the API server validates and admits the object (schema, webhooks, quota) but keeps nothing. */
  create(r: Resource, namespace: string, body: KubeObject, options: { dryRun?: boolean } = {}): Promise<KubeObject> {
    const dryRun = options.dryRun ? { dryRun: 'All' } : {};
    return this.custom.createNamespacedCustomObject({ group: r.group, version: r.version, namespace, plural: r.plural, body, ...dryRun }, this.deadline());
  }

  get(r: Resource, namespace: string, name: string): Promise<KubeObject> {
    return this.custom.getNamespacedCustomObject({ group: r.group, version: r.version, namespace, plural: r.plural, name }, this.deadline());
  }

  list(r: Resource, namespace: string, labelSelector: string): Promise<{ items: KubeObject[]; metadata?: { resourceVersion?: string } }> {
    return this.custom.listNamespacedCustomObject({ group: r.group, version: r.version, namespace, plural: r.plural, labelSelector }, this.deadline());
  }

  delete(r: Resource, namespace: string, name: string, propagationPolicy: 'Foreground' | 'Background'): Promise<unknown> {
    return this.custom.deleteNamespacedCustomObject({ group: r.group, version: r.version, namespace, plural: r.plural, name, propagationPolicy }, this.deadline());
  }

  /** A JSON merge patch (RFC 7386) of an object, or of its status subresource. */
  mergePatch(r: Resource, namespace: string, name: string, body: KubeObject, subresource?: 'status'): Promise<KubeObject> {
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch, this.deadline());
    const param = { group: r.group, version: r.version, namespace, plural: r.plural, name, body };
    return subresource === 'status' ? this.custom.patchNamespacedCustomObjectStatus(param, options) : this.custom.patchNamespacedCustomObject(param, options);
  }

  createEvent(namespace: string, body: CoreV1Event): Promise<CoreV1Event> {
    return this.core.createNamespacedEvent({ namespace, body }, this.deadline());
  }

  /** Whether the API server serves a kind (from discovery, which every authenticated user may read). */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.kubeConfig.makeApiClient(Discovery).kindOf(apiVersion, kind)) !== undefined;
    } catch (err) {
      if (statusOf(err) === 404) return false; // not even the group-version
      throw err;
    }
  }

  async pods(namespace: string, labelSelector: string): Promise<KubeObject[]> {
    const list = await this.core.listNamespacedPod({ namespace, labelSelector }, this.deadline());
    return list.items as unknown as KubeObject[];
  }

  /** A ConfigMap's string data (trial templates kept in ConfigMaps). */
  async configMapData(namespace: string, name: string): Promise<Record<string, string>> {
    const cm = await this.core.readNamespacedConfigMap({ namespace, name }, this.deadline());
    return cm.data ?? {};
  }

  /** The whole log of a pod's container (not following). */
  podLog(namespace: string, pod: string, container: string | undefined): Promise<string> {
    return this.core.readNamespacedPodLog({ namespace, name: pod, ...(container ? { container } : {}) }, this.deadline());
  }
}

/** client-node reads an API group's discovery document only inside its generic object API. */
class Discovery extends KubernetesObjectApi {
  kindOf(apiVersion: string, kind: string) {
    return this.resource(apiVersion, kind);
  }
}

/**
 * A value as both a Promise and client-node's internal Observable stub (`toPromise`): the
 * per-call middleware is used in either form depending on the code path.
 */
function settled<T>(value: T): Promise<T> & { toPromise(): Promise<T> } {
  const p = Promise.resolve(value);
  return Object.assign(p, { toPromise: () => p });
}

/** The HTTP status of a failed call (undefined for network errors and timeouts). */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const code = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** What the API server's Status of a failed call says (empty for network errors and timeouts). */
export interface FailureStatus {
  readonly message?: string;
  readonly reason?: string;
  /** `details.kind`: what was not found, refused or invalid (`namespaces`, `jobs.batch`, …). */
  readonly kind?: string;
  /** `details.causes`: for 422 Invalid, each refused field of the object. */
  readonly causes: readonly { readonly field?: string; readonly message?: string }[];
}

export function failureStatus(err: unknown): FailureStatus {
  if (!(err instanceof ApiException)) return { causes: [] };
  let body: any;
  try {
    body = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
  } catch {
    return typeof err.body === 'string' && err.body !== '' ? { message: err.body.slice(0, 200), causes: [] } : { causes: [] };
  }
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const causes = Array.isArray(body?.details?.causes) ? body.details.causes : [];
  return {
    ...(text(body?.message) ? { message: text(body.message)! } : {}),
    ...(text(body?.reason) ? { reason: text(body.reason)! } : {}),
    ...(text(body?.details?.kind) ? { kind: text(body.details.kind)! } : {}),
    causes: causes.filter((c: unknown) => c !== null && typeof c === 'object').map((c: any) => ({
      ...(text(c.field) ? { field: text(c.field)! } : {}),
      ...(text(c.message) ? { message: text(c.message)! } : {}),
    })),
  };
}

/** A short description of a failed call: the Status message when there is one. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const { message } = failureStatus(err);
    return `HTTP ${err.code}${message ? `: ${message}` : ''}`;
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Worth retrying: no answer, a timeout, throttling or a server-side error. */
export function isRetryable(err: unknown): boolean {
  const code = statusOf(err);
  return code === undefined || code === 408 || code === 429 || code >= 500;
}

/** Exponential backoff: 200 ms doubling, capped (10 s by default), with ±20% jitter. */
export function backoffMs(attempt: number, capMs = 10_000): number {
  const base = Math.min(capMs, 200 * 2 ** Math.min(attempt, 16));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
