// One watch per (namespace, resource) over every Sibyl trial object (label `sibyl.dev/study`
// exists), or over every object of a kind (the Experiment controller). It lists first, then watches from the list's resourceVersion and keeps the latest
// resourceVersion it saw (events and bookmarks). A dropped watch is resumed from there; a 410
// Expired (an ERROR event or an HTTP 410) means the history is gone, so it lists again. Every
// list is handed over whole, so the runtime can notice objects deleted while it was not looking.
// Errors are retried with exponential backoff for as long as the watcher runs.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { backoffMs, describeError, statusOf, type KubeApi } from './api.js';
import type { KubeObject } from './render.js';
import { collectionPath, STUDY_LABEL, type Resource } from './resources.js';

export interface WatchHandler {
  /** The complete current set of trial objects (after every (re)list). */
  listed(objects: readonly KubeObject[]): void;
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: KubeObject): void;
}

export interface WatcherOptions {
  readonly api: KubeApi;
  readonly kubeConfig: KubeConfig;
  readonly resource: Resource;
  readonly namespace: string;
  readonly handler: WatchHandler;
  readonly log: (message: string) => void;
  /** Which objects (default: Sibyl's trial objects, those with the study label; '' for all). */
  readonly labelSelector?: string;
  /** How long to wait for a watch to be answered before giving up on it. */
  readonly connectTimeoutMs?: number;
  /** The server closes each watch after this long; it is then resumed (guards half-open sockets). */
  readonly watchTimeoutSeconds?: number;
}

export class ResourceWatcher {
  private resourceVersion?: string;
  private stopped = false;
  private current?: AbortController;
  private session = 0;
  private wake?: () => void;
  /** Resolves once the first list has been delivered. */
  readonly synced: Promise<void>;
  private markSynced!: () => void;

  constructor(private readonly o: WatcherOptions) {
    this.synced = new Promise((r) => (this.markSynced = r));
  }

  start(): void {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.session++;
    this.current?.abort();
    this.wake?.();
  }

  /** Lists again at once (used when something suggests events were missed). */
  resync(): void {
    this.resourceVersion = undefined;
    this.current?.abort();
  }

  private get where(): string {
    return `${this.o.resource.plural}${this.o.resource.group ? `.${this.o.resource.group}` : ''} in ${this.o.namespace}`;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      if (this.resourceVersion === undefined) {
        try {
          const list = await this.o.api.list(this.o.resource, this.o.namespace, this.o.labelSelector ?? STUDY_LABEL);
          if (this.stopped) return;
          this.resourceVersion = list.metadata?.resourceVersion ?? '0';
          this.o.handler.listed(list.items ?? []);
          this.markSynced();
          attempt = 0;
        } catch (err) {
          this.o.log(`listing ${this.where} failed: ${describeError(err)}; retrying`);
          await this.pause(backoffMs(attempt++));
          continue;
        }
      }
      const started = Date.now();
      const result = await this.watchOnce();
      if (this.stopped) return;
      if (result.kind === 'expired') {
        this.o.log(`the watch on ${this.where} expired (410): listing again`);
        this.resourceVersion = undefined;
        continue;
      }
      if (result.kind === 'error') {
        this.o.log(`the watch on ${this.where} failed: ${result.message}; reconnecting`);
        await this.pause(backoffMs(attempt++));
        continue;
      }
      // A clean close: resume from the last resourceVersion (after a pause if it was instant,
      // so a server that keeps closing at once is not hammered).
      if (result.events === 0 && Date.now() - started < 1000) await this.pause(backoffMs(attempt++));
      else attempt = 0;
    }
  }

  private watchOnce(): Promise<{ kind: 'closed'; events: number } | { kind: 'expired' } | { kind: 'error'; message: string }> {
    const session = ++this.session;
    const live = () => session === this.session && !this.stopped;
    let events = 0;
    let expired = false;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: { kind: 'closed'; events: number } | { kind: 'expired' } | { kind: 'error'; message: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        resolve(r);
      };
      // client-node gives no deadline for the watch request itself: a server that never answers
      // would hold this loop forever, so an unanswered watch is abandoned.
      let answered = false;
      const connectTimer = setTimeout(() => {
        if (!answered) finish({ kind: 'error', message: 'no answer' });
      }, this.o.connectTimeoutMs ?? 15_000);
      connectTimer.unref();
      const query = {
        labelSelector: this.o.labelSelector ?? STUDY_LABEL,
        allowWatchBookmarks: true,
        resourceVersion: this.resourceVersion,
        timeoutSeconds: this.o.watchTimeoutSeconds ?? 300,
      };
      new Watch(this.o.kubeConfig)
        .watch(
          collectionPath(this.o.resource, this.o.namespace),
          query,
          (type: string, object: KubeObject) => {
            answered = true;
            if (!live() || settled) return;
            const rv = object?.['metadata']?.resourceVersion as string | undefined;
            if (type === 'ERROR') {
              if (object?.['code'] === 410) expired = true;
              else this.o.log(`watch error on ${this.where}: ${object?.['message'] ?? JSON.stringify(object)}`);
              return;
            }
            if (rv) this.resourceVersion = rv;
            if (type === 'BOOKMARK') return;
            if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
              events++;
              this.o.handler.event(type, object);
            }
          },
          (err: unknown) => {
            answered = true;
            if (expired || statusOf(err) === 410) return finish({ kind: 'expired' });
            if (err && (err as Error).name !== 'AbortError') return finish({ kind: 'error', message: describeError(err) });
            finish({ kind: 'closed', events });
          },
        )
        .then((controller) => {
          answered = true;
          if (!live() || settled) controller.abort();
          else this.current = controller;
        })
        .catch((err: unknown) => finish({ kind: 'error', message: describeError(err) }));
    });
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
