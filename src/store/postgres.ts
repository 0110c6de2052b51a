// The PostgreSQL backend of the store, for several Sibyl processes on one database. Same
// semantics as SqliteStore, method for method; what differs is how they hold under concurrent
// writers in other processes:
// - every state change is one transaction on one pooled client, retried whole when PostgreSQL
//   ends it as a deadlock or serialisation failure (40P01/40001);
// - the guarded UPDATEs are the same SQL as SQLite's (transition-sql.ts), so a lost race is a
//   StateConflictError here too;
// - what SQLite's single writer made safe is taken as row locks: the study row while trials are
//   numbered, the trial rows while observations are added (in id order), and queued trials are
//   claimed with SKIP LOCKED so two clients never get the same one;
// - exclusive(study) is a session advisory lock on a client of its own pool.
import pg from 'pg';
import type { Assignment, TrialState, TrialView } from '../model/trial.js';
import { isTerminalStudyState, TRIAL_STATES } from '../model/trial.js';
import { checkReason, STUDY_TRANSITIONS, TRIAL_TRANSITIONS, type StudyTransition, type TrialTransition } from '../model/transitions.js';
import type { MetricStrategy, StudySpec } from '../spec/types.js';
import type { Direction } from '../../suggestion-algorithms/model.js';
import { migratePostgres } from './pg-migrate.js';
import { feasibilityColumns, foldMetrics, labelsJson, observationPage, page, paretoOf, valuesJson, stoppingSummary, toStudy, toTrial, toTrialView, type ObservationRow, type StudyRow, type TrialRow, type TrialViewRow } from './rows.js';
import {
  ConstraintError,
  StateConflictError,
  trialName,
  type CurveRow,
  type MetricSummary,
  type NewStudyOptions,
  type ObservationInput,
  type ObservationLogEntry,
  type Page,
  type RuntimeKind,
  type Store,
  type StudyRecord,
  type TrialChange,
  type TrialCounts,
  type TrialLabels,
  type TrialRecord,
} from './store.js';
import { numbered, studyTransitionSql, trialTransitionSql } from './transition-sql.js';

export interface PostgresOptions {
  /** Server-side limit per statement (ms); it ends the statement and leaves the session usable. */
  readonly statementTimeoutMs?: number;
  /** Server-side limit per lock wait (ms): a writer stuck behind another replica fails instead of hanging. */
  readonly lockTimeoutMs?: number;
  /** Connections for queries and transactions. */
  readonly poolSize?: number;
}

/** The two-int4 advisory key space of exclusive(study): this class, the study id (the migrations use a bigint key). */
export const STUDY_LOCK_CLASS = 0x5369_6279; // "Siby"
const INT4_MAX = 0x7fff_ffff;
const RETRIES = 8;
const now = () => new Date().toISOString();

/** int8 as a Number: ids, steps, counts. A value a double cannot hold exactly is refused, not rounded. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`the database returned the integer ${text}, beyond 2^53 - 1, which Sibyl cannot represent exactly`);
  return n;
}
const INT8_OID = 20;
export const pgTypes = {
  getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text'))),
} as unknown as pg.CustomTypesConfig;

type Db = pg.Pool | pg.PoolClient;
type TrialStatement = { text: string; names: string[] };

export class PostgresStore implements Store {
  readonly shared = true;
  private readonly trialTransitions: Map<string, TrialStatement>;
  private readonly studyTransitions: Map<string, TrialStatement>;

  private constructor(private readonly pool: pg.Pool, private readonly lockPool: pg.Pool) {
    this.trialTransitions = new Map(Object.entries(TRIAL_TRANSITIONS).map(([name, t]) => [name, numbered(trialTransitionSql(t.from, t.to))]));
    this.studyTransitions = new Map(Object.entries(STUDY_TRANSITIONS).map(([name, t]) => [name, numbered(studyTransitionSql(t))]));
  }

  /** Connects to `url` and applies the migrations not yet applied (safe when several processes open at once). */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresStore> {
    const config = (max: number): pg.PoolConfig => ({
      connectionString: url, types: pgTypes, max, application_name: 'sibyl',
      statement_timeout: options.statementTimeoutMs ?? 30_000, lock_timeout: options.lockTimeoutMs ?? 10_000,
    });
    const pool = new pg.Pool(config(options.poolSize ?? 8));
    // Exclusive sections wait on clients of their own: waiters must not take the clients the holder needs.
    const lockPool = new pg.Pool(config(options.poolSize ?? 8));
    // An idle client the server drops is discarded by the pool; without a listener it would end the process.
    for (const p of [pool, lockPool]) p.on('error', () => undefined);
    try {
      await migratePostgres(pool);
    } catch (err) {
      await Promise.all([pool.end(), lockPool.end()]);
      throw err;
    }
    return new PostgresStore(pool, lockPool);
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.lockPool.end()]);
  }

  /**
   * The database as the server knows it: its address, port, name and oid. The same for every
   * replica on this database whatever URL each was given (a host name or an address), so
   * replicas on one machine tag their trial processes alike (src/runtimes/local/orphans.ts).
   */
  async identity(): Promise<string> {
    const [row] = await this.rows<{ addr: string | null; port: number | null; db: string; oid: number }>(`SELECT host(inet_server_addr()) AS addr,
      inet_server_port() AS port, current_database() AS db, (SELECT oid::bigint FROM pg_database WHERE datname = current_database()) AS oid`);
    return `postgres://${row!.addr ?? 'local-socket'}:${row!.port ?? ''}/${row!.db}#${row!.oid}`;
  }

  async exclusive<T>(studyId: number, fn: () => Promise<T>): Promise<T> {
    const client = await this.lockPool.connect();
    let failed: Error | undefined;
    try {
      // The wait is as long as the holder's section: no lock or statement limit on this session.
      await client.query(`SELECT set_config('lock_timeout', '0', false), set_config('statement_timeout', '0', false)`);
      await client.query('SELECT pg_advisory_lock($1, $2)', [STUDY_LOCK_CLASS, studyId % INT4_MAX]);
    } catch (err) {
      client.release(err as Error); // a session in an unknown state is not returned to the pool
      throw err;
    }
    try {
      return await fn();
    } finally {
      try {
        await client.query('SELECT pg_advisory_unlock($1, $2)', [STUDY_LOCK_CLASS, studyId % INT4_MAX]);
        await client.query('RESET lock_timeout; RESET statement_timeout');
      } catch (err) {
        failed = err as Error; // ending the session releases its locks
      }
      client.release(failed);
    }
  }

  // ── plumbing ─────────────────────────────────────────────────────────────

  /** One statement outside a transaction (autocommit is one transaction of its own). */
  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], db: Db = this.pool): Promise<pg.QueryResult<R>> {
    try {
      return await db.query<R>(sql, params);
    } catch (err) {
      throw asStoreError(err);
    }
  }

  private async rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = [], db: Db = this.pool): Promise<R[]> {
    return (await this.query<R>(sql, params, db)).rows;
  }

  /** `fn` as one transaction on one client, run again from its start after a deadlock or serialisation failure. */
  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        if (isRetryable(err) && attempt < RETRIES) {
          await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
          continue;
        }
        throw asStoreError(err);
      } finally {
        client.release(broken);
      }
    }
  }

  // ── studies ──────────────────────────────────────────────────────────────

  async createStudy(spec: StudySpec, baseDir: string, seed: number, runtime: RuntimeKind = 'local', options: NewStudyOptions = {}): Promise<StudyRecord> {
    return this.tx(async (c) => {
      const [row] = await this.rows<StudyRow>(`INSERT INTO studies (name, spec_json, base_dir, runtime, state, seed, created_at, heartbeat_seconds, owner)
        VALUES ($1, $2, $3, $4, 'CREATED', $5, $6, $7, $8) RETURNING *`,
      [spec.name, JSON.stringify(spec), baseDir, runtime, seed, now(), options.heartbeatSeconds ?? null, options.owner ?? null], c);
      const study = toStudy(row!);
      await this.insertEnqueued(c, study.id, options.enqueued ?? []);
      const priors = options.priors ?? [];
      for (let i = 0; i < priors.length; i += 1000) {
        const batch = priors.slice(i, i + 1000);
        await c.query(`INSERT INTO prior_trials (study_id, seq, name, assignment_json, objective_value) VALUES ${valueTuples(batch.length, 5)}`,
          batch.flatMap((p, j) => [study.id, i + j + 1, p.name, JSON.stringify(p.assignment), p.objectiveValue]));
      }
      return study;
    });
  }

  async getStudy(id: number): Promise<StudyRecord | undefined> {
    const [row] = await this.rows<StudyRow>('SELECT * FROM studies WHERE id = $1', [id]);
    return row && toStudy(row);
  }

  async getStudyByName(name: string): Promise<StudyRecord | undefined> {
    const [row] = await this.rows<StudyRow>('SELECT * FROM studies WHERE name = $1', [name]);
    return row && toStudy(row);
  }

  async listStudies(): Promise<StudyRecord[]> {
    return (await this.rows<StudyRow>('SELECT * FROM studies ORDER BY id')).map(toStudy);
  }

  async listStudiesPage(after: number, limit: number): Promise<Page<StudyRecord>> {
    const rows = (await this.rows<StudyRow>('SELECT * FROM studies WHERE id > $1 ORDER BY id LIMIT $2', [after, limit + 1])).map(toStudy);
    return page(rows, limit, (s) => s.id);
  }

  async deleteStudy(id: number): Promise<boolean> {
    return this.tx(async (c) => {
      // Katib's observation log is keyed by trial name, not by a foreign key.
      await c.query('DELETE FROM observation_logs WHERE trial_name IN (SELECT name FROM trials WHERE study_id = $1)', [id]);
      return (await c.query('DELETE FROM studies WHERE id = $1', [id])).rowCount === 1; // the rest by cascade
    });
  }

  async updateBudget(id: number, spec: StudySpec, reopen: boolean): Promise<void> {
    const specJson = JSON.stringify(spec);
    await this.tx(async (c) => {
      await c.query('UPDATE studies SET spec_json = $1 WHERE id = $2', [specJson, id]);
      if (reopen) await this.runStudyTransition(c, id, 'reopen');
    });
  }

  async transitionStudy(id: number, transition: StudyTransition, reason?: string, message?: string): Promise<void> {
    await this.tx((c) => this.runStudyTransition(c, id, transition, reason, message));
  }

  private async runStudyTransition(c: pg.PoolClient, id: number, transition: StudyTransition, reason?: string, message?: string): Promise<void> {
    const t = STUDY_TRANSITIONS[transition];
    checkReason('study', transition, t, reason);
    const values: Record<string, unknown> = { id, reason: reason ?? null, message: message ?? null, now: now() };
    const stmt = this.studyTransitions.get(transition)!;
    const info = await c.query(stmt.text, stmt.names.map((n) => values[n]));
    if (info.rowCount !== 1) throw new StateConflictError(`study ${id}: cannot ${transition}: not in ${t.from.join('/')}${'fromReasons' in t ? ` (${t.fromReasons.join('/')})` : ''}`);
  }

  // ── trials ───────────────────────────────────────────────────────────────

  async addTrials(studyId: number, assignments: readonly Assignment[], algorithmState?: Record<string, string>, labels?: TrialLabels): Promise<TrialRecord[]> {
    const rows = assignments.map((a, i) => ({ assignmentJson: JSON.stringify(a), labels: labelsJson(labels?.[i]) }));
    return this.tx((c) => this.insertTrials(c, studyId, rows, algorithmState, null));
  }

  async addClientTrials(studyId: number, assignments: readonly Assignment[], clientRef: string, algorithmState?: Record<string, string>, labels?: TrialLabels): Promise<TrialRecord[]> {
    const rows = assignments.map((a, i) => ({ assignmentJson: JSON.stringify(a), labels: labelsJson(labels?.[i]) }));
    return this.tx((c) => this.insertTrials(c, studyId, rows, algorithmState, clientRef));
  }

  /** New trials, CREATED (no client) or RUNNING for a client; none once the study has ended. */
  private async insertTrials(
    c: pg.PoolClient,
    studyId: number,
    trials: readonly { assignmentJson: string; labels: string | null }[],
    algorithmState: Record<string, string> | undefined,
    clientRef: string | null,
  ): Promise<TrialRecord[]> {
    // The study row locked: two processes numbering its trials at once take turns, and a
    // concurrent stop is seen before a trial is added to an ended study.
    const [study] = (await c.query<StudyRow>('SELECT * FROM studies WHERE id = $1 FOR NO KEY UPDATE', [studyId])).rows;
    if (!study || isTerminalStudyState(study.state)) return [];
    let seq = (await c.query<{ seq: number }>('SELECT coalesce(max(seq), 0) + 1 AS seq FROM trials WHERE study_id = $1', [studyId])).rows[0]!.seq;
    const created: TrialRecord[] = [];
    for (const t of trials) {
      const at = now();
      const { rows } = clientRef === null
        ? await c.query<TrialRow>(`INSERT INTO trials (study_id, seq, name, assignment_json, state, created_at, labels_json)
            VALUES ($1, $2, $3, $4, 'CREATED', $5, $6) RETURNING *`, [studyId, seq, trialName(study.name, seq), t.assignmentJson, at, t.labels])
        : await c.query<TrialRow>(`INSERT INTO trials (study_id, seq, name, assignment_json, state, runtime_ref, attempts, created_at, started_at, heartbeat_at, labels_json)
            VALUES ($1, $2, $3, $4, 'RUNNING', $5, 1, $6, $6, $6, $7) RETURNING *`, [studyId, seq, trialName(study.name, seq), t.assignmentJson, clientRef, at, t.labels]);
      created.push(toTrial(rows[0]!));
      seq += 1;
    }
    if (algorithmState) await c.query('UPDATE studies SET algorithm_state = $1 WHERE id = $2', [JSON.stringify(algorithmState), studyId]);
    return created;
  }

  async claimQueued(studyId: number, clientRef: string, limit: number): Promise<TrialRecord[]> {
    return this.tx(async (c) => {
      // A queued trial another client is claiming right now is skipped, not waited for or shared.
      const { rows } = await c.query<{ id: number }>(`SELECT id FROM trials WHERE study_id = $1 AND state = 'CREATED' AND runtime_ref IS NULL
        ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`, [studyId, limit]);
      const claimed: TrialRecord[] = [];
      for (const { id } of rows) claimed.push(await this.runTrialTransition(c, id, 'claim', { runtimeRef: clientRef }));
      return claimed;
    });
  }

  async enqueueTrials(studyId: number, assignments: readonly Assignment[]): Promise<void> {
    await this.tx((c) => this.insertEnqueued(c, studyId, assignments));
  }

  private async insertEnqueued(c: pg.PoolClient, studyId: number, assignments: readonly Assignment[]): Promise<void> {
    if (assignments.length === 0) return;
    const at = now();
    await c.query(`INSERT INTO enqueued_trials (study_id, assignment_json, created_at) VALUES ${valueTuples(assignments.length, 3)}`,
      assignments.flatMap((a) => [studyId, JSON.stringify(a), at]));
  }

  async enqueuedTrials(studyId: number): Promise<Assignment[]> {
    return (await this.rows<{ assignment_json: string }>('SELECT assignment_json FROM enqueued_trials WHERE study_id = $1 ORDER BY id', [studyId]))
      .map((r) => JSON.parse(r.assignment_json) as Assignment);
  }

  async takeEnqueued(studyId: number, limit: number, clientRef?: string): Promise<TrialRecord[]> {
    if (limit <= 0) return [];
    // Most passes find the queue empty: a plain read spares them a transaction.
    if ((await this.rows('SELECT 1 FROM enqueued_trials WHERE study_id = $1 LIMIT 1', [studyId])).length === 0) return [];
    return this.tx(async (c) => {
      // The study row first (as insertTrials locks it): replicas taking from one queue take turns.
      const [study] = (await c.query<StudyRow>('SELECT * FROM studies WHERE id = $1 FOR NO KEY UPDATE', [studyId])).rows;
      if (!study || isTerminalStudyState(study.state)) return [];
      const { rows } = await c.query<{ id: number; assignment_json: string }>(
        'SELECT id, assignment_json FROM enqueued_trials WHERE study_id = $1 ORDER BY id LIMIT $2 FOR UPDATE', [studyId, limit]);
      if (rows.length === 0) return [];
      const created = await this.insertTrials(c, studyId, rows.map((r) => ({ assignmentJson: r.assignment_json, labels: null })), undefined, clientRef ?? null);
      await c.query('DELETE FROM enqueued_trials WHERE id = ANY($1::bigint[])', [rows.slice(0, created.length).map((r) => r.id)]);
      return created;
    });
  }

  async priorTrials(studyId: number): Promise<TrialView[]> {
    return (await this.rows<{ name: string; assignment_json: string; objective_value: number }>(
      'SELECT name, assignment_json, objective_value FROM prior_trials WHERE study_id = $1 ORDER BY seq', [studyId]))
      .map((r) => ({ name: r.name, state: 'SUCCEEDED', assignment: JSON.parse(r.assignment_json) as Assignment, objectiveValue: Number(r.objective_value) }));
  }

  async beat(trialIds: readonly number[]): Promise<void> {
    if (trialIds.length === 0) return;
    await this.query(`UPDATE trials SET heartbeat_at = $1 WHERE id = ANY($2::bigint[]) AND state IN ('CREATED', 'RUNNING')`, [now(), [...trialIds]]);
  }

  async silentTrials(studyId: number, before: string): Promise<TrialRecord[]> {
    return (await this.rows<TrialRow>(`SELECT * FROM trials WHERE study_id = $1 AND state = 'RUNNING' AND runtime_ref LIKE 'client:%'
      AND coalesce(heartbeat_at, started_at) < $2 ORDER BY seq`, [studyId, before])).map(toTrial);
  }

  async expireTrial(id: number, message: string): Promise<{ expired: TrialRecord; retry?: TrialRecord }> {
    return this.tx(async (c) => {
      const expired = await this.runTrialTransition(c, id, 'fail', { reason: 'HeartbeatExpired', message });
      const [retry] = await this.insertTrials(c, expired.studyId, [{ assignmentJson: JSON.stringify(expired.assignment), labels: labelsJson(expired.labels) }], undefined, null);
      return retry ? { expired, retry } : { expired };
    });
  }

  async trialsOfRuntimeRef(studyId: number, runtimeRef: string): Promise<TrialRecord[]> {
    return (await this.rows<TrialRow>(`SELECT * FROM trials WHERE study_id = $1 AND runtime_ref = $2 AND state IN ('CREATED', 'RUNNING') ORDER BY seq`,
      [studyId, runtimeRef])).map(toTrial);
  }

  async getTrial(id: number): Promise<TrialRecord | undefined> {
    const [row] = await this.rows<TrialRow>('SELECT * FROM trials WHERE id = $1', [id]);
    return row && toTrial(row);
  }

  async getTrialByName(name: string): Promise<TrialRecord | undefined> {
    const [row] = await this.rows<TrialRow>('SELECT * FROM trials WHERE name = $1', [name]);
    return row && toTrial(row);
  }

  async listTrials(studyId: number): Promise<TrialRecord[]> {
    return (await this.rows<TrialRow>('SELECT * FROM trials WHERE study_id = $1 ORDER BY seq', [studyId])).map(toTrial);
  }

  async trialViews(studyId: number): Promise<TrialView[]> {
    return (await this.rows<TrialViewRow>('SELECT name, state, assignment_json, objective_value, objective_values_json, labels_json, feasible, violation FROM trials WHERE study_id = $1 ORDER BY seq', [studyId]))
      .map(toTrialView);
  }

  async listTrialsPage(studyId: number, after: number, limit: number, state?: TrialState): Promise<Page<TrialRecord>> {
    const rows = state === undefined
      ? await this.rows<TrialRow>('SELECT * FROM trials WHERE study_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [studyId, after, limit + 1])
      : await this.rows<TrialRow>('SELECT * FROM trials WHERE study_id = $1 AND seq > $2 AND state = $3 ORDER BY seq LIMIT $4', [studyId, after, state, limit + 1]);
    return page(rows.map(toTrial), limit, (t) => t.seq);
  }

  async activeTrials(studyId: number): Promise<TrialRecord[]> {
    return (await this.rows<TrialRow>(`SELECT * FROM trials WHERE study_id = $1 AND state IN ('CREATED', 'RUNNING') ORDER BY seq`, [studyId])).map(toTrial);
  }

  async trialCounts(studyId: number): Promise<TrialCounts> {
    const counts = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as TrialCounts;
    for (const r of await this.rows<{ state: TrialState; n: number }>('SELECT state, n FROM trial_counts WHERE study_id = $1', [studyId])) counts[r.state] = r.n;
    return counts;
  }

  async bestTrial(studyId: number, objective: 'minimize' | 'maximize'): Promise<TrialRecord | undefined> {
    const order = objective === 'minimize' ? 'ASC' : 'DESC';
    const [row] = await this.rows<TrialRow>(`SELECT * FROM trials WHERE study_id = $1 AND state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL AND coalesce(feasible, 1) = 1
      ORDER BY objective_value ${order}, seq ASC LIMIT 1`, [studyId]);
    return row && toTrial(row);
  }

  async paretoTrials(studyId: number, directions: readonly Direction[]): Promise<TrialRecord[]> {
    const rows = await this.rows<TrialRow>(`SELECT * FROM trials WHERE study_id = $1 AND state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_values_json IS NOT NULL ORDER BY seq`, [studyId]);
    return paretoOf(rows.map(toTrial), directions);
  }

  async transitionTrial(id: number, transition: TrialTransition, change: TrialChange = {}): Promise<TrialRecord> {
    return this.tx((c) => this.runTrialTransition(c, id, transition, change));
  }

  private async runTrialTransition(c: pg.PoolClient, id: number, transition: TrialTransition, change: TrialChange = {}): Promise<TrialRecord> {
    const t = TRIAL_TRANSITIONS[transition];
    checkReason('trial', transition, t, change.reason);
    // A requeued trial runs again from its start: its partial metrics go.
    if (t.to === 'CREATED') await this.forgetObservations(c, id);
    const values: Record<string, unknown> = {
      id, now: now(), reason: change.reason ?? null, message: change.message ?? null,
      value: change.objectiveValue ?? null, values: valuesJson(change.objectiveValues), ref: change.runtimeRef ?? null, ...feasibilityColumns(change.feasibility),
    };
    const stmt = this.trialTransitions.get(transition)!;
    const { rows } = await c.query<TrialRow>(`${stmt.text} RETURNING *`, stmt.names.map((n) => values[n]));
    if (rows.length !== 1) throw new StateConflictError(`trial ${id}: cannot ${transition}: it is no longer ${t.from.join('/')}`);
    return toTrial(rows[0]!);
  }

  async requestEarlyStop(id: number, step: number, message: string): Promise<TrialRecord> {
    const { rows } = await this.query<TrialRow>(`UPDATE trials SET stop_step = $1, stop_message = $2
      WHERE id = $3 AND state IN ('CREATED', 'RUNNING') AND stop_step IS NULL RETURNING *`, [step, message, id]);
    if (rows.length !== 1) throw new StateConflictError(`trial ${id}: cannot be early stopped: it has ended or is being stopped already`);
    return toTrial(rows[0]!);
  }

  async earlyStoppingSummary(studyId: number, metric: string): Promise<{ trialsStopped: number; stepsRun: number; stepsSaved: number }> {
    return stoppingSummary(await this.rows(`SELECT t.state, count(*) AS n, sum(m.max_step)::bigint AS steps, max(m.max_step) AS longest
      FROM trials t JOIN trial_metrics m ON m.trial_id = t.id AND m.metric_name = $1 WHERE t.study_id = $2 GROUP BY t.state`, [metric, studyId]));
  }

  async curveRows(studyId: number, metric: string): Promise<CurveRow[]> {
    return this.rows<CurveRow & pg.QueryResultRow>(`SELECT t.name, t.state, o.step, o.value FROM trials t JOIN observations o ON o.trial_id = t.id AND o.metric_name = $1
      WHERE t.study_id = $2 ORDER BY t.seq, o.id`, [metric, studyId]);
  }

  async clearObservations(trialId: number): Promise<void> {
    await this.tx((c) => this.forgetObservations(c, trialId));
  }

  private async forgetObservations(c: pg.PoolClient, trialId: number): Promise<void> {
    // The trial row first, as addObservations takes it, so the two cannot deadlock on trial_metrics.
    await c.query('SELECT 1 FROM trials WHERE id = $1 FOR NO KEY UPDATE', [trialId]);
    await c.query('DELETE FROM observations WHERE trial_id = $1', [trialId]);
    await c.query('DELETE FROM trial_metrics WHERE trial_id = $1', [trialId]); // their aggregates go with them
  }

  // ── observations ─────────────────────────────────────────────────────────

  async addObservations(batches: readonly { readonly trialId: number; readonly observations: readonly ObservationInput[] }[]): Promise<void> {
    const rows = batches.flatMap(({ trialId, observations }) => observations.map((observation) => ({ trialId, observation })));
    if (rows.length === 0) return;
    await this.tx((c) => this.insertObservations(c, rows));
  }

  /**
   * Observations of active trials, and their aggregates. The trial rows are locked (in id order)
   * for the transaction: a trial cannot end half-way, and two batches for one trial take turns,
   * so "latest" is the value with the largest id.
   */
  private async insertObservations(c: pg.PoolClient, rows: readonly { trialId: number; observation: ObservationInput }[]): Promise<void> {
    const ids = [...new Set(rows.map((r) => r.trialId))];
    const { rows: states } = await c.query<{ id: number; state: TrialState }>(
      'SELECT id, state FROM trials WHERE id = ANY($1::bigint[]) ORDER BY id FOR NO KEY UPDATE', [ids]);
    for (const id of ids) {
      const state = states.find((s) => s.id === id)?.state;
      if (state !== 'CREATED' && state !== 'RUNNING') throw new StateConflictError(`trial ${id}: it has ended (${state ?? 'deleted'}); it takes no more observations`);
    }
    await c.query(`INSERT INTO observations (trial_id, metric_name, step, value, time)
      SELECT t, m, s, v, tm FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::float8[], $5::text[]) WITH ORDINALITY AS x(t, m, s, v, tm, i) ORDER BY i`,
    [rows.map((r) => r.trialId), rows.map((r) => r.observation.metric), rows.map((r) => r.observation.step), rows.map((r) => r.observation.value), rows.map((r) => r.observation.time)]);
    for (const a of foldMetrics(rows)) {
      await c.query(`INSERT INTO trial_metrics (trial_id, metric_name, n, min_value, max_value, latest_value, max_step) VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (trial_id, metric_name) DO UPDATE SET n = trial_metrics.n + excluded.n,
          min_value = LEAST(trial_metrics.min_value, excluded.min_value), max_value = GREATEST(trial_metrics.max_value, excluded.max_value),
          latest_value = excluded.latest_value, max_step = GREATEST(trial_metrics.max_step, excluded.max_step)`,
      [a.trialId, a.metric, a.n, a.min, a.max, a.latest, a.maxStep]);
    }
  }

  async strategyValue(trialId: number, metric: string, strategy: MetricStrategy): Promise<number | undefined> {
    const column = strategy === 'min' ? 'min_value' : strategy === 'max' ? 'max_value' : 'latest_value';
    const [row] = await this.rows<{ v: number }>(`SELECT ${column} AS v FROM trial_metrics WHERE trial_id = $1 AND metric_name = $2`, [trialId, metric]);
    return row?.v;
  }

  async maxStep(trialId: number, metric: string): Promise<number> {
    const [row] = await this.rows<{ s: number }>('SELECT max_step AS s FROM trial_metrics WHERE trial_id = $1 AND metric_name = $2', [trialId, metric]);
    return row?.s ?? 0;
  }

  async metricValues(trialId: number, metric: string): Promise<number[]> {
    return (await this.rows<{ value: number }>('SELECT value FROM observations WHERE trial_id = $1 AND metric_name = $2 ORDER BY id', [trialId, metric])).map((r) => r.value);
  }

  async metricSummaries(trialId: number): Promise<MetricSummary[]> {
    // Byte order, as SQLite's BINARY collation sorts them, whatever the database's collation.
    return this.rows<MetricSummary & pg.QueryResultRow>(`SELECT metric_name AS name, min_value AS min, max_value AS max, n AS count, latest_value AS latest
      FROM trial_metrics WHERE trial_id = $1 ORDER BY metric_name COLLATE "C"`, [trialId]);
  }

  async observations(trialId: number): Promise<ObservationInput[]> {
    return this.rows<ObservationInput & pg.QueryResultRow>('SELECT metric_name AS metric, step, value, time FROM observations WHERE trial_id = $1 ORDER BY id', [trialId]);
  }

  async observationsPage(trialId: number, after: number, limit: number): Promise<Page<ObservationInput>> {
    const rows = await this.rows<ObservationRow & pg.QueryResultRow>(
      'SELECT id, metric_name AS metric, step, value, time FROM observations WHERE trial_id = $1 AND id > $2 ORDER BY id LIMIT $3', [trialId, after, limit + 1]);
    return observationPage(rows, limit);
  }

  // ── Katib's observation log ──────────────────────────────────────────────

  async appendObservationLog(entries: readonly ObservationLogEntry[], observations: readonly { trialId: number; observation: ObservationInput }[]): Promise<void> {
    if (entries.length === 0 && observations.length === 0) return;
    await this.tx(async (c) => {
      if (entries.length > 0) {
        await c.query(`INSERT INTO observation_logs (trial_name, metric_name, value, time, time_ms)
          SELECT n, m, v, t, ms FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY AS x(n, m, v, t, ms, i) ORDER BY i`,
        [entries.map((e) => e.trialName), entries.map((e) => e.metricName), entries.map((e) => e.value), entries.map((e) => e.time), entries.map((e) => Date.parse(e.time))]);
      }
      if (observations.length > 0) await this.insertObservations(c, observations);
    });
  }

  async observationLog(trialName: string, metricName: string | undefined, fromMs: number, toMs: number, limit: number): Promise<ObservationLogEntry[]> {
    return this.rows<ObservationLogEntry & pg.QueryResultRow>(`SELECT trial_name AS "trialName", metric_name AS "metricName", value, time FROM observation_logs
      WHERE trial_name = $1 AND ($2::text IS NULL OR metric_name = $2) AND time_ms >= $3 AND time_ms <= $4 ORDER BY time_ms, id LIMIT $5`,
    [trialName, metricName ?? null, fromMs, toMs, limit]);
  }

  async deleteObservationLog(trialName: string): Promise<number> {
    return (await this.query('DELETE FROM observation_logs WHERE trial_name = $1', [trialName])).rowCount ?? 0;
  }
}

const isRetryable = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return code === '40P01' || code === '40001';
};

/** PostgreSQL's constraint errors as the store's one ConstraintError, shaped as SQLite's messages. */
export function asStoreError(err: unknown): unknown {
  if (!(err instanceof pg.DatabaseError)) return err;
  switch (err.code) {
    case '23505': {
      const columns = /^Key \(([^)]*)\)=/.exec(err.detail ?? '')?.[1]?.split(', ') ?? [err.constraint ?? '?'];
      return new ConstraintError('UNIQUE', columns.map((c) => `${err.table}.${c}`).join(', '));
    }
    case '23514': return new ConstraintError('CHECK', `${err.table}: ${err.constraint}`);
    case '23502': return new ConstraintError('NOT NULL', `${err.table}.${err.column}`);
    case '23503': return new ConstraintError('FOREIGN KEY', `${err.table}: ${err.constraint}`);
    default: return err;
  }
}

/** `($1, $2, …), (…)`: placeholders for a multi-row INSERT of `rows` rows of `columns` values. */
function valueTuples(rows: number, columns: number): string {
  return Array.from({ length: rows }, (_, r) => `(${Array.from({ length: columns }, (_, c) => `$${r * columns + c + 1}`).join(', ')})`).join(', ');
}
