// The SQLite backend of the store (WAL mode, in the data directory). All of its SQL lives
// here; the database handle is private. Every state change is one transaction, and a state
// change names the states it may come from (src/model/transitions.ts), so a lost race shows up
// as a StateConflictError instead of a silent overwrite.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Assignment, TrialState, TrialView } from '../model/trial.js';
import { isTerminalStudyState, TRIAL_STATES } from '../model/trial.js';
import { checkReason, STUDY_TRANSITIONS, TRIAL_TRANSITIONS, type StudyTransition, type TrialTransition } from '../model/transitions.js';
import type { MetricStrategy, StudySpec } from '../spec/types.js';
import type { Direction } from '../../suggestion-algorithms/model.js';
import { migrate } from './migrate.js';
import { feasibilityColumns, foldMetrics, labelsJson, observationPage, page, paretoOf, valuesJson, stoppingSummary, toStudy, toTrial, toTrialView, type ObservationRow, type StudyRow, type TrialRow, type TrialViewRow } from './rows.js';
import { studyTransitionSql, trialTransitionSql } from './transition-sql.js';
import {
  ConstraintError,
  StateConflictError,
  trialName,
  type CurveRow,
  type MetricSummary,
  type ObservationInput,
  type ObservationLogEntry,
  type Page,
  type RuntimeKind,
  type Store,
  type StudyRecord,
  type TrialChange,
  type NewStudyOptions,
  type TrialCounts,
  type TrialLabels,
  type TrialRecord,
} from './store.js';

export const DB_FILE = 'sibyl.db';
const now = () => new Date().toISOString();

export class SqliteStore implements Store {
  /** One process owns the data directory (lock.ts). */
  readonly shared = false;
  private readonly db: Database.Database;
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
      insertStudy: db.prepare(`INSERT INTO studies (name, spec_json, base_dir, runtime, state, seed, created_at, heartbeat_seconds, owner)
        VALUES (?, ?, ?, ?, 'CREATED', ?, ?, ?, ?)`),
      beat: db.prepare(`UPDATE trials SET heartbeat_at = ? WHERE id = ? AND state IN ('CREATED', 'RUNNING')`),
      silent: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state = 'RUNNING' AND runtime_ref LIKE 'client:%'
        AND coalesce(heartbeat_at, started_at) < ? ORDER BY seq`),
      queued: db.prepare(`SELECT id FROM trials WHERE study_id = ? AND state = 'CREATED' AND runtime_ref IS NULL ORDER BY seq LIMIT ?`),
      studiesPage: db.prepare('SELECT * FROM studies WHERE id > ? ORDER BY id LIMIT ?'),
      deleteStudy: db.prepare('DELETE FROM studies WHERE id = ?'),
      updateSpec: db.prepare('UPDATE studies SET spec_json = ? WHERE id = ?'),
      trialsPage: db.prepare('SELECT * FROM trials WHERE study_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
      trialsPageByState: db.prepare('SELECT * FROM trials WHERE study_id = ? AND seq > ? AND state = ? ORDER BY seq LIMIT ?'),
      trialsOfClient: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND runtime_ref = ? AND state IN ('CREATED', 'RUNNING') ORDER BY seq`),
      insertStartedTrial: db.prepare(`INSERT INTO trials (study_id, seq, name, assignment_json, state, runtime_ref, attempts, created_at, started_at, heartbeat_at, labels_json)
        VALUES (?, ?, ?, ?, 'RUNNING', ?, 1, ?, ?, ?, ?)`),
      insertLog: db.prepare('INSERT INTO observation_logs (trial_name, metric_name, value, time, time_ms) VALUES (?, ?, ?, ?, ?)'),
      logsOf: db.prepare(`SELECT trial_name AS trialName, metric_name AS metricName, value, time FROM observation_logs
        WHERE trial_name = ? AND (? IS NULL OR metric_name = ?) AND time_ms >= ? AND time_ms <= ? ORDER BY time_ms, id LIMIT ?`),
      deleteLogs: db.prepare('DELETE FROM observation_logs WHERE trial_name = ?'),
      studyById: db.prepare('SELECT * FROM studies WHERE id = ?'),
      studyByName: db.prepare('SELECT * FROM studies WHERE name = ?'),
      allStudies: db.prepare('SELECT * FROM studies ORDER BY id'),
      nextSeq: db.prepare('SELECT coalesce(max(seq), 0) + 1 AS seq FROM trials WHERE study_id = ?'),
      insertTrial: db.prepare(`INSERT INTO trials (study_id, seq, name, assignment_json, state, created_at, labels_json)
        VALUES (?, ?, ?, ?, 'CREATED', ?, ?)`),
      setAlgorithmState: db.prepare('UPDATE studies SET algorithm_state = ? WHERE id = ?'),
      trialById: db.prepare('SELECT * FROM trials WHERE id = ?'),
      trialByName: db.prepare('SELECT * FROM trials WHERE name = ?'),
      trialsOfStudy: db.prepare('SELECT * FROM trials WHERE study_id = ? ORDER BY seq'),
      viewsOfStudy: db.prepare('SELECT name, state, assignment_json, objective_value, objective_values_json, labels_json, feasible, violation FROM trials WHERE study_id = ? ORDER BY seq'),
      activeTrials: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state IN ('CREATED', 'RUNNING') ORDER BY seq`),
      countsByState: db.prepare('SELECT state, n FROM trial_counts WHERE study_id = ?'),
      completedWithValues: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_values_json IS NOT NULL ORDER BY seq`),
      bestMin: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL AND coalesce(feasible, 1) = 1
        ORDER BY objective_value ASC, seq ASC LIMIT 1`),
      bestMax: db.prepare(`SELECT * FROM trials WHERE study_id = ? AND state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL AND coalesce(feasible, 1) = 1
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
      observationsPage: db.prepare('SELECT id, metric_name AS metric, step, value, time FROM observations WHERE trial_id = ? AND id > ? ORDER BY id LIMIT ?'),
      deleteObservations: db.prepare('DELETE FROM observations WHERE trial_id = ?'),
      deleteMetrics: db.prepare('DELETE FROM trial_metrics WHERE trial_id = ?'),
      maxStep: db.prepare('SELECT max_step AS s FROM trial_metrics WHERE trial_id = ? AND metric_name = ?'),
      trialState: db.prepare('SELECT state FROM trials WHERE id = ?'),
      requestStop: db.prepare(`UPDATE trials SET stop_step = ?, stop_message = ? WHERE id = ? AND state IN ('CREATED', 'RUNNING') AND stop_step IS NULL`),
      stepsByState: db.prepare(`SELECT t.state, count(*) AS n, sum(m.max_step) AS steps, max(m.max_step) AS longest
        FROM trials t JOIN trial_metrics m ON m.trial_id = t.id AND m.metric_name = ? WHERE t.study_id = ? GROUP BY t.state`),
      curves: db.prepare(`SELECT t.name, t.state, o.step, o.value FROM trials t JOIN observations o ON o.trial_id = t.id AND o.metric_name = ?
        WHERE t.study_id = ? ORDER BY t.seq, o.id`),
      insertEnqueued: db.prepare('INSERT INTO enqueued_trials (study_id, assignment_json, created_at) VALUES (?, ?, ?)'),
      enqueuedOf: db.prepare('SELECT id, assignment_json FROM enqueued_trials WHERE study_id = ? ORDER BY id LIMIT ?'),
      deleteEnqueued: db.prepare('DELETE FROM enqueued_trials WHERE id = ?'),
      insertPrior: db.prepare('INSERT INTO prior_trials (study_id, seq, name, assignment_json, objective_value) VALUES (?, ?, ?, ?, ?)'),
      priorsOf: db.prepare('SELECT name, assignment_json, objective_value FROM prior_trials WHERE study_id = ? ORDER BY seq'),
      deleteStudyLogs: db.prepare('DELETE FROM observation_logs WHERE trial_name IN (SELECT name FROM trials WHERE study_id = ?)'),
    };
    this.trialTransitions = new Map(Object.entries(TRIAL_TRANSITIONS).map(([name, t]) => [name, db.prepare(trialTransitionSql(t.from, t.to))]));
    this.studyTransitions = new Map(Object.entries(STUDY_TRANSITIONS).map(([name, t]) => [name, db.prepare(studyTransitionSql(t))]));
  }

  private readonly trialTransitions: Map<string, Database.Statement>;
  private readonly studyTransitions: Map<string, Database.Statement>;

  /** Opens (creating if needed) the store in a data directory. */
  static open(dataDir: string): SqliteStore {
    mkdirSync(dataDir, { recursive: true });
    return new SqliteStore(join(dataDir, DB_FILE));
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /** One process owns a SQLite store, and its scheduler serialises each study's work already. */
  exclusive<T>(_studyId: number, fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  /** One transaction (a savepoint when nested), its constraint errors as ConstraintError. */
  private tx<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn)();
    } catch (err) {
      throw asConstraintError(err);
    }
  }

  // ── studies ──────────────────────────────────────────────────────────────

  async createStudy(spec: StudySpec, baseDir: string, seed: number, runtime: RuntimeKind = 'local', options: NewStudyOptions = {}): Promise<StudyRecord> {
    const id = this.tx(() => {
      const studyId = Number(this.stmt.insertStudy.run(spec.name, JSON.stringify(spec), baseDir, runtime, seed, now(), options.heartbeatSeconds ?? null, options.owner ?? null).lastInsertRowid);
      for (const a of options.enqueued ?? []) this.stmt.insertEnqueued.run(studyId, JSON.stringify(a), now());
      (options.priors ?? []).forEach((p, i) => this.stmt.insertPrior.run(studyId, i + 1, p.name, JSON.stringify(p.assignment), p.objectiveValue));
      return studyId;
    });
    return toStudy(this.stmt.studyById.get(id) as StudyRow);
  }

  async listStudiesPage(after: number, limit: number): Promise<Page<StudyRecord>> {
    const rows = (this.stmt.studiesPage.all(after, limit + 1) as StudyRow[]).map(toStudy);
    return page(rows, limit, (s) => s.id);
  }

  async deleteStudy(id: number): Promise<boolean> {
    return this.tx(() => {
      // Katib's observation log is keyed by trial name, not by a foreign key.
      this.stmt.deleteStudyLogs.run(id);
      return this.stmt.deleteStudy.run(id).changes === 1; // trials, observations, counts by cascade
    });
  }

  async updateBudget(id: number, spec: StudySpec, reopen: boolean): Promise<void> {
    this.tx(() => {
      this.stmt.updateSpec.run(JSON.stringify(spec), id);
      if (reopen) this.runStudyTransition(id, 'reopen');
    });
  }

  async getStudy(id: number): Promise<StudyRecord | undefined> {
    const row = this.stmt.studyById.get(id) as StudyRow | undefined;
    return row && toStudy(row);
  }

  async getStudyByName(name: string): Promise<StudyRecord | undefined> {
    const row = this.stmt.studyByName.get(name) as StudyRow | undefined;
    return row && toStudy(row);
  }

  async listStudies(): Promise<StudyRecord[]> {
    return (this.stmt.allStudies.all() as StudyRow[]).map(toStudy);
  }

  async transitionStudy(id: number, transition: StudyTransition, reason?: string, message?: string): Promise<void> {
    this.runStudyTransition(id, transition, reason, message);
  }

  private runStudyTransition(id: number, transition: StudyTransition, reason?: string, message?: string): void {
    const t = STUDY_TRANSITIONS[transition];
    checkReason('study', transition, t, reason);
    const info = this.tx(() => this.studyTransitions.get(transition)!.run({ id, reason: reason ?? null, message: message ?? null, now: now() }));
    if (info.changes !== 1) throw new StateConflictError(`study ${id}: cannot ${transition}: not in ${t.from.join('/')}${'fromReasons' in t ? ` (${t.fromReasons.join('/')})` : ''}`);
  }

  // ── trials ───────────────────────────────────────────────────────────────

  async addTrials(studyId: number, assignments: readonly Assignment[], algorithmState?: Record<string, string>, labels?: TrialLabels): Promise<TrialRecord[]> {
    return this.insertCreatedTrials(studyId, assignments, algorithmState, labels);
  }

  private insertCreatedTrials(studyId: number, assignments: readonly Assignment[], algorithmState?: Record<string, string>, labels?: TrialLabels): TrialRecord[] {
    return this.insertTrials(studyId, assignments, algorithmState, labels, (study, seq, a, at, l) =>
      this.stmt.insertTrial.run(studyId, seq, trialName(study, seq), JSON.stringify(a), at, l));
  }

  async addClientTrials(studyId: number, assignments: readonly Assignment[], clientRef: string, algorithmState?: Record<string, string>, labels?: TrialLabels): Promise<TrialRecord[]> {
    return this.insertTrials(studyId, assignments, algorithmState, labels, (study, seq, a, at, l) =>
      this.stmt.insertStartedTrial.run(studyId, seq, trialName(study, seq), JSON.stringify(a), clientRef, at, at, at, l));
  }

  private insertTrials(
    studyId: number,
    assignments: readonly Assignment[],
    algorithmState: Record<string, string> | undefined,
    labels: TrialLabels | undefined,
    insert: (studyName: string, seq: number, a: Assignment, at: string, labelsJson: string | null) => Database.RunResult,
  ): TrialRecord[] {
    return this.tx(() => {
      const study = this.stmt.studyById.get(studyId) as StudyRow | undefined;
      if (!study || isTerminalStudyState(study.state)) return []; // it ended while its algorithm was asked
      let seq = (this.stmt.nextSeq.get(studyId) as { seq: number }).seq;
      const ids: number[] = [];
      assignments.forEach((a, i) => {
        ids.push(Number(insert(study.name, seq, a, now(), labelsJson(labels?.[i])).lastInsertRowid));
        seq += 1;
      });
      if (algorithmState) this.stmt.setAlgorithmState.run(JSON.stringify(algorithmState), studyId);
      return ids.map((id) => this.trialRow(id));
    });
  }

  async claimQueued(studyId: number, clientRef: string, limit: number): Promise<TrialRecord[]> {
    return this.tx(() => {
      const ids = (this.stmt.queued.all(studyId, limit) as { id: number }[]).map((r) => r.id);
      return ids.map((id) => this.runTrialTransition(id, 'claim', { runtimeRef: clientRef }));
    });
  }

  async enqueueTrials(studyId: number, assignments: readonly Assignment[]): Promise<void> {
    const at = now();
    this.tx(() => {
      for (const a of assignments) this.stmt.insertEnqueued.run(studyId, JSON.stringify(a), at);
    });
  }

  async enqueuedTrials(studyId: number): Promise<Assignment[]> {
    return (this.stmt.enqueuedOf.all(studyId, -1) as { assignment_json: string }[]).map((r) => JSON.parse(r.assignment_json) as Assignment);
  }

  async takeEnqueued(studyId: number, limit: number, clientRef?: string): Promise<TrialRecord[]> {
    if (limit <= 0) return [];
    return this.tx(() => {
      const queued = this.stmt.enqueuedOf.all(studyId, limit) as { id: number; assignment_json: string }[];
      const assignments = queued.map((r) => JSON.parse(r.assignment_json) as Assignment);
      const created = clientRef === undefined
        ? this.insertCreatedTrials(studyId, assignments)
        : this.insertTrials(studyId, assignments, undefined, undefined, (study, seq, a, at, l) =>
          this.stmt.insertStartedTrial.run(studyId, seq, trialName(study, seq), JSON.stringify(a), clientRef, at, at, at, l));
      for (const r of queued.slice(0, created.length)) this.stmt.deleteEnqueued.run(r.id);
      return created;
    });
  }

  async priorTrials(studyId: number): Promise<TrialView[]> {
    return (this.stmt.priorsOf.all(studyId) as { name: string; assignment_json: string; objective_value: number }[]).map((r) => ({
      name: r.name, state: 'SUCCEEDED', assignment: JSON.parse(r.assignment_json) as Assignment, objectiveValue: r.objective_value,
    }));
  }

  async beat(trialIds: readonly number[]): Promise<void> {
    if (trialIds.length === 0) return;
    const at = now();
    this.tx(() => {
      for (const id of trialIds) this.stmt.beat.run(at, id);
    });
  }

  async silentTrials(studyId: number, before: string): Promise<TrialRecord[]> {
    return (this.stmt.silent.all(studyId, before) as TrialRow[]).map(toTrial);
  }

  async expireTrial(id: number, message: string): Promise<{ expired: TrialRecord; retry?: TrialRecord }> {
    return this.tx(() => {
      const expired = this.runTrialTransition(id, 'fail', { reason: 'HeartbeatExpired', message });
      const [retry] = this.insertCreatedTrials(expired.studyId, [expired.assignment], undefined, [expired.labels]);
      return retry ? { expired, retry } : { expired };
    });
  }

  async trialsOfRuntimeRef(studyId: number, runtimeRef: string): Promise<TrialRecord[]> {
    return (this.stmt.trialsOfClient.all(studyId, runtimeRef) as TrialRow[]).map(toTrial);
  }

  async listTrialsPage(studyId: number, after: number, limit: number, state?: TrialState): Promise<Page<TrialRecord>> {
    const rows = (state === undefined
      ? this.stmt.trialsPage.all(studyId, after, limit + 1)
      : this.stmt.trialsPageByState.all(studyId, after, state, limit + 1)) as TrialRow[];
    return page(rows.map(toTrial), limit, (t) => t.seq);
  }

  /** A trial this transaction has just written (so it exists). */
  private trialRow(id: number): TrialRecord {
    return toTrial(this.stmt.trialById.get(id) as TrialRow);
  }

  async getTrial(id: number): Promise<TrialRecord | undefined> {
    const row = this.stmt.trialById.get(id) as TrialRow | undefined;
    return row && toTrial(row);
  }

  async getTrialByName(name: string): Promise<TrialRecord | undefined> {
    const row = this.stmt.trialByName.get(name) as TrialRow | undefined;
    return row && toTrial(row);
  }

  async listTrials(studyId: number): Promise<TrialRecord[]> {
    return (this.stmt.trialsOfStudy.all(studyId) as TrialRow[]).map(toTrial);
  }

  async trialViews(studyId: number): Promise<TrialView[]> {
    return (this.stmt.viewsOfStudy.all(studyId) as TrialViewRow[]).map(toTrialView);
  }

  async activeTrials(studyId: number): Promise<TrialRecord[]> {
    return (this.stmt.activeTrials.all(studyId) as TrialRow[]).map(toTrial);
  }

  async trialCounts(studyId: number): Promise<TrialCounts> {
    const counts = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as TrialCounts;
    for (const r of this.stmt.countsByState.all(studyId) as { state: TrialState; n: number }[]) counts[r.state] = r.n;
    return counts;
  }

  async bestTrial(studyId: number, objective: 'minimize' | 'maximize'): Promise<TrialRecord | undefined> {
    const row = (objective === 'minimize' ? this.stmt.bestMin : this.stmt.bestMax).get(studyId) as TrialRow | undefined;
    return row && toTrial(row);
  }

  async paretoTrials(studyId: number, directions: readonly Direction[]): Promise<TrialRecord[]> {
    return paretoOf((this.stmt.completedWithValues.all(studyId) as TrialRow[]).map(toTrial), directions);
  }

  async transitionTrial(id: number, transition: TrialTransition, change: TrialChange = {}): Promise<TrialRecord> {
    return this.runTrialTransition(id, transition, change);
  }

  private runTrialTransition(id: number, transition: TrialTransition, change: TrialChange = {}): TrialRecord {
    const t = TRIAL_TRANSITIONS[transition];
    checkReason('trial', transition, t, change.reason);
    return this.tx(() => {
      // A requeued trial runs again from its start: its partial metrics go.
      if (t.to === 'CREATED') this.forgetObservations(id);
      const info = this.trialTransitions.get(transition)!.run({
        id, now: now(), reason: change.reason ?? null, message: change.message ?? null,
        value: change.objectiveValue ?? null, values: valuesJson(change.objectiveValues), ref: change.runtimeRef ?? null, ...feasibilityColumns(change.feasibility),
      });
      if (info.changes !== 1) throw new StateConflictError(`trial ${id}: cannot ${transition}: it is no longer ${t.from.join('/')}`);
      return this.trialRow(id);
    });
  }

  async requestEarlyStop(id: number, step: number, message: string): Promise<TrialRecord> {
    return this.tx(() => {
      if (this.stmt.requestStop.run(step, message, id).changes !== 1) throw new StateConflictError(`trial ${id}: cannot be early stopped: it has ended or is being stopped already`);
      return this.trialRow(id);
    });
  }

  async earlyStoppingSummary(studyId: number, metric: string): Promise<{ trialsStopped: number; stepsRun: number; stepsSaved: number }> {
    const rows = this.stmt.stepsByState.all(metric, studyId) as { state: TrialState; n: number; steps: number; longest: number }[];
    return stoppingSummary(rows);
  }

  async curveRows(studyId: number, metric: string): Promise<CurveRow[]> {
    return this.stmt.curves.all(metric, studyId) as CurveRow[];
  }

  async clearObservations(id: number): Promise<void> {
    this.tx(() => this.forgetObservations(id));
  }

  private forgetObservations(id: number): void {
    this.stmt.deleteObservations.run(id);
    this.stmt.deleteMetrics.run(id); // their aggregates (trial_metrics) go with them
  }

  // ── observations ─────────────────────────────────────────────────────────

  async addObservations(batches: readonly { readonly trialId: number; readonly observations: readonly ObservationInput[] }[]): Promise<void> {
    if (batches.every((b) => b.observations.length === 0)) return;
    this.tx(() => {
      for (const { trialId, observations } of batches) {
        if (observations.length === 0) continue;
        this.requireActive(trialId);
        for (const o of observations) this.stmt.insertObservation.run(trialId, o.metric, o.step, o.value, o.time);
      }
      this.upsertMetrics(batches.flatMap(({ trialId, observations }) => observations.map((observation) => ({ trialId, observation }))));
    });
  }

  /** Observations never change an ended trial's metrics after the fact. */
  private requireActive(trialId: number): void {
    const row = this.stmt.trialState.get(trialId) as { state: TrialState } | undefined;
    if (row?.state !== 'CREATED' && row?.state !== 'RUNNING') {
      throw new StateConflictError(`trial ${trialId}: it has ended (${row?.state ?? 'deleted'}); it takes no more observations`);
    }
  }

  /** Folds rows just inserted (in insertion order) into trial_metrics: one upsert per trial and metric. */
  private upsertMetrics(rows: readonly { trialId: number; observation: ObservationInput }[]): void {
    for (const a of foldMetrics(rows)) this.stmt.upsertMetric.run(a.trialId, a.metric, a.n, a.min, a.max, a.latest, a.maxStep);
  }

  /** The value a strategy picks from a trial's observations of one metric. */
  async strategyValue(trialId: number, metric: string, strategy: MetricStrategy): Promise<number | undefined> {
    const stmt = strategy === 'min' ? this.stmt.metricMin : strategy === 'max' ? this.stmt.metricMax : this.stmt.metricLatest;
    const row = stmt.get(trialId, metric) as { v: number | null } | undefined;
    return row?.v ?? undefined;
  }

  /** The highest step recorded for a metric of a trial (0 when none). */
  async maxStep(trialId: number, metric: string): Promise<number> {
    return (this.stmt.maxStep.get(trialId, metric) as { s: number } | undefined)?.s ?? 0;
  }

  async metricValues(trialId: number, metric: string): Promise<number[]> {
    return (this.stmt.metricValues.all(trialId, metric) as { value: number }[]).map((r) => r.value);
  }

  async metricSummaries(trialId: number): Promise<MetricSummary[]> {
    return this.stmt.metricSummaries.all(trialId) as MetricSummary[];
  }

  async observations(trialId: number): Promise<ObservationInput[]> {
    return this.stmt.observationsOf.all(trialId) as ObservationInput[];
  }

  async observationsPage(trialId: number, after: number, limit: number): Promise<Page<ObservationInput>> {
    return observationPage(this.stmt.observationsPage.all(trialId, after, limit + 1) as ObservationRow[], limit);
  }

  // ── Katib's observation log ──────────────────────────────────────────────

  async appendObservationLog(entries: readonly ObservationLogEntry[], observations: readonly { trialId: number; observation: ObservationInput }[]): Promise<void> {
    this.tx(() => {
      for (const e of entries) this.stmt.insertLog.run(e.trialName, e.metricName, e.value, e.time, Date.parse(e.time));
      for (const id of new Set(observations.map((o) => o.trialId))) this.requireActive(id);
      for (const o of observations) {
        const { metric, step, value, time } = o.observation;
        this.stmt.insertObservation.run(o.trialId, metric, step, value, time);
      }
      this.upsertMetrics(observations);
    });
  }

  async observationLog(trialName: string, metricName: string | undefined, fromMs: number, toMs: number, limit: number): Promise<ObservationLogEntry[]> {
    return this.stmt.logsOf.all(trialName, metricName ?? null, metricName ?? null, fromMs, toMs, limit) as ObservationLogEntry[];
  }

  async deleteObservationLog(trialName: string): Promise<number> {
    return this.tx(() => this.stmt.deleteLogs.run(trialName).changes);
  }
}

/** better-sqlite3's constraint errors as the store's one ConstraintError (postgres.ts maps its own). */
function asConstraintError(err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_CONSTRAINT_')) return err;
  const kind = ({ UNIQUE: 'UNIQUE', PRIMARYKEY: 'UNIQUE', CHECK: 'CHECK', NOTNULL: 'NOT NULL', FOREIGNKEY: 'FOREIGN KEY' } as const)[code.slice('SQLITE_CONSTRAINT_'.length) as 'UNIQUE'];
  if (!kind) return err;
  return new ConstraintError(kind, (err as Error).message.replace(/^.*constraint failed: /, ''));
}
