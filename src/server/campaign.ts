// What both leader electors share: the campaign loop (one attempt at a time, every retry
// period), the renew deadline on a timer (so a hanging call cannot delay a step-down), taking
// charge without holding up the renewals, and stepping down once, for good. Each elector brings
// its own round: the Lease (leader.ts) or the PostgreSQL advisory lock (store/pg-leader.ts).
import type { Elector, LeaderCallbacks } from './leader.js';

export interface CampaignTiming {
  /** How often the leader renews and a candidate retries. */
  readonly retryPeriodMs: number;
  /** A leader that could not renew for this long steps down. */
  readonly renewDeadlineMs: number;
  /** Candidates wait 0.8–1.2 periods between attempts, so that replicas do not march in step. */
  readonly jitter: boolean;
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export abstract class Campaign implements Elector {
  protected readonly log: (message: string) => void;
  /** Set by halt(): no more attempts, callbacks or writes. */
  protected stopped = false;
  private leadingNow = false;
  private lost: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private starting: Promise<void> = Promise.resolve();

  constructor(private readonly timing: CampaignTiming, private readonly callbacks: LeaderCallbacks) {
    this.log = callbacks.log ?? (() => {});
  }

  abstract get identity(): string;
  abstract stop(): Promise<void>;
  /** What is held, for the logs: `namespace/name` or `the PostgreSQL leader lock`. */
  protected abstract readonly held: string;
  /** One round of acquiring or renewing; it ends with renewed(), tookCharge() or stepDown(). */
  protected abstract attempt(): Promise<void>;
  /** Runs as a leader steps down, beside onStoppedLeading (which has already been called). */
  protected async onLoss(): Promise<void> {}

  isLeader(): boolean {
    return this.leadingNow;
  }

  /** Starts campaigning; the first attempt is made at once. */
  start(): void {
    this.schedule(0);
  }

  /** Stops campaigning (no more attempts or callbacks) but keeps what is held until stop(). */
  async halt(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    await this.running;
    await this.starting;
  }

  /** Stopped, or stepped down: nothing more is to be written or called. */
  protected get over(): boolean {
    return this.stopped || this.lost !== undefined;
  }

  /** Ends the leadership without the loss callbacks (stop() gives up what is held itself); true when it was leading. */
  protected resign(): boolean {
    const was = this.leadingNow;
    this.leadingNow = false;
    return was;
  }

  /** The leader kept what it holds: the renew deadline starts again. */
  protected renewed(): void {
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => void this.stepDown(`not renewed for ${this.timing.renewDeadlineMs / 1000} s`), this.timing.renewDeadlineMs);
  }

  /** Won: leading from now on. Taking charge is not awaited, so a long takeover does not cost the leadership. */
  protected tookCharge(): void {
    this.renewed();
    if (this.leadingNow) return;
    this.leadingNow = true;
    this.log(`leader election: ${this.identity} is now the leader (${this.held})`);
    this.starting = (async () => this.callbacks.onStartedLeading())().catch((err: unknown) => {
      this.log(`leader election: starting as the leader failed (${message(err)})`);
    });
  }

  /** What was held may be someone else's now: stop leading at once, for good. */
  protected async stepDown(why: string): Promise<void> {
    if (!this.leadingNow || this.lost) return;
    this.leadingNow = false;
    clearTimeout(this.deadline);
    clearTimeout(this.timer);
    this.log(`leader election: ${this.identity} lost ${this.held}: ${why}`);
    this.lost = (async () => {
      // Called first: it stops the launches synchronously, before anything is awaited.
      const stopping = (async () => this.callbacks.onStoppedLeading())();
      await this.onLoss();
      try {
        await stopping;
      } catch (err) {
        this.log(`leader election: stepping down failed (${message(err)})`);
      }
    })();
    await this.lost;
  }

  private schedule(delayMs: number): void {
    if (this.over) return;
    this.timer = setTimeout(() => {
      if (this.over) return; // stepped down meanwhile: never campaign again
      this.running = this.attempt().finally(() => {
        const { retryPeriodMs, jitter } = this.timing;
        this.schedule(this.leadingNow || !jitter ? retryPeriodMs : Math.round(retryPeriodMs * (0.8 + Math.random() * 0.4)));
      });
    }, delayMs);
  }
}
