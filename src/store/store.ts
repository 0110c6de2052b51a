// The study/trial store: SQLite in WAL mode. All SQL lives here; every state change is one
// transaction, and state changes name the states they may come from, so a lost race shows up
// as an error instead of a silent overwrite.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Assignment, StudyState, TrialState, TrialView } from '../model/trial.js';
import { TRIAL_STATES } from '../model/trial.js';
import type { MetricStrategy, StudySpec } from '../spec/types.js';
import { migrate } from './migrate.js';

export interface StudyRecord {
  readonly id: number;
  readonly name: string;
  readonly spec: StudySpec;
  readonly specJson: string;
  readonly baseDir: string;
  readonly runtime: RuntimeKind;
  readonly state: StudyState;
  readonly reason?: string;
  readonly message?: string;
  readonly seed: number;
  readonly algorithmState?: Record<string, string>;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
}

export interface TrialRecord extends TrialView {
  readonly id: number;
  readonly studyId: number;
  readonly seq: number;
  readonly reason?: string;
  readonly message?: string;
  readonly runtimeRef?: string;
  readonly attempts: number;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly completedAt?: string;
}

export interface ObservationInput {
  readonly metric: string;
  readonly value: number;
  readonly step: number;
  readonly time: string;
}

export interface MetricSummary {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly latest: number;
  readonly count: number;
}

export type TrialCounts = Record<TrialState, number>;

export const RUNTIME_KINDS = ['local', 'external', 'kubernetes'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export interface ObservationLogEntry {
  readonly trialName: string;
  readonly metricName: string;
  readonly value: string;
  readonly time: string;
}

export interface Page<T> {
  readonly items: T[];
  /** The cursor of the next page, undefined on the last one. */
  readonly next?: number;
}

export class StateConflictError extends Error {
  override name = 'StateConflictError';
}

interface StudyRow {
  id: number; name: string; spec_json: string; base_dir: string; runtime: RuntimeKind; state: StudyState; reason: string | null;
  message: string | null; seed: number; algorithm_state: string | null; created_at: string;
  started_at: string | null; completed_at: string | null;
}
interface TrialRow {
  id: number; study_id: number; seq: number; name: string; assignment_json: string; state: TrialState;
  reason: string | null; message: string | null; runtime_ref: string | null; objective_value: number | null;
  attempts: number; created_at: string; started_at: string | null; completed_at: string | null;
}

const DB_FILE = 'sibyl.db';
const now = () => new Date().toISOString();
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export class Store {
  readonly db: Database.Database;
  private readonly stmt;

  private constructor(readonly path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // NORMAL is durable against a killed process in WAL mode (only a power loss can drop the
    // last commits), and several times faster than FULL.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    try {
      migrate(this.db);
    } catch (err) {
      this.db.close(); // a refused open (e.g. a newer schema) must not leave the file open
      throw err;
    }
    const db = this.db;
    this.stmt = {
      insertStudy: db.prepare(`INSERT INTO studies (name, spec_json, base_dir, runtime, state, seed, created_at)
        VALUES (?, ?, ?, ?, 'CREATED', ?, ?)`),
      studiesPage: db.prepare('SELECT * FROM studies WHERE id > ? ORDER BY id LIMIT ?'),
      deleteStudy: db.prepare('DELETE FROM studies WHERE id = ?'),
      updateSpec: db.prepare('UPDATE studies SET spec_json = ? WHERE id = ?'),
      trialsPage: db.prepare('SELECT * FROM trials WHERE study_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      trialsPageByState: db.prepare('SELECT * FROM trials WHERE study_id = ? AND seq > ? AND state = ? ORDER BY seq LIMIT ?'),
      trialsOfClient: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND runtime_ref = ? AND state IN ('CREATED', 'RUNNING') ORDER BY seq`),
      insertStartedTrial: db.prepare(`INSERT INTO trials (study_id, seq, name, assignment_json, state, runtime_ref, attempts, created_at, started_at)
        VALUES (?, ?, ?, ?, 'RUNNING', ?, 1, ?, ?)`),
      insertLog: db.prepare('INSERT INTO observation_logs (trial_name, metric_name, value, time, time_ms) VALUES (?, ?, ?, ?, ?)'),
      logsOf: db.prepare(`SELECT trial_name AS trialName, metric_name AS metricName, value, time FROM observation_logs
        WHERE trial_name = ? AND (? IS NULL OR metric_name = ?) AND time_ms >= ? AND time_ms <= ? ORDER BY time_ms, id`),
      deleteLogs: db.prepare('DELETE FROM observation_logs WHERE trial_name = ?'),
      studyById: db.prepare('SELECT * FROM studies WHERE id = ?'),
      studyByName: db.prepare('SELECT * FROM studies WHERE name = ?'),
      allStudies: db.prepare('SELECT * FROM studies ORDER BY id'),
      nextSeq: db.prepare('SELECT coalesce(max(seq), 0) + 1 AS seq FROM trials WHERE study_id = ?'),
      insertTrial: db.prepare(`INSERT INTO trials (study_id, seq, name, assignment_json, state, created_at)
        VALUES (?, ?, ?, ?, 'CREATED', ?)`),
      setAlgorithmState: db.prepare('UPDATE studies SET algorithm_state = ? WHERE id = ?'),
      trialById: db.prepare('SELECT * FROM trials WHERE id = ?'),
      trialByName: db.prepare('SELECT * FROM trials WHERE name = ?'),
      trialsOfStudy: db.prepare('SELECT * FROM trials WHERE study_id = ? ORDER BY seq'),
      activeTrials: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state IN ('CREATED', 'RUNNING') ORDER BY seq`),
      countsByState: db.prepare('SELECT state, n FROM trial_counts WHERE study_id = ?'),
      bestMin: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state = 'SUCCEEDED' AND objective_value IS NOT NULL
        ORDER BY objective_value ASC, seq ASC LIMIT 1`),
      bestMax: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state = 'SUCCEEDED' AND objective_value IS NOT NULL
        ORDER BY objective_value DESC, seq ASC LIMIT 1`),
      insertObservation: db.prepare(`INSERT INTO observations (trial_id, metric_name, step, value, time) VALUES (?, ?, ?, ?, ?)`),
      metricValues: db.prepare('SELECT value FROM observations WHERE trial_id = ? AND metric_name = ? ORDER BY id'),
      // Per-metric aggregates (migrations/0005_trial_metrics.sql): one row per trial and metric.
      upsertMetric: db.prepare(`INSERT INTO trial_metrics (trial_id, metric_name, n, min_value, max_value, latest_value, max_step)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (trial_id, metric_name) DO UPDATE SET n = n + excluded.n, min_value = min(min_value, excluded.min_value),
          max_value = max(max_value, excluded.max_value), latest_value = excluded.latest_value, max_step = max(max_step, excluded.max_step)`),
      metricMin: db.prepare('SELECT min_value AS v FROM trial_metrics WHERE trial_id = ? AND metric_name = ?'),
      metricMax: db.prepare('SELECT max_value AS v FROM trial_metrics WHERE trial_id = ? AND metric_name = ?'),
      metricLatest: db.prepare('SELECT latest_value AS v FROM trial_metrics WHERE trial_id = ? AND metric_name = ?'),
      metricSummaries: db.prepare(`SELECT metric_name AS name, min_value AS min, max_value AS max, n AS count, latest_value AS latest
        FROM trial_metrics WHERE trial_id = ? ORDER BY metric_name`),
      observationsOf: db.prepare('SELECT metric_name AS metric, step, value, time FROM observations WHERE trial_id = ? ORDER BY id'),
      deleteObservations: db.prepare('DELETE FROM observations WHERE trial_id = ?'),
      deleteMetrics: db.prepare('DELETE FROM trial_metrics WHERE trial_id = ?'),
      maxStep: db.prepare('SELECT max_step AS s FROM trial_metrics WHERE trial_id = ? AND metric_name = ?'),
      markRunning: db.prepare(`UPDATE trials SET state = 'RUNNING', runtime_ref = ?, attempts = attempts + 1,
        started_at = coalesce(started_at, ?) WHERE id = ? AND state IN ('CREATED', 'RUNNING')`),
      complete: db.prepare(`UPDATE trials SET state = ?, reason = ?, message = ?, objective_value = ?, completed_at = ?
        WHERE id = ? AND state IN ('CREATED', 'RUNNING')`),
      resetForRelaunch: db.prepare(`UPDATE trials SET state = 'CREATED', runtime_ref = NULL WHERE id = ? AND state IN ('CREATED', 'RUNNING')`),
    };
  }

  /** Opens (creating if needed) the store in a data directory. */
  static open(dataDir: string): Store {
    mkdirSync(dataDir, { recursive: true });
    return new Store(join(dataDir, DB_FILE));
  }

  private readonly cache = new Map<string, Database.Statement>();
  /** For statements whose text depends on arguments: prepared once per distinct text. */
  private prepared(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) this.cache.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  close(): void {
    this.db.close();
  }

  // ── studies ──────────────────────────────────────────────────────────────

  createStudy(spec: StudySpec, baseDir: string, seed: number, runtime: RuntimeKind = 'local'): StudyRecord {
    const info = this.stmt.insertStudy.run(spec.name, JSON.stringify(spec), baseDir, runtime, seed, now());
    return this.getStudy(Number(info.lastInsertRowid))!;
  }

  /** Studies in creation order, `limit` at a time after the cursor `after` (a study id). */
  listStudiesPage(after: number, limit: number): Page<StudyRecord> {
    const rows = (this.stmt.studiesPage.all(after, limit + 1) as StudyRow[]).map(toStudy);
    return page(rows, limit, (s) => s.id);
  }

  /** Deletes a study with its trials and observations (one transaction, by cascade). */
  deleteStudy(id: number): boolean {
    return this.stmt.deleteStudy.run(id).changes === 1;
  }

  /** Replaces the stored spec (budget changes); the caller has validated it. */
  updateStudySpec(id: number, spec: StudySpec): void {
    this.stmt.updateSpec.run(JSON.stringify(spec), id);
  }

  getStudy(id: number): StudyRecord | undefined {
    const row = this.stmt.studyById.get(id) as StudyRow | undefined;
    return row && toStudy(row);
  }

  getStudyByName(name: string): StudyRecord | undefined {
    const row = this.stmt.studyByName.get(name) as StudyRow | undefined;
    return row && toStudy(row);
  }

  listStudies(): StudyRecord[] {
    return (this.stmt.allStudies.all() as StudyRow[]).map(toStudy);
  }

  /** Moves a study from one of `from` to `to`; throws StateConflictError if it was elsewhere. */
  transitionStudy(id: number, from: readonly StudyState[], to: StudyState, reason?: string, message?: string): void {
    // Entering RUNNING keeps the first start and clears an end (a study reopened with a larger budget).
    const times = to === 'RUNNING' ? ', started_at = coalesce(started_at, ?), completed_at = NULL'
      : ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(to) ? ', completed_at = ?' : '';
    const info = this.prepared(`UPDATE studies SET state = ?, reason = ?, message = ?${times}
        WHERE id = ? AND state IN (${placeholders(from.length)})`)
      .run(to, reason ?? null, message ?? null, ...(times ? [now()] : []), id, ...from);
    if (info.changes !== 1) throw new StateConflictError(`study ${id}: cannot move to ${to}: not in ${from.join('/')}`);
  }

  // ── trials ───────────────────────────────────────────────────────────────

  /**
   * Write-ahead: records new trials as CREATED, and the algorithm's new state, in one
   * transaction, before anything is launched.
   */
  addTrials(studyId: number, studyName: string, assignments: readonly Assignment[], algorithmState?: Record<string, string>): TrialRecord[] {
    return this.db.transaction(() => {
      let seq = (this.stmt.nextSeq.get(studyId) as { seq: number }).seq;
      const ids: number[] = [];
      for (const a of assignments) {
        const info = this.stmt.insertTrial.run(studyId, seq, trialName(studyName, seq), JSON.stringify(a), now());
        ids.push(Number(info.lastInsertRowid));
        seq += 1;
      }
      if (algorithmState) this.stmt.setAlgorithmState.run(JSON.stringify(algorithmState), studyId);
      return ids.map((id) => this.getTrial(id)!);
    })();
  }

  /**
   * Ask/tell: records new trials already RUNNING for a client, in one transaction with the
   * algorithm's state, so that no other client can be handed them.
   */
  addClientTrials(studyId: number, studyName: string, assignments: readonly Assignment[], clientRef: string, algorithmState?: Record<string, string>): TrialRecord[] {
    return this.db.transaction(() => {
      let seq = (this.stmt.nextSeq.get(studyId) as { seq: number }).seq;
      const ids: number[] = [];
      for (const a of assignments) {
        const at = now();
        const info = this.stmt.insertStartedTrial.run(studyId, seq, trialName(studyName, seq), JSON.stringify(a), clientRef, at, at);
        ids.push(Number(info.lastInsertRowid));
        seq += 1;
      }
      if (algorithmState) this.stmt.setAlgorithmState.run(JSON.stringify(algorithmState), studyId);
      return ids.map((id) => this.getTrial(id)!);
    })();
  }

  /** The active trials a runtime reference (an ask/tell client) holds. */
  trialsOfRuntimeRef(studyId: number, runtimeRef: string): TrialRecord[] {
    return (this.stmt.trialsOfClient.all(studyId, runtimeRef) as TrialRow[]).map(toTrial);
  }

  /** A study's trials in order, `limit` at a time after the cursor `after` (a seq). */
  listTrialsPage(studyId: number, after: number, limit: number, state?: TrialState): Page<TrialRecord> {
    const rows = (state === undefined
      ? this.stmt.trialsPage.all(studyId, after, limit + 1)
      : this.stmt.trialsPageByState.all(studyId, after, state, limit + 1)) as TrialRow[];
    return page(rows.map(toTrial), limit, (t) => t.seq);
  }

  getTrial(id: number): TrialRecord | undefined {
    const row = this.stmt.trialById.get(id) as TrialRow | undefined;
    return row && toTrial(row);
  }

  getTrialByName(name: string): TrialRecord | undefined {
    const row = this.stmt.trialByName.get(name) as TrialRow | undefined;
    return row && toTrial(row);
  }

  listTrials(studyId: number): TrialRecord[] {
    return (this.stmt.trialsOfStudy.all(studyId) as TrialRow[]).map(toTrial);
  }

  activeTrials(studyId: number): TrialRecord[] {
    return (this.stmt.activeTrials.all(studyId) as TrialRow[]).map(toTrial);
  }

  trialCounts(studyId: number): TrialCounts {
    const counts = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as TrialCounts;
    for (const r of this.stmt.countsByState.all(studyId) as { state: TrialState; n: number }[]) counts[r.state] = r.n;
    return counts;
  }

  bestTrial(studyId: number, objective: 'minimize' | 'maximize'): TrialRecord | undefined {
    const row = (objective === 'minimize' ? this.stmt.bestMin : this.stmt.bestMax).get(studyId) as TrialRow | undefined;
    return row && toTrial(row);
  }

  markTrialRunning(id: number, runtimeRef: string | undefined): void {
    const info = this.stmt.markRunning.run(runtimeRef ?? null, now(), id);
    if (info.changes !== 1) throw new StateConflictError(`trial ${id}: cannot start: it is no longer active`);
  }

  /** Ends a trial in one transaction; `objectiveValue` is its strategy value if it has one. */
  completeTrial(id: number, to: TrialState, reason: string, message: string | undefined, objectiveValue: number | undefined): void {
    const info = this.stmt.complete.run(to, reason, message ?? null, objectiveValue ?? null, now(), id);
    if (info.changes !== 1) throw new StateConflictError(`trial ${id}: cannot move to ${to}: it is no longer active`);
  }

  /** Forgets a trial's observations (its output is about to be read again from the start). */
  clearObservations(id: number): void {
    this.db.transaction(() => {
      this.stmt.deleteObservations.run(id);
      this.stmt.deleteMetrics.run(id); // their aggregates (trial_metrics) go with them
    })();
  }

  /** A trial whose process died with its runner: forget partial metrics and launch it again. */
  resetTrialForRelaunch(id: number): void {
    this.db.transaction(() => {
      this.stmt.deleteObservations.run(id);
      this.stmt.deleteMetrics.run(id);
      const info = this.stmt.resetForRelaunch.run(id);
      if (info.changes !== 1) throw new StateConflictError(`trial ${id}: cannot relaunch: it is no longer active`);
    })();
  }

  // ── observations ─────────────────────────────────────────────────────────

  addObservations(trialId: number, observations: readonly ObservationInput[]): void {
    if (observations.length === 0) return;
    this.db.transaction(() => {
      for (const o of observations) this.stmt.insertObservation.run(trialId, o.metric, o.step, o.value, o.time);
      this.upsertMetrics(observations.map((observation) => ({ trialId, observation })));
    })();
  }

  /** Folds rows just inserted (in insertion order) into trial_metrics: one upsert per trial and metric. */
  private upsertMetrics(rows: readonly { trialId: number; observation: ObservationInput }[]): void {
    const acc = new Map<string, { trialId: number; metric: string; n: number; min: number; max: number; latest: number; maxStep: number }>();
    for (const { trialId, observation: o } of rows) {
      const key = `${trialId}\u0000${o.metric}`;
      const a = acc.get(key);
      if (!a) {
        acc.set(key, { trialId, metric: o.metric, n: 1, min: o.value, max: o.value, latest: o.value, maxStep: o.step });
      } else {
        a.n += 1;
        if (o.value < a.min) a.min = o.value;
        if (o.value > a.max) a.max = o.value;
        a.latest = o.value;
        if (o.step > a.maxStep) a.maxStep = o.step;
      }
    }
    for (const a of acc.values()) this.stmt.upsertMetric.run(a.trialId, a.metric, a.n, a.min, a.max, a.latest, a.maxStep);
  }

  /** The value a strategy picks from a trial's observations of one metric. */
  strategyValue(trialId: number, metric: string, strategy: MetricStrategy): number | undefined {
    const stmt = strategy === 'min' ? this.stmt.metricMin : strategy === 'max' ? this.stmt.metricMax : this.stmt.metricLatest;
    const row = stmt.get(trialId, metric) as { v: number | null } | undefined;
    return row?.v ?? undefined;
  }

  /** The highest step recorded for a metric of a trial (0 when none). */
  maxStep(trialId: number, metric: string): number {
    return (this.stmt.maxStep.get(trialId, metric) as { s: number } | undefined)?.s ?? 0;
  }

  metricValues(trialId: number, metric: string): number[] {
    return (this.stmt.metricValues.all(trialId, metric) as { value: number }[]).map((r) => r.value);
  }

  metricSummaries(trialId: number): MetricSummary[] {
    return this.stmt.metricSummaries.all(trialId) as MetricSummary[];
  }

  observations(trialId: number): ObservationInput[] {
    return this.stmt.observationsOf.all(trialId) as ObservationInput[];
  }

  // ── Katib's observation log ──────────────────────────────────────────────

  /** Appends log entries verbatim and, for Sibyl's own trials, their numeric values as observations. */
  appendObservationLog(entries: readonly ObservationLogEntry[], observations: readonly { trialId: number; observation: ObservationInput }[]): void {
    this.db.transaction(() => {
      for (const e of entries) this.stmt.insertLog.run(e.trialName, e.metricName, e.value, e.time, Date.parse(e.time));
      for (const o of observations) {
        const { metric, step, value, time } = o.observation;
        this.stmt.insertObservation.run(o.trialId, metric, step, value, time);
      }
      this.upsertMetrics(observations);
    })();
  }

  observationLog(trialName: string, metricName: string | undefined, fromMs: number, toMs: number): ObservationLogEntry[] {
    return this.stmt.logsOf.all(trialName, metricName ?? null, metricName ?? null, fromMs, toMs) as ObservationLogEntry[];
  }

  deleteObservationLog(trialName: string): number {
    return this.stmt.deleteLogs.run(trialName).changes;
  }
}

function page<T>(rows: T[], limit: number, cursor: (item: T) => number): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: cursor(items[items.length - 1]!) };
}

export function trialName(studyName: string, seq: number): string {
  return `${studyName}-${String(seq).padStart(4, '0')}`;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toStudy(r: StudyRow): StudyRecord {
  return {
    id: r.id,
    name: r.name,
    spec: JSON.parse(r.spec_json) as StudySpec,
    specJson: r.spec_json,
    baseDir: r.base_dir,
    runtime: r.runtime,
    state: r.state,
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.message === null ? {} : { message: r.message }),
    seed: r.seed,
    ...(r.algorithm_state === null ? {} : { algorithmState: JSON.parse(r.algorithm_state) as Record<string, string> }),
    createdAt: r.created_at,
    ...(r.started_at === null ? {} : { startedAt: r.started_at }),
    ...(r.completed_at === null ? {} : { completedAt: r.completed_at }),
  };
}

function toTrial(r: TrialRow): TrialRecord {
  const fields = {
    reason: opt(r.reason), message: opt(r.message), runtimeRef: opt(r.runtime_ref),
    objectiveValue: opt(r.objective_value), startedAt: opt(r.started_at), completedAt: opt(r.completed_at),
  };
  return {
    id: r.id,
    studyId: r.study_id,
    seq: r.seq,
    name: r.name,
    assignment: JSON.parse(r.assignment_json) as Assignment,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
  };
}
