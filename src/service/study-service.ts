// The one service layer behind gRPC, REST and the CLI's --server mode: it validates requests
// (naming the offending field), writes the store through the scheduler, and publishes study
// and trial events to watchers. Adapters only translate wire formats.
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { isActiveTrialState, isTerminalStudyState, TRIAL_STATES, type TrialState } from '../model/trial.js';
import { isRfc3339 } from '../metrics/parse.js';
import { validateForRuntime, type LaunchingRuntime } from '../runtimes/factory.js';
import type { RuntimeListener, TrialRuntime } from '../runtimes/types.js';
import { Scheduler, type SchedulerEvent } from '../scheduler/scheduler.js';
import { parseStudyDocument, parseStudyText, readBudgets } from '../spec/parse.js';
import { SpecError } from '../spec/errors.js';
import type { StudySpec } from '../spec/types.js';
import { RUNTIME_KINDS, type ObservationInput, type RuntimeKind, type Store, type StudyRecord, type TrialRecord } from '../store/store.js';
import { asServiceError, invalid, notFound, precondition, ServiceError } from './errors.js';
import { LIMITS } from '../model/limits.js';
import { studyShape, trialShape, type StudyShape, type TrialShape } from './shapes.js';

export type StudyEvent =
  | { readonly type: 'study'; readonly study: StudyShape }
  | { readonly type: 'trial'; readonly trial: TrialShape };

export interface StudyServiceOptions {
  readonly store: Store;
  readonly runtime: (listener: RuntimeListener) => TrialRuntime;
  /** The runtime of studies created without naming one. */
  readonly defaultRuntime: RuntimeKind;
  /** Where this server launches trials: studies may use it or `external`. */
  readonly launchRuntime: LaunchingRuntime;
  /** Where relative paths of local trial templates resolve for studies created over the API. */
  readonly baseDir: string;
  /** The data directory: trial logs are read from `<dataDir>/logs/<trial>.log` (local runtime). */
  readonly dataDir?: string;
  readonly onError?: (error: Error) => void;
  /** Every scheduler event, as is (before it is published to watchers). */
  readonly onEvent?: (event: SchedulerEvent) => void;
}

export interface CreateStudyRequest {
  /** A Katib Experiment document, or */
  readonly spec?: unknown;
  /** the same as YAML or JSON text. */
  readonly specText?: string;
  readonly runtime?: string;
}

export interface PageRequest {
  /** A number, or its decimal text (REST query strings). */
  readonly pageSize?: number | string;
  readonly pageToken?: string;
}

export interface ObservationRequest {
  readonly metric?: unknown;
  readonly value?: unknown;
  readonly step?: unknown;
  readonly time?: unknown;
}

export interface CompleteTrialRequest {
  readonly metrics?: readonly ObservationRequest[];
  readonly infeasible?: boolean;
  readonly reason?: string;
}

export class StudyService {
  readonly store: Store;
  readonly scheduler: Scheduler;
  private readonly events = new EventEmitter();

  constructor(private readonly options: StudyServiceOptions) {
    this.store = options.store;
    this.events.setMaxListeners(0);
    this.scheduler = new Scheduler({
      store: options.store,
      runtime: options.runtime,
      onEvent: (e) => {
        options.onEvent?.(e);
        this.publish(e);
      },
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Takes charge of every study that still has work: unfinished ones and active trials of ended ones. */
  async start(): Promise<void> {
    const studies = this.store.listStudies().filter((s) => !isTerminalStudyState(s.state) || this.store.activeTrials(s.id).length > 0);
    await this.scheduler.adopt(studies.map((s) => s.id));
  }

  async close(): Promise<void> {
    await this.scheduler.close();
    this.events.removeAllListeners();
  }

  // ── studies ──────────────────────────────────────────────────────────────

  /** Idempotent by name: the same spec returns the existing study, a different one is ALREADY_EXISTS. */
  createStudy(req: CreateStudyRequest): { study: StudyShape; created: boolean } {
    const runtime = this.readRuntime(req.runtime);
    const spec = this.readSpec(req);
    if (runtime !== 'external') {
      if (runtime !== this.options.launchRuntime) {
        throw precondition(`this server launches trials on the ${this.options.launchRuntime} runtime; create the study with runtime ${this.options.launchRuntime} or external`, 'runtime');
      }
      this.specCheck(() => validateForRuntime(runtime, spec), req);
    }
    const existing = this.store.getStudyByName(spec.name);
    if (existing) {
      if (existing.specJson === JSON.stringify(spec) && existing.runtime === runtime) return { study: studyShape(this.store, existing), created: false };
      throw new ServiceError('ALREADY_EXISTS', `a different study named "${spec.name}" exists`, 'metadata.name');
    }
    const record = this.store.createStudy(spec, this.options.baseDir, randomInt(2 ** 31), runtime);
    this.scheduler.wake(record.id);
    return { study: studyShape(this.store, record), created: true };
  }

  getStudy(name: unknown): StudyShape {
    return studyShape(this.store, this.study(name));
  }

  listStudies(req: PageRequest): { studies: StudyShape[]; nextPageToken: string } {
    const { after, size } = readPage(req);
    const page = this.store.listStudiesPage(after, size);
    return { studies: page.items.map((s) => studyShape(this.store, s)), nextPageToken: encodeToken(page.next) };
  }

  async stopStudy(name: unknown): Promise<StudyShape> {
    const study = this.study(name);
    if (isTerminalStudyState(study.state)) throw precondition(`study "${study.name}" has already ended (${study.state})`, 'name');
    await this.scheduler.stopStudy(study.id);
    return this.getStudy(study.name);
  }

  async deleteStudy(name: unknown): Promise<void> {
    const study = this.study(name);
    if (!isTerminalStudyState(study.state)) await this.scheduler.stopStudy(study.id, 'deleted');
    await this.scheduler.waitForEnd(study.id);
    this.store.deleteStudy(study.id);
  }

  /** Changes the budgets Katib lets users edit; a study that ended at its trial budget reopens when given more. */
  updateBudget(name: unknown, changes: { parallelTrialCount?: unknown; maxTrialCount?: unknown; maxFailedTrialCount?: unknown }): StudyShape {
    const study = this.study(name);
    const spec = study.spec;
    const merged = {
      parallelTrialCount: changes.parallelTrialCount ?? spec.parallelTrialCount,
      maxTrialCount: changes.maxTrialCount ?? spec.maxTrialCount,
      maxFailedTrialCount: changes.maxFailedTrialCount ?? spec.maxFailedTrialCount,
    };
    let budgets: ReturnType<typeof readBudgets>;
    try {
      budgets = readBudgets(merged);
    } catch (err) {
      if (err instanceof SpecError) throw invalid(err.field.replace(/^spec\./, ''), err.reason);
      throw err;
    }
    const reopen = isTerminalStudyState(study.state);
    if (reopen) {
      const completed = TRIAL_STATES.filter((s) => !isActiveTrialState(s)).reduce((n, s) => n + this.store.trialCounts(study.id)[s], 0);
      if (study.reason !== 'MaxTrialsReached' || budgets.maxTrialCount === undefined || budgets.maxTrialCount <= completed) {
        throw precondition(`study "${study.name}" has ended (${study.state}, ${study.reason}); only a study that ended with MaxTrialsReached can be reopened, by a maxTrialCount above its ${completed} completed trials`, 'maxTrialCount');
      }
    }
    const next: StudySpec = {
      ...spec,
      parallelTrialCount: budgets.parallelTrialCount,
      ...(budgets.maxTrialCount === undefined ? {} : { maxTrialCount: budgets.maxTrialCount }),
      ...(budgets.maxFailedTrialCount === undefined ? {} : { maxFailedTrialCount: budgets.maxFailedTrialCount }),
    };
    this.store.updateBudget(study.id, next, reopen);
    this.scheduler.wake(study.id);
    const shaped = this.getStudy(study.name);
    this.events.emit(study.name, { type: 'study', study: shaped } satisfies StudyEvent);
    return shaped;
  }

  // ── trials ───────────────────────────────────────────────────────────────

  listTrials(studyName: unknown, req: PageRequest & { state?: unknown; afterId?: unknown }): { trials: TrialShape[]; nextPageToken: string } {
    const study = this.study(studyName, 'study');
    let { after, size } = readPage(req);
    if (req.afterId !== undefined && req.afterId !== null && req.afterId !== '' && req.afterId !== 0) {
      const afterId = Number(req.afterId);
      if (!Number.isSafeInteger(afterId) || afterId < 0) throw invalid('afterId', `must be a whole number ≥ 0 (got ${JSON.stringify(req.afterId)})`);
      after = Math.max(after, afterId);
    }
    let state: TrialState | undefined;
    if (req.state !== undefined && req.state !== null && req.state !== '') {
      if (typeof req.state !== 'string' || !(TRIAL_STATES as readonly string[]).includes(req.state)) {
        throw invalid('state', `must be one of ${TRIAL_STATES.join(', ')} (got ${JSON.stringify(req.state)})`);
      }
      state = req.state as TrialState;
    }
    const page = this.store.listTrialsPage(study.id, after, size, state);
    return { trials: page.items.map((t) => trialShape(this.store, study.name, t)), nextPageToken: encodeToken(page.next) };
  }

  getTrial(name: unknown): TrialShape {
    const { study, trial } = this.trial(name);
    return trialShape(this.store, study.name, trial);
  }

  async stopTrial(name: unknown): Promise<TrialShape> {
    const { trial } = this.trial(name);
    if (!isActiveTrialState(trial.state)) throw precondition(`trial "${trial.name}" has already ended (${trial.state})`, 'name');
    await this.scheduler.stopTrial(trial.name);
    return this.getTrial(trial.name);
  }

  /** Every intermediate observation of a trial, in the order they were recorded. */
  trialObservations(name: unknown): { observations: { metric: string; step: number; value: number; time: string }[] } {
    const { trial } = this.trial(name);
    return { observations: this.store.observations(trial.id).map((o) => ({ metric: o.metric, step: o.step, value: o.value, time: o.time })) };
  }

  /** The last `tail` lines of a trial's log file (local runtime); none when it has no log here. */
  trialLog(name: unknown, tail: unknown = 100): { lines: string[]; size: number } {
    const { trial } = this.trial(name);
    const n = tail === undefined || tail === null || tail === '' ? 100 : Number(tail);
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.maxLogTailLines) throw invalid('tail', `must be an integer from 1 to ${LIMITS.maxLogTailLines} (got ${JSON.stringify(tail)})`);
    if (this.options.dataDir === undefined) return { lines: [], size: 0 };
    return tailLines(join(this.options.dataDir, 'logs', `${trial.name}.log`), n);
  }

  /** Ask/tell: the client's active trials first, then new ones (Vizier's SuggestTrials). */
  async suggestTrials(studyName: unknown, count: unknown, clientId: unknown): Promise<TrialShape[]> {
    const study = this.study(studyName, 'study');
    const n = count === undefined || count === null || count === 0 ? 1 : Number(count);
    if (!Number.isInteger(n) || n < 1 || n > LIMITS.maxSuggestCount) throw invalid('count', `must be an integer from 1 to ${LIMITS.maxSuggestCount} (got ${JSON.stringify(count)})`);
    if (typeof clientId !== 'string' || clientId.trim() === '') throw invalid('clientId', 'is required');
    if (clientId.length > 200) throw invalid('clientId', 'must be at most 200 characters');
    if (study.runtime !== 'external') throw precondition(`study "${study.name}" runs its trials on the ${study.runtime} runtime; only external (ask/tell) studies hand out trials`, 'study');
    if (isTerminalStudyState(study.state)) throw precondition(`study "${study.name}" has ended (${study.state}, ${study.reason})`, 'study');
    return (await this.scheduler.suggestForClient(study.id, n, clientId)).map((t) => trialShape(this.store, study.name, t));
  }

  /** Intermediate metrics, pushed by a trial or an ask/tell client; all or nothing per batch. */
  reportObservations(trialName: unknown, observations: unknown): { accepted: number } {
    const { study, trial } = this.trial(trialName, 'trial');
    if (!Array.isArray(observations)) throw invalid('observations', 'must be a list');
    if (observations.length > LIMITS.maxObservationBatch) throw new ServiceError('RESOURCE_EXHAUSTED', `at most ${LIMITS.maxObservationBatch} observations per call (got ${observations.length})`, 'observations');
    if (!isActiveTrialState(trial.state)) throw precondition(`trial "${trial.name}" has ended (${trial.state}); it takes no more observations`, 'trial');
    const rows = this.readObservations(study, trial, observations as ObservationRequest[], 'observations');
    this.store.addObservations([{ trialId: trial.id, observations: rows }]);
    return { accepted: rows.length };
  }

  /** Ask/tell: the trial's outcome, with its final metrics or as infeasible. */
  completeTrial(trialName: unknown, req: CompleteTrialRequest): TrialShape {
    const { study, trial } = this.trial(trialName, 'trial');
    if (study.runtime !== 'external') throw precondition(`trial "${trial.name}" runs on the ${study.runtime} runtime; its outcome comes from the runtime`, 'trial');
    if (!isActiveTrialState(trial.state)) throw precondition(`trial "${trial.name}" has already ended (${trial.state})`, 'trial');
    const metrics = req.metrics ?? [];
    if (!Array.isArray(metrics)) throw invalid('metrics', 'must be a list');
    if (req.infeasible !== undefined && typeof req.infeasible !== 'boolean') throw invalid('infeasible', 'must be true or false');
    const rows = this.readObservations(study, trial, metrics, 'metrics');
    this.store.addObservations([{ trialId: trial.id, observations: rows }]);
    const outcome = req.infeasible
      ? { kind: 'failed' as const, reason: 'Infeasible', message: req.reason?.trim() || 'reported infeasible by the client' }
      : { kind: 'succeeded' as const };
    return trialShape(this.store, study.name, this.scheduler.completeExternalTrial(trial.name, outcome));
  }

  /** No early-stopping rule is configured yet, so only an ended trial should stop. */
  shouldStopTrial(trialName: unknown): { shouldStop: boolean } {
    const { trial } = this.trial(trialName, 'trial');
    return { shouldStop: !isActiveTrialState(trial.state) };
  }

  /** Subscribes to a study's events; returns the unsubscribe function. */
  watch(studyName: unknown, listener: (event: StudyEvent) => void): () => void {
    const study = this.study(studyName, 'study');
    this.events.on(study.name, listener);
    return () => this.events.off(study.name, listener);
  }

  // ── helpers ──────────────────────────────────────────────────────────────

  private publish(e: SchedulerEvent): void {
    if (e.type === 'study') {
      this.events.emit(e.study.name, { type: 'study', study: studyShape(this.store, e.study) } satisfies StudyEvent);
    } else {
      const study = this.store.getStudy(e.trial.studyId);
      if (study) this.events.emit(study.name, { type: 'trial', trial: trialShape(this.store, study.name, e.trial) } satisfies StudyEvent);
    }
  }

  private study(name: unknown, field = 'name'): StudyRecord {
    if (typeof name !== 'string' || name === '') throw invalid(field, 'is required');
    const study = this.store.getStudyByName(name);
    if (!study) throw notFound(`study "${name}"`, field);
    return study;
  }

  private trial(name: unknown, field = 'name'): { study: StudyRecord; trial: TrialRecord } {
    if (typeof name !== 'string' || name === '') throw invalid(field, 'is required');
    const trial = this.store.getTrialByName(name);
    if (!trial) throw notFound(`trial "${name}"`, field);
    return { study: this.store.getStudy(trial.studyId)!, trial };
  }

  private readRuntime(runtime: unknown): RuntimeKind {
    if (runtime === undefined || runtime === null || runtime === '') return this.options.defaultRuntime;
    if (typeof runtime !== 'string' || !(RUNTIME_KINDS as readonly string[]).includes(runtime)) {
      throw invalid('runtime', `must be one of ${RUNTIME_KINDS.join(', ')} (got ${JSON.stringify(runtime)})`);
    }
    return runtime as RuntimeKind;
  }

  private readSpec(req: CreateStudyRequest): StudySpec {
    const hasDoc = req.spec !== undefined && req.spec !== null;
    const hasText = typeof req.specText === 'string' && req.specText !== '';
    if (hasDoc === hasText) throw invalid('spec', 'give exactly one of spec (a Katib Experiment) or specText (its YAML or JSON text)');
    return this.specCheck(() => (hasText ? parseStudyText(req.specText!) : parseStudyDocument(req.spec)), req);
  }

  private specCheck<T>(fn: () => T, req: CreateStudyRequest): T {
    try {
      return fn();
    } catch (err) {
      throw asServiceError(err, typeof req.specText === 'string' && req.specText !== '' ? 'specText' : 'spec');
    }
  }

  private readObservations(study: StudyRecord, trial: TrialRecord, list: readonly ObservationRequest[], field: string): ObservationInput[] {
    const metrics = [study.spec.objective.objectiveMetricName, ...study.spec.objective.additionalMetricNames];
    const nextStep = new Map<string, number>();
    const now = new Date().toISOString();
    return list.map((o, i) => {
      const at = `${field}[${i}]`;
      if (typeof o !== 'object' || o === null) throw invalid(at, 'must be an object');
      if (typeof o.metric !== 'string' || !metrics.includes(o.metric)) {
        throw invalid(`${at}.metric`, `must be one of the study's metrics (${metrics.join(', ')}) (got ${JSON.stringify(o.metric)})`);
      }
      const value = typeof o.value === 'string' && o.value.trim() !== '' ? Number(o.value) : o.value;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${at}.value`, `must be a finite number (got ${JSON.stringify(o.value) ?? String(o.value)})`);
      let step: number;
      if (o.step === undefined || o.step === null) {
        step = (nextStep.get(o.metric) ?? this.store.maxStep(trial.id, o.metric)) + 1;
      } else {
        step = Number(o.step);
        if (!Number.isSafeInteger(step) || step < 0) throw invalid(`${at}.step`, `must be a whole number ≥ 0 (got ${JSON.stringify(o.step)})`);
      }
      nextStep.set(o.metric, Math.max(step, nextStep.get(o.metric) ?? 0));
      let time = now;
      if (o.time !== undefined && o.time !== null && o.time !== '') {
        if (typeof o.time !== 'string' || !isRfc3339(o.time)) throw invalid(`${at}.time`, `must be an RFC 3339 time (got ${JSON.stringify(o.time)})`);
        time = new Date(o.time).toISOString();
      }
      return { metric: o.metric, value, step, time };
    });
  }
}

/** The last n lines of a file, reading backwards from its end at most 1 MiB; a missing file has none. */
function tailLines(path: string, n: number): { lines: string[]; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { lines: [], size: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    const limit = Math.min(size, 1024 * 1024);
    const chunks: Buffer[] = [];
    let read = 0;
    let newlines = 0;
    while (read < limit && newlines <= n) {
      const len = Math.min(64 * 1024, limit - read);
      const buf = Buffer.alloc(len);
      readSync(fd, buf, 0, len, size - read - len);
      chunks.unshift(buf);
      read += len;
      for (const b of buf) if (b === 10) newlines++;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    if (read < size) lines.shift(); // a partial first line
    return { lines: lines.slice(-n), size };
  } finally {
    closeSync(fd);
  }
}

// Page tokens are opaque to clients: a base64url cursor.
const TOKEN_PREFIX = 'c1:';

export function encodeToken(cursor: number | undefined): string {
  return cursor === undefined ? '' : Buffer.from(`${TOKEN_PREFIX}${cursor}`).toString('base64url');
}

function readPage(req: PageRequest): { after: number; size: number } {
  const raw = req.pageSize;
  const size = raw === undefined || raw === null || raw === 0 ? LIMITS.defaultPageSize : Number(raw);
  if (!Number.isInteger(size) || size < 1 || size > LIMITS.maxPageSize) {
    throw invalid('pageSize', `must be an integer from 1 to ${LIMITS.maxPageSize} (got ${JSON.stringify(raw)})`);
  }
  if (req.pageToken === undefined || req.pageToken === null || req.pageToken === '') return { after: 0, size };
  const text = typeof req.pageToken === 'string' ? Buffer.from(req.pageToken, 'base64url').toString() : '';
  const after = text.startsWith(TOKEN_PREFIX) ? Number(text.slice(TOKEN_PREFIX.length)) : NaN;
  if (!Number.isSafeInteger(after) || after < 0) throw invalid('pageToken', 'is not a token this server issued');
  return { after, size };
}
