// Leader election outside Kubernetes, on the PostgreSQL the replicas share: the leader is the
// replica whose database session holds a session-level advisory lock. The lock lives exactly as
// long as that session, so a leader that dies (even by SIGKILL) frees it as soon as the server
// sees its connection close, and there is never a moment with two holders.
//
// - a candidate opens a session of its own and tries `pg_try_advisory_lock` every
//   `retryPeriodMs` (1 s); it never waits in the server, so it never holds anything else;
// - the leader confirms its session at the same period (`SELECT 1` on it, with a time limit);
//   a session that ends or errs means the lock may be gone: it steps down at once; a session it
//   cannot confirm for `renewDeadlineMs` (5 s) it treats the same way, on a timer, so a hanging
//   call cannot delay it;
// - stepping down is final, as with the Lease (src/server/leader.ts): `onStoppedLeading` runs
//   and `sibyl serve` exits 1 for its supervisor to restart it;
// - `stop()` ends the session, which releases the lock for a successor's next attempt.
import pg from 'pg';
import { Campaign } from '../server/campaign.js';
import type { LeaderCallbacks } from '../server/leader.js';
import { STUDY_LOCK_CLASS } from './postgres.js';

/** The leader's key in exclusive()'s key space: -1 is no study's id (exclusive() locks ids ≥ 0). */
export const LEADER_LOCK: readonly [number, number] = [STUDY_LOCK_CLASS, -1];

export interface PostgresLeaderOptions {
  /** Shown in logs and in pg_stat_activity (application_name). */
  readonly identity: string;
  /** How often a candidate tries and the leader confirms (default 1000). */
  readonly retryPeriodMs?: number;
  /** A leader that could not confirm its session for this long steps down (default 5000). */
  readonly renewDeadlineMs?: number;
  /** Time limit of one call on the session (default 2000). */
  readonly requestTimeoutMs?: number;
}

export class PostgresLeaderElector extends Campaign {
  private readonly requestTimeoutMs: number;
  protected readonly held = 'the PostgreSQL leader lock';
  private session: pg.Client | undefined;

  constructor(private readonly url: string, private readonly options: PostgresLeaderOptions, callbacks: LeaderCallbacks) {
    const retryPeriodMs = options.retryPeriodMs ?? 1000;
    const renewDeadlineMs = options.renewDeadlineMs ?? 5000;
    if (renewDeadlineMs <= retryPeriodMs) throw new Error('renewDeadlineMs must be longer than retryPeriodMs');
    super({ retryPeriodMs, renewDeadlineMs, jitter: false }, callbacks);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Stops campaigning and ends the session: a held lock is released with it. */
  async stop(): Promise<void> {
    await this.halt();
    const wasLeading = this.resign();
    await this.endSession();
    if (wasLeading) this.log(`leader election: ${this.identity} released ${this.held}`);
  }

  protected async attempt(): Promise<void> {
    try {
      if (this.isLeader()) {
        await this.session!.query('SELECT 1');
        this.renewed();
        return;
      }
      const session = await this.openSession();
      const { rows } = await session.query<{ won: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS won', [...LEADER_LOCK]);
      if (!rows[0]?.won || this.over) return; // held by another replica (or we are closing: stop() ends the session)
      // The session goes on being confirmed while the leader takes charge, so a long takeover
      // (many unfinished studies, a loaded machine) is not taken for a lost session.
      this.tookCharge();
    } catch (err) {
      const message = (err as Error).message;
      if (this.isLeader()) {
        // A call that timed out may still answer; one that failed means the session is gone.
        if (/timeout/i.test(message)) this.log(`leader election: confirming the leader lock failed (${message})`);
        else await this.stepDown(`its database session failed (${message})`);
      } else {
        this.log(`leader election: trying the leader lock failed (${message})`);
        await this.endSession(); // a fresh one next time
      }
    }
  }

  /** Whatever state the session is in, the lock must not outlive our leading. */
  protected override async onLoss(): Promise<void> {
    await this.endSession();
  }

  private async openSession(): Promise<pg.Client> {
    if (this.session) return this.session;
    const session = new pg.Client({
      connectionString: this.url, application_name: `sibyl-leader ${this.identity}`.slice(0, 63),
      keepAlive: true, connectionTimeoutMillis: this.requestTimeoutMs, query_timeout: this.requestTimeoutMs,
    });
    // The session's end is the lock's end: a leader learns it here first.
    const ended = (why: string) => {
      if (this.session !== session) return;
      this.session = undefined;
      if (this.isLeader()) void this.stepDown(why);
    };
    session.on('error', (err) => ended(`its database session failed (${err.message})`));
    session.on('end', () => ended('its database session ended'));
    this.session = session;
    try {
      await session.connect();
    } catch (err) {
      this.session = undefined;
      throw err;
    }
    return session;
  }

  private async endSession(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    await session?.end().catch(() => undefined);
  }
}
