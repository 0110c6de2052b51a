// Where a study's events go on their way to its watchers (WatchStudy, SSE, the dashboard's live
// pages). In one process (SQLite) that is an in-process emitter. With several replicas on one
// PostgreSQL the events also travel between them (src/store/pg-event-bus.ts), so that a watcher
// on any replica sees every event, in order, whichever replica wrote it. The service publishes
// through this one interface and never knows which it has.
import { EventEmitter } from 'node:events';
import type { StudyEvent } from './shapes.js';

/** What travels: a study event, or the end of a study's streams (it was deleted). */
export type BusEvent = StudyEvent | { readonly type: 'deleted' };

export interface StudyRef {
  readonly id: number;
  readonly name: string;
}

/** An event too large to travel whole is sent as what it is about; the receiver reads that back. */
export type EventRef = { readonly type: 'study' } | { readonly type: 'trial'; readonly trial: string };

/** What a bus that hears other replicas needs from the service. */
export interface RemoteHandlers {
  /** Reads a referenced event back from the store (as the study or trial is now). */
  resolve(study: StudyRef, ref: EventRef): Promise<BusEvent | undefined>;
  /** Another replica published this about the study: what this process caches of it is stale. */
  changed(study: StudyRef, event: BusEvent): void;
  /** Events of this study may have been missed: its current state, to deliver in their place. */
  current(studyName: string): Promise<BusEvent[]>;
}

export interface StudyEventBus {
  /** Delivers to this process's watchers now, and to the other replicas', in the order of the calls. */
  publish(study: StudyRef, event: BusEvent): Promise<void>;
  subscribe(studyName: string, listener: (event: BusEvent) => void): () => void;
  /** Starts hearing the other replicas (nothing to hear in one process). */
  start(handlers: RemoteHandlers): Promise<void>;
  close(): Promise<void>;
}

/** This process's watchers, by study name. */
export class Watchers {
  private readonly emitter = new EventEmitter();
  constructor() {
    this.emitter.setMaxListeners(0);
  }

  deliver(studyName: string, event: BusEvent): void {
    this.emitter.emit(studyName, event);
  }

  subscribe(studyName: string, listener: (event: BusEvent) => void): () => void {
    this.emitter.on(studyName, listener);
    return () => this.emitter.off(studyName, listener);
  }

  /** The studies someone watches here now. */
  watched(): string[] {
    return this.emitter.eventNames().filter((n): n is string => typeof n === 'string');
  }

  clear(): void {
    this.emitter.removeAllListeners();
  }
}

/** One process: events reach this process's watchers only. */
export class LocalEventBus implements StudyEventBus {
  private readonly watchers = new Watchers();

  async publish(study: StudyRef, event: BusEvent): Promise<void> {
    this.watchers.deliver(study.name, event);
  }

  subscribe(studyName: string, listener: (event: BusEvent) => void): () => void {
    return this.watchers.subscribe(studyName, listener);
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.watchers.clear();
  }
}
