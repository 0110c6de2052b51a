// Kubernetes Events about the objects Sibyl controls (`kubectl describe` shows them). Events are
// best effort, as in every controller: written in the background one at a time, a failed write
// is logged and dropped, and a backlog beyond a bound drops the newest rather than growing.
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeApi } from '../runtimes/kubernetes/api.js';
import type { KubeObject } from '../runtimes/kubernetes/render.js';

const MAX_BACKLOG = 1000;
/** Kubernetes refuses longer messages (and `kubectl describe` would not show them well). */
const MAX_MESSAGE = 1024;

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  private chain: Promise<void> = Promise.resolve();
  private backlog = 0;
  private dropped = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly instance: string,
    private readonly log: (message: string) => void,
  ) {}

  record(about: KubeObject, type: EventType, reason: string, message: string): void {
    if (this.backlog >= MAX_BACKLOG) {
      if (this.dropped++ === 0) this.log(`events: more than ${MAX_BACKLOG} waiting; dropping new ones`);
      return;
    }
    this.backlog++;
    const event = this.eventFor(about, type, reason, message);
    this.chain = this.chain.then(async () => {
      try {
        await this.api.createEvent(event.metadata!.namespace!, event);
      } catch (err) {
        this.log(`event ${reason} about ${about['kind']} ${event.metadata!.namespace}/${about['metadata']?.name}: not written (${(err as Error).message})`);
      } finally {
        this.backlog--;
        if (this.backlog === 0) this.dropped = 0;
      }
    });
  }

  /** Resolves when every event recorded so far has been written (or given up). */
  flush(): Promise<void> {
    return this.chain;
  }

  private eventFor(about: KubeObject, type: EventType, reason: string, message: string): CoreV1Event {
    const md = about['metadata'] ?? {};
    const now = new Date();
    return {
      metadata: { generateName: `${md.name}.`, namespace: md.namespace },
      involvedObject: { apiVersion: about['apiVersion'], kind: about['kind'], name: md.name, namespace: md.namespace, uid: md.uid },
      type,
      reason,
      message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message,
      source: { component: 'sibyl' },
      reportingComponent: 'sibyl.dev/experiment-controller',
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
  }
}
