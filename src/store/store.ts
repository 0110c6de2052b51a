// The store's one interface: studies, trials and their observations. Every state change goes
// through a named transition (src/model/transitions.ts) and is one transaction. SQLite
// (sqlite.ts) is the embedded backend, PostgreSQL (postgres.ts) the shared one; open.ts picks one.
// Nothing outside src/store sees a database handle.
import type { Assignment, StudyState, TrialState, TrialView } from '../model/trial.js';
import type { StudyTransition, TrialTransition } from '../model/transitions.js';
import type { MetricStrategy, StudySpec } from '../spec/types.js';
import type { Direction } from '../../suggestion-algorithms/model.js';
import type { Feasibility } from '../model/constraints.js';

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
  /** Ask/tell: a client that neither reports nor beats for this long loses its trial. */
  readonly heartbeatSeconds?: number;
  /** The Kubernetes object it was created from (see migrations/0009), if any. */
  readonly owner?: string;
}

export interface NewStudyOptions {
  readonly heartbeatSeconds?: number;
  readonly owner?: string;
  /** Assignments queued to run first (spec.enqueuedTrials), written with the study. */
  readonly enqueued?: readonly Assignment[];
  /** Prior observations (spec.warmStart's study's completed trials), written with the study. */
  readonly priors?: readonly PriorTrial[];
}

/** A completed trial of a warm-start study, as its new study keeps it (migrations/0011). */
export interface PriorTrial {
  readonly name: string;
  readonly assignment: Assignment;
  readonly objectiveValue: number;
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
  /** Ask/tell: when its client last reported or beat. */
  readonly heartbeatAt?: string;
  /** An early-stopping policy's decision, recorded before the trial is stopped: the step it was taken at, and why. */
  readonly earlyStop?: { readonly step: number; readonly message: string };
}

/** One objective observation of a study's trial, as early-stopping policies read them. */
export interface CurveRow {
  readonly name: string;
  readonly state: TrialState;
  readonly step: number;
  readonly value: number;
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

/** The algorithm's labels for new trials, aligned with their assignments (an entry may be undefined). */
export type TrialLabels = readonly (Readonly<Record<string, string>> | undefined)[];

/** What a trial transition writes besides the state. */
export interface TrialChange {
  readonly reason?: string;
  readonly message?: string;
  /** The objective's strategy value (succeed); the first objective's in a multi-objective study. */
  readonly objectiveValue?: number;
  /** A multi-objective study: every objective's strategy value, in the objectives' order. */
  readonly objectiveValues?: readonly number[];
  /** Its standing against the study's outcome constraints (succeed, earlyStop; studies with constraints). */
  readonly feasibility?: Feasibility;
  /** The runtime's handle (start, claim). */
  readonly runtimeRef?: string;
}

/** A state change that lost a race: the row was no longer in a state the transition leaves. */
export class StateConflictError extends Error {
  override name = 'StateConflictError';
}

/**
 * A value the schema refuses (a non-finite number, a duplicate name, a missing field): one class
 * and one message shape, "<KIND> constraint failed: <where>", on every backend.
 */
export class ConstraintError extends Error {
  override name = 'ConstraintError';
  constructor(readonly kind: ConstraintKind, where: string) {
    super(`${kind} constraint failed: ${where}`);
  }
}
export type ConstraintKind = 'UNIQUE' | 'CHECK' | 'NOT NULL' | 'FOREIGN KEY';

export interface Store {
  /**
   * Whether other Sibyl processes may write this store at the same time (PostgreSQL): what a
   * process caches of a study is then only a hint, forgotten when another replica changes it.
   */
  readonly shared: boolean;
  close(): Promise<void>;
  /**
   * Runs `fn` while no other Sibyl process runs an exclusive section of the same study (ask/tell
   * suggestions from several replicas). SQLite has one process, whose scheduler serialises per
   * study already, so `fn` runs at once; PostgreSQL holds an advisory lock for its length.
   */
  exclusive<T>(studyId: number, fn: () => Promise<T>): Promise<T>;

  // studies
  /** Throws ConstraintError (UNIQUE) when the name is taken, leaving nothing written. */
  createStudy(spec: StudySpec, baseDir: string, seed: number, runtime?: RuntimeKind, options?: NewStudyOptions): Promise<StudyRecord>;
  getStudy(id: number): Promise<StudyRecord | undefined>;
  getStudyByName(name: string): Promise<StudyRecord | undefined>;
  listStudies(): Promise<StudyRecord[]>;
  /** Studies in creation order, `limit` at a time after the cursor `after` (a study id). */
  listStudiesPage(after: number, limit: number): Promise<Page<StudyRecord>>;
  /** Deletes a study with its trials, observations and their observation logs (one transaction). */
  deleteStudy(id: number): Promise<boolean>;
  transitionStudy(id: number, transition: StudyTransition, reason?: string, message?: string): Promise<void>;
  /** Replaces the spec (budget changes), and reopens the study in the same transaction when asked. */
  updateBudget(id: number, spec: StudySpec, reopen: boolean): Promise<void>;

  // trials
  /**
   * Write-ahead: records new trials as CREATED with the algorithm's new state, in one
   * transaction, unless the study has ended (then none).
   */
  addTrials(studyId: number, assignments: readonly Assignment[], algorithmState?: Record<string, string>, labels?: TrialLabels): Promise<TrialRecord[]>;
  /** Ask/tell: new trials already RUNNING for a client, likewise in one transaction. */
  addClientTrials(studyId: number, assignments: readonly Assignment[], clientRef: string, algorithmState?: Record<string, string>, labels?: TrialLabels): Promise<TrialRecord[]>;
  /** Ask/tell: hands up to `limit` queued trials (CREATED, no client: re-offered ones) to a client. */
  claimQueued(studyId: number, clientRef: string, limit: number): Promise<TrialRecord[]>;
  /** Appends assignments to the study's queue (they run before any algorithm suggestion), in one transaction. */
  enqueueTrials(studyId: number, assignments: readonly Assignment[]): Promise<void>;
  /** The assignments still queued, oldest first. */
  enqueuedTrials(studyId: number): Promise<Assignment[]>;
  /**
   * Turns up to `limit` queued assignments, oldest first, into trials (CREATED, or RUNNING for
   * `clientRef`) and takes them off the queue, in one transaction: none runs twice, none is
   * lost. None once the study has ended (the queue is kept).
   */
  takeEnqueued(studyId: number, limit: number, clientRef?: string): Promise<TrialRecord[]>;
  /** The prior observations a study was created with, as completed trials (SUCCEEDED) in order. */
  priorTrials(studyId: number): Promise<TrialView[]>;
  /** Ask/tell: the client of these active trials is alive now. */
  beat(trialIds: readonly number[]): Promise<void>;
  /** Ask/tell: running client trials whose last sign of life is before `before` (ISO time). */
  silentTrials(studyId: number, before: string): Promise<TrialRecord[]>;
  /** Fails a silent trial (HeartbeatExpired) and, unless its study ended, queues its assignment again, in one transaction. */
  expireTrial(id: number, message: string): Promise<{ expired: TrialRecord; retry?: TrialRecord }>;
  /** The active trials a runtime reference (an ask/tell client) holds. */
  trialsOfRuntimeRef(studyId: number, runtimeRef: string): Promise<TrialRecord[]>;
  getTrial(id: number): Promise<TrialRecord | undefined>;
  getTrialByName(name: string): Promise<TrialRecord | undefined>;
  listTrials(studyId: number): Promise<TrialRecord[]>;
  /** What algorithms see of a study's trials, in creation order (fewer columns than listTrials). */
  trialViews(studyId: number): Promise<TrialView[]>;
  /** A study's trials in order, `limit` at a time after the cursor `after` (a seq). */
  listTrialsPage(studyId: number, after: number, limit: number, state?: TrialState): Promise<Page<TrialRecord>>;
  activeTrials(studyId: number): Promise<TrialRecord[]>;
  trialCounts(studyId: number): Promise<TrialCounts>;
  /**
   * The best trial by objective value among those that completed with one (SUCCEEDED or
   * EARLY_STOPPED, as Katib) and are not infeasible (outcome constraints): an infeasible trial is never best.
   */
  bestTrial(studyId: number, objective: 'minimize' | 'maximize'): Promise<TrialRecord | undefined>;
  /**
   * A multi-objective study's Pareto front (suggestion-algorithms/pareto.ts, `paretoFront`): its
   * completed trials that no other dominates, in creation order; equal ones are all on it.
   */
  paretoTrials(studyId: number, directions: readonly Direction[]): Promise<TrialRecord[]>;
  /** Throws StateConflictError when the trial is not in a state the transition leaves. */
  transitionTrial(id: number, transition: TrialTransition, change?: TrialChange): Promise<TrialRecord>;

  /**
   * What early stopping did in a study: trials stopped, objective steps all trials reported,
   * and the steps the stopped ones did not run (each counted up to the longest SUCCEEDED trial).
   */
  earlyStoppingSummary(studyId: number, metric: string): Promise<{ trialsStopped: number; stepsRun: number; stepsSaved: number }>;
  /** Records an early-stopping decision for an active trial (once); StateConflictError when it ended or has one. */
  requestEarlyStop(id: number, step: number, message: string): Promise<TrialRecord>;

  // observations
  /** Every trial's observations of one metric, by trial (creation order), then in recorded order. */
  curveRows(studyId: number, metric: string): Promise<CurveRow[]>;
  /** Appends observations to active trials, all in one transaction; throws StateConflictError if one has ended. */
  addObservations(batches: readonly { readonly trialId: number; readonly observations: readonly ObservationInput[] }[]): Promise<void>;
  /** Forgets a trial's observations (its output is about to be read again from the start). */
  clearObservations(trialId: number): Promise<void>;
  /** The value a strategy picks from a trial's observations of one metric. */
  strategyValue(trialId: number, metric: string, strategy: MetricStrategy): Promise<number | undefined>;
  /** The highest step recorded for a metric of a trial (0 when none). */
  maxStep(trialId: number, metric: string): Promise<number>;
  metricValues(trialId: number, metric: string): Promise<number[]>;
  metricSummaries(trialId: number): Promise<MetricSummary[]>;
  /** Every observation of a trial, in recorded order (for tests and tools: a trial may have millions). */
  observations(trialId: number): Promise<ObservationInput[]>;
  /** At most `limit` observations recorded after the one whose id is `after`; the cursor is an observation id. */
  observationsPage(trialId: number, after: number, limit: number): Promise<Page<ObservationInput>>;

  // Katib's observation log
  /** Appends log entries verbatim and, for Sibyl's active trials, their numeric values as observations. */
  appendObservationLog(entries: readonly ObservationLogEntry[], observations: readonly { trialId: number; observation: ObservationInput }[]): Promise<void>;
  /** The first `limit` entries in time order with fromMs <= time <= toMs (of one metric when named). */
  observationLog(trialName: string, metricName: string | undefined, fromMs: number, toMs: number, limit: number): Promise<ObservationLogEntry[]>;
  deleteObservationLog(trialName: string): Promise<number>;
}

export function trialName(studyName: string, seq: number): string {
  return `${studyName}-${String(seq).padStart(4, '0')}`;
}
