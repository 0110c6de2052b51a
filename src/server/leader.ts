// Leader election on a coordination.k8s.io/v1 Lease, so that of several `sibyl serve` replicas
// only one schedules and launches trials. client-node has no helper for this (k8s.md §5.3), so
// this follows client-go's leaderelection package, reduced to what Sibyl needs:
//
// - every `retryPeriodMs` (2 s, client-go's default) a candidate reads the Lease: on 404 it
//   creates it (a 409 there means another replica won the race); when the Lease is free (no
//   holder, or released), held by us, or expired, it replaces it with the same
//   metadata.resourceVersion (optimistic concurrency: a 409 means somebody else wrote first, and
//   we are not the leader);
// - "expired" is judged on this process's monotonic clock: the holder's record (holder,
//   renewTime, resourceVersion) has not changed for `leaseDurationSeconds` (15 s) since we first
//   saw it, so clock skew between nodes does not matter (client-go does the same);
// - every call to the API server has a time limit (`requestTimeoutMs`, 5 s): with the server
//   unreachable a call would otherwise hang until the kernel gives up on the connection (140 s
//   here), long after the Lease expired and another replica may have taken it;
// - the leader renews at the same period; if it cannot renew for `renewDeadlineMs` (10 s, less
//   than the lease duration; a timer measures it, so a hanging call cannot delay it) or finds the
//   Lease taken, it has lost: `onStoppedLeading` runs and the elector stops for good (a process
//   that lost must restart to campaign again, as with client-go's usual OnStoppedLeading: the
//   CLI exits 1 and Kubernetes restarts the container);
// - `stop()` releases a held Lease (holder cleared, duration 1 s) so that a successor takes over
//   at its next attempt instead of waiting for the expiry.
//
// MicroTime fields must carry 6 fractional digits (k8s.md §3.3 item 4): client-node's
// V1MicroTime serializes them that way.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ApiException, CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { Campaign } from './campaign.js';

export interface LeaderElectionConfig {
  readonly namespace: string;
  readonly leaseName: string;
  /** Unique per process start: pod name (or hostname) and a random part (defaultIdentity). */
  readonly identity: string;
  readonly leaseDurationSeconds?: number;
  /**
   * How often the leader renews and a candidate retries (default 2000). Well under the renew
   * deadline, so that a leader rides out a renewal that gets no answer and renews at the next.
   */
  readonly retryPeriodMs?: number;
  /** A leader that could not renew for this long steps down (default 10000). */
  readonly renewDeadlineMs?: number;
  /** Time limit of one call to the API server (default 5000). */
  readonly requestTimeoutMs?: number;
}

/** What `sibyl serve` needs of an elector: the Lease (here) or the PostgreSQL lock (src/store/pg-leader.ts). */
export interface Elector {
  readonly identity: string;
  isLeader(): boolean;
  /** Starts campaigning; the first attempt is made at once. */
  start(): void;
  /** Stops campaigning (no more attempts or callbacks) but keeps what it holds until stop(). */
  halt(): Promise<void>;
  /** Stops campaigning and gives up the leadership it holds. */
  stop(): Promise<void>;
}

export interface LeaderCallbacks {
  /** Called once when this process becomes the leader. */
  onStartedLeading(): void | Promise<void>;
  /** Called once when a leader loses the Lease (not on stop()). */
  onStoppedLeading(): void | Promise<void>;
  readonly log?: (message: string) => void;
}

/**
 * `<pod name or hostname>_<random>`: the Deployment sets POD_NAME from the downward API. The
 * random part tells two starts of one container apart (its pid is always 1), so a restarted
 * container never takes "its" Lease back as if it had held it all along.
 */
export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return `${env['POD_NAME'] || hostname()}_${randomBytes(4).toString('hex')}`;
}

const statusOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);
const describe = (err: unknown): string =>
  err instanceof ApiException ? `HTTP ${err.code}` : err instanceof Error ? err.message : String(err);

export class LeaderElector extends Campaign {
  private readonly api: CoordinationV1Api;
  private readonly leaseDurationSeconds: number;
  private readonly renewDeadlineMs: number;
  private readonly requestTimeoutMs: number;
  protected readonly held: string;
  private lastRenewMs = 0;
  private observedKey = '';
  private observedAtMs = 0;

  constructor(kubeConfig: KubeConfig, private readonly config: LeaderElectionConfig, callbacks: LeaderCallbacks) {
    const leaseDurationSeconds = config.leaseDurationSeconds ?? 15;
    const renewDeadlineMs = config.renewDeadlineMs ?? 10_000;
    if (renewDeadlineMs >= leaseDurationSeconds * 1000) throw new Error('renewDeadlineMs must be shorter than the lease duration');
    super({ retryPeriodMs: config.retryPeriodMs ?? 2000, renewDeadlineMs, jitter: true }, callbacks);
    this.api = kubeConfig.makeApiClient(CoordinationV1Api);
    this.leaseDurationSeconds = leaseDurationSeconds;
    this.renewDeadlineMs = renewDeadlineMs;
    this.requestTimeoutMs = config.requestTimeoutMs ?? 5000;
    this.held = `${config.namespace}/${config.leaseName}`;
  }

  get identity(): string {
    return this.config.identity;
  }

  /** Stops campaigning and, when leading, releases the Lease (unless `release: false`, which simulates a crash). */
  async stop({ release = true } = {}): Promise<void> {
    await this.halt();
    if (this.resign() && release) await this.release().catch((e) => this.log(`leader election: releasing the lease failed (${describe(e)})`));
  }

  protected async attempt(): Promise<void> {
    let won = false;
    try {
      won = await this.tryAcquireOrRenew();
    } catch (err) {
      this.log(`leader election: ${this.isLeader() ? 'renewing' : 'acquiring'} ${this.held} failed (${describe(err)})`);
      // A leader that cannot renew keeps leading until the renew deadline (the lease is still ours).
      if (this.isLeader() && Date.now() - this.lastRenewMs < this.renewDeadlineMs) return;
      won = false;
    }
    if (this.over) return;
    if (won) {
      this.lastRenewMs = Date.now();
      this.tookCharge();
    } else if (this.isLeader()) {
      await this.stepDown('the Lease is no longer ours');
    }
  }

  /** An API call that gives up after requestTimeoutMs (its request is abandoned). */
  private timed<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the API server within ${this.requestTimeoutMs / 1000} s`)), this.requestTimeoutMs);
    });
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  /** One round: true when we hold the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, leaseName: name, identity } = this.config;
    const now = new V1MicroTime(Date.now());
    let lease: V1Lease;
    try {
      lease = await this.timed(this.api.readNamespacedLease({ name, namespace }));
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      try {
        await this.timed(this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        }));
        return true;
      } catch (e) {
        if (statusOf(e) === 409) return false; // another candidate created it first
        throw e;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const key = `${holder}|${String(spec.renewTime ?? '')}|${lease.metadata?.resourceVersion ?? ''}`;
    const mono = performance.now();
    if (key !== this.observedKey) {
      this.observedKey = key;
      this.observedAtMs = mono;
    }
    const duration = (spec.leaseDurationSeconds ?? this.leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && mono - this.observedAtMs < duration) return false; // held and not expired
    const takeover = holder !== identity;
    if (this.over) return false; // stepped down while reading: write nothing
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion! },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseDurationSeconds,
        acquireTime: takeover || !spec.acquireTime ? now : new V1MicroTime(new Date(spec.acquireTime).getTime()),
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover && holder !== '' ? 1 : 0),
      },
    };
    try {
      await this.timed(this.api.replaceNamespacedLease({ name, namespace, body }));
      if (takeover) this.log(`leader election: took ${namespace}/${name} over from ${holder || '(released)'}`);
      return true;
    } catch (err) {
      if (statusOf(err) === 409) return false; // written by someone else since our read
      throw err;
    }
  }

  /** Gives the Lease up so that a successor does not wait for the expiry. */
  private async release(): Promise<void> {
    const { namespace, leaseName: name, identity } = this.config;
    const lease = await this.timed(this.api.readNamespacedLease({ name, namespace }));
    if (lease.spec?.holderIdentity !== identity) return;
    const now = new V1MicroTime(Date.now());
    await this.timed(this.api.replaceNamespacedLease({
      name,
      namespace,
      body: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion! },
        spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 },
      },
    }));
    this.log(`leader election: ${identity} released ${namespace}/${name}`);
  }
}

export { leaderOnlyRuntime } from './leader-only.js';
