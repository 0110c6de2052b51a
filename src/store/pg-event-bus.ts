// Study events between the replicas of one PostgreSQL store, with LISTEN/NOTIFY.
//
// - Channel: `sibyl_events`. NOTIFY channels belong to one database, so this is one channel per
//   store.
// - The publisher delivers to its own watchers at once, then sends `pg_notify` with the payload
//   {p: publisher, s: sequence, i: study id, n: study name, e: event} on a connection of its
//   own. Publications are awaited one after another, and PostgreSQL delivers notifications in
//   commit order, so every replica hears one publisher's events in the order they were
//   published. A replica ignores its own (it delivered them already).
// - A payload over NOTIFY's limit (8000 bytes; 7900 here, to keep a margin) travels as a
//   reference, {…, r: {type: 'study'} | {type: 'trial', trial}}, and the receiver reads the
//   study or trial back from the store: it then sees it as it is when read, which may be later
//   than the event (never earlier).
// - Every replica LISTENs on a dedicated session. A gap in a publisher's sequence (a NOTIFY
//   that failed) and a LISTEN session that had to be re-made both mean events may have been
//   missed: the replica re-reads the studies watched here, delivers their current state, and
//   says so in its log.
// - What arrives is handled one notification at a time, in arrival order (references and
//   re-reads included), so watchers get events in that order.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BusEvent, EventRef, RemoteHandlers, StudyEventBus, StudyRef } from '../service/event-bus.js';
import { Watchers } from '../service/event-bus.js';

export const EVENT_CHANNEL = 'sibyl_events';
/** NOTIFY refuses payloads of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7900;
const RECONNECT_MS = 1000;

interface Envelope {
  readonly p: string;
  readonly s: number;
  readonly i: number;
  readonly n: string;
  readonly e?: BusEvent;
  readonly r?: EventRef;
}

/** The envelope of an event: whole when it fits in a NOTIFY, else a reference. */
export function envelope(publisher: string, seq: number, study: StudyRef, event: BusEvent): string {
  const whole = JSON.stringify({ p: publisher, s: seq, i: study.id, n: study.name, e: event } satisfies Envelope);
  if (Buffer.byteLength(whole) <= MAX_PAYLOAD_BYTES) return whole;
  const r: EventRef = event.type === 'trial' ? { type: 'trial', trial: event.trial.name } : { type: 'study' };
  return JSON.stringify({ p: publisher, s: seq, i: study.id, n: study.name, r } satisfies Envelope);
}

export class PostgresEventBus implements StudyEventBus {
  /** Tells this process's notifications from the others' (a new one each start). */
  readonly publisher = randomBytes(6).toString('hex');
  private readonly watchers = new Watchers();
  private readonly sender: pg.Pool;
  private seq = 0;
  private readonly lastSeq = new Map<string, number>();
  private handlers: RemoteHandlers | undefined;
  private listener: pg.Client | undefined;
  private inbox: Promise<void> = Promise.resolve();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

  constructor(private readonly url: string, private readonly log: (message: string) => void = () => {}) {
    this.sender = new pg.Pool({ connectionString: url, max: 1, application_name: 'sibyl-events-out', connectionTimeoutMillis: 5000 });
    this.sender.on('error', () => undefined); // an idle connection the server dropped is replaced
  }

  async publish(study: StudyRef, event: BusEvent): Promise<void> {
    this.watchers.deliver(study.name, event);
    this.seq += 1;
    try {
      await this.sender.query('SELECT pg_notify($1, $2)', [EVENT_CHANNEL, envelope(this.publisher, this.seq, study, event)]);
    } catch (err) {
      // The other replicas see the gap in our sequence and re-read the study.
      this.log(`event bus: could not send an event of study ${study.name} to the other replicas (${(err as Error).message})`);
    }
  }

  subscribe(studyName: string, listener: (event: BusEvent) => void): () => void {
    return this.watchers.subscribe(studyName, listener);
  }

  async start(handlers: RemoteHandlers): Promise<void> {
    this.handlers = handlers;
    await this.listen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.inbox;
    await this.sender.end();
    this.watchers.clear();
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, application_name: 'sibyl-events-in', keepAlive: true, connectionTimeoutMillis: 5000 });
    const lost = (why: string) => {
      if (this.listener !== client || this.closed) return;
      this.listener = undefined;
      this.log(`event bus: the LISTEN session ended (${why}); reconnecting`);
      client.end().catch(() => undefined);
      this.reconnectSoon();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('closed by the server'));
    client.on('notification', (msg) => {
      if (msg.channel === EVENT_CHANNEL && msg.payload) this.enqueue(() => this.received(msg.payload!));
    });
    await client.connect();
    await client.query(`LISTEN ${EVENT_CHANNEL}`);
    this.listener = client;
  }

  private reconnectSoon(): void {
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return;
      this.listen().then(() => {
        const studies = this.watchers.watched();
        this.lastSeq.clear();
        this.log(`event bus: LISTEN session re-made; re-reading ${studies.length} watched ${studies.length === 1 ? 'study' : 'studies'}, whose events may have been missed meanwhile`);
        for (const name of studies) this.enqueue(() => this.resync(name));
      }, (err: Error) => {
        this.log(`event bus: reconnecting the LISTEN session failed (${err.message}); trying again`);
        this.reconnectSoon();
      });
    }, RECONNECT_MS);
  }

  private enqueue(fn: () => Promise<void>): void {
    this.inbox = this.inbox.then(fn).catch((err: Error) => this.log(`event bus: ${err.message}`));
  }

  private async received(payload: string): Promise<void> {
    const m = JSON.parse(payload) as Envelope;
    if (m.p === this.publisher || !this.handlers) return;
    const study = { id: m.i, name: m.n };
    const last = this.lastSeq.get(m.p);
    this.lastSeq.set(m.p, m.s);
    const event = m.e ?? (m.r ? await this.handlers.resolve(study, m.r) : undefined);
    if (event) this.handlers.changed(study, event);
    if (last !== undefined && m.s !== last + 1) {
      this.log(`event bus: events ${last + 1}–${m.s - 1} of replica ${m.p} were not received; re-reading study ${m.n}`);
      return this.resync(m.n);
    }
    if (event) this.watchers.deliver(m.n, event);
  }

  private async resync(studyName: string): Promise<void> {
    if (!this.handlers) return;
    for (const event of await this.handlers.current(studyName)) this.watchers.deliver(studyName, event);
  }
}
