// The one service layer behind gRPC (Sibyl's API and Katib's), REST, the push intake and the
// CLI: it validates every request once (requests.ts, src/spec, the limits), writes the store
// through the scheduler, and publishes study and trial events to watchers. Adapters only
// translate wire formats.
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { AlgorithmError, type AlgorithmRunner } from '../algorithms/pool.js';
import type { ImportanceResult } from '../analysis/importance.js';
import type { Assignment } from '../../suggestion-algorithms/model.js';
import { activeCount, completedCount } from '../scheduler/policy.js';
import { readAssignment } from '../spec/assignment.js';
import { priorObservations } from '../spec/warm-start.js';
import { excerpt, LIMITS } from '../model/limits.js';
import { isActiveTrialState, isTerminalStudyState, TRIAL_STATES, type TrialState } from '../model/trial.js';
import { checkLocalCommand } from '../runtimes/local/argv.js';
import { validateForRuntime, type LaunchCheck, type LaunchingRuntime } from '../runtimes/factory.js';
import { deleteTrialLogs, tailLog, trialLogPath } from '../runtimes/logs.js';
import { deleteStudyCheckpoints } from '../runtimes/local/checkpoints.js';
import { deleteStudyFolders } from '../runtimes/checkpoint-folders.js';
import type { CheckpointVolume } from '../runtimes/kubernetes/checkpoint-volume.js';
import { deleteStudyMetrics } from '../runtimes/local/metrics-files.js';
import type { RuntimeListener, TrialRuntime } from '../runtimes/types.js';
import { Scheduler, type RetryPolicy, type SchedulerEvent } from '../scheduler/scheduler.js';
import { parseStudyDocument, readBudgets, readStudyDocument } from '../spec/parse.js';
import { resolveConfigMapTemplate, TemplateSourceError, type ConfigMapTemplate, type TrialTemplateSource } from '../spec/template-source.js';
import { SpecError } from '../spec/errors.js';
import { metricNamesOf, type StudySpec } from '../spec/types.js';
import { ConstraintError, RUNTIME_KINDS, StateConflictError, type NewStudyOptions, type ObservationInput, type RuntimeKind, type Store, type StudyRecord, type TrialRecord } from '../store/store.js';
import { asServiceError, invalid, notFound, precondition, ServiceError } from './errors.js';
import { encodeToken, readFinite, readInteger, readList, readName, readOptionalBoolean, readOptionalInteger, readOptionalString, readPage, readTime, readWorkingDir, shown, type PageRequest } from './requests.js';
import { paretoShape, studyShape, trialShape, type ParetoFrontShape, type StudyEvent, type StudyShape, type TrialShape } from './shapes.js';
import { LocalEventBus, type BusEvent, type RemoteHandlers, type StudyEventBus, type StudyRef } from './event-bus.js';

export type { StudyEvent } from './shapes.js';

export interface StudyServiceOptions {
  readonly store: Store;
  readonly runtime: (listener: RuntimeListener) => TrialRuntime;
  /** The runtime of studies created without naming one. */
  readonly defaultRuntime: RuntimeKind;
  /** Where this server launches trials: studies may use it or `external`. */
  readonly launchRuntime: LaunchingRuntime;
  /** Where local trials run when a request names no working directory. */
  readonly baseDir: string;
  /** The data directory: trial logs live in `<dataDir>/logs/<trial>.log`. */
  readonly dataDir?: string;
  /** Kubernetes: where trials keep checkpoint folders (pbt), as the runtime was given it. */
  readonly checkpointVolume?: CheckpointVolume;
  /** Where algorithms run (default: a worker pool of the scheduler's own). */
  readonly algorithms?: AlgorithmRunner;
  readonly retry?: Partial<RetryPolicy>;
  readonly onError?: (error: Error) => void;
  /** Every scheduler event, as is (before it is published to watchers). */
  readonly onEvent?: (event: SchedulerEvent) => void;
  /**
   * What a new study of the launching runtime is checked against where its trials will run
   * (runtimes/factory.ts: launchCheck); default: a local study's program must be there, a
   * kubernetes study is not checked beyond its spec.
   */
  readonly launchCheck?: LaunchCheck;
  /** Where `spec.trialTemplate.configMap` templates are read (the cluster, on the kubernetes runtime). */
  readonly trialTemplates?: TrialTemplateSource;
  /** Where events go to watchers (default: this process's only; several replicas: src/store/pg-event-bus.ts). */
  readonly events?: StudyEventBus;
  /** Whether this process schedules (default: always; a replica that does not lead serves the API only). */
  readonly leads?: () => boolean;
}

export interface CreateStudyRequest {
  /** A Katib Experiment document, or */
  readonly spec?: unknown;
  /** the same as YAML or JSON text. */
  readonly specText?: unknown;
  readonly runtime?: unknown;
  /** Local studies: the folder their commands run in (the study file's, as `sibyl run` does). */
  readonly workingDir?: unknown;
  /** External studies: a client that neither reports nor beats for this long loses its trial. */
  readonly heartbeatSeconds?: unknown;
}

export interface ObservationRequest {
  readonly metric?: unknown;
  readonly value?: unknown;
  readonly step?: unknown;
  readonly time?: unknown;
}

export interface CompleteTrialRequest {
  readonly metrics?: unknown;
  readonly infeasible?: unknown;
  readonly reason?: unknown;
}

export interface BudgetRequest {
  readonly parallelTrialCount?: unknown;
  readonly maxTrialCount?: unknown;
  readonly maxFailedTrialCount?: unknown;
}

export class StudyService {
  readonly scheduler: Scheduler;
  private readonly store: Store;
  private readonly events: StudyEventBus;
  /** Per trial: the tail of its reports being stored (see recordObservations). */
  private readonly reports = new Map<number, Promise<void>>();
  /** The tail of the event publication queue. */
  private published: Promise<void> = Promise.resolve();

  constructor(private readonly options: StudyServiceOptions) {
    this.store = options.store;
    this.events = options.events ?? new LocalEventBus();
    this.scheduler = new Scheduler({
      store: options.store,
      runtime: options.runtime,
      ...(options.leads ? { leads: options.leads } : {}),
      onEvent: (e) => {
        options.onEvent?.(e);
        this.publish(e);
      },
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Takes charge of every study that still has work: unfinished ones and active trials of ended ones. */
  async start(): Promise<void> {
    const studies: StudyRecord[] = [];
    for (const s of await this.store.listStudies()) {
      if (!isTerminalStudyState(s.state) || (await this.store.activeTrials(s.id)).length > 0) studies.push(s);
    }
    // A previous leader may have died between a write and its event: watchers everywhere get the
    // state of what it may have changed last, after everything it sent and before what we send.
    if (this.store.shared) await this.republish(studies);
    await this.scheduler.adopt(studies.map((s) => s.id));
  }

  async close(): Promise<void> {
    await this.scheduler.close();
    await this.published;
    await this.events.close();
  }

  /** What a bus that hears other replicas calls back (src/service/event-bus.ts). */
  readonly remote: RemoteHandlers = {
    resolve: async (ref, what) => {
      if (what.type === 'study') {
        const study = await this.store.getStudy(ref.id);
        return study && { type: 'study', study: await studyShape(this.store, study) };
      }
      const trial = await this.store.getTrialByName(what.trial);
      return trial && { type: 'trial', trial: await trialShape(this.store, ref.name, trial) };
    },
    changed: (ref, event) => this.scheduler.remoteChange(ref.id, event.type === 'trial' ? event.trial : undefined),
    current: async (name) => {
      const study = await this.store.getStudyByName(name);
      if (!study) return [{ type: 'deleted' }];
      this.scheduler.remoteChange(study.id);
      const trials = await Promise.all((await this.store.listTrials(study.id)).map((t) => trialShape(this.store, study.name, t)));
      return [...trials.map((trial) => ({ type: 'trial', trial }) as const), { type: 'study', study: await studyShape(this.store, study) }];
    },
  };

  // ── studies ──────────────────────────────────────────────────────────────

  /** Idempotent by name: the same spec returns the existing study, a different one is ALREADY_EXISTS. */
  async createStudy(req: CreateStudyRequest): Promise<{ study: StudyShape; created: boolean }> {
    const runtime = this.readRuntime(req.runtime);
    const spec = await this.readSpec(req);
    const heartbeatSeconds = readOptionalInteger(req.heartbeatSeconds, 'heartbeatSeconds', LIMITS.minHeartbeatSeconds, LIMITS.maxHeartbeatSeconds);
    if (heartbeatSeconds !== undefined && runtime !== 'external') throw invalid('heartbeatSeconds', 'only ask/tell (external) studies have heartbeats');
    // The working directory matters to local trials only; a client that cannot know the runtime may send it anyway.
    const requestedDir = runtime === 'local' ? await readWorkingDir(req.workingDir, 'workingDir') : undefined;
    const baseDir = requestedDir ?? this.options.baseDir;
    if (runtime !== 'external') {
      if (runtime !== this.options.launchRuntime) {
        throw precondition(`this server launches trials on the ${this.options.launchRuntime} runtime; create the study with runtime ${this.options.launchRuntime} or external`, 'runtime');
      }
      this.specCheck(() => validateForRuntime(runtime, spec, this.options.checkpointVolume), req);
      if (!(await this.isReplay(spec, runtime))) await this.specCheckAsync(() => this.launchCheck(spec, baseDir), req);
    }
    // Priors are read only for a new study: an existing one keeps what it was created with.
    const { record, created } = await this.createOnce(spec.name,
      async () => this.store.createStudy(spec, baseDir, randomInt(2 ** 31), runtime, { ...(await this.warmStartOptions(spec, this.specField(req))), ...(heartbeatSeconds === undefined ? {} : { heartbeatSeconds }) }),
      (existing) => {
        if (sameStudy(existing, spec, runtime)) return;
        throw new ServiceError('ALREADY_EXISTS', `a different study named "${spec.name}" exists`, 'metadata.name');
      });
    if (created) this.wake(record);
    return { study: await studyShape(this.store, record), created };
  }

  /**
   * A study made from a Kubernetes object (the Experiment controller), validated as every study
   * is and recorded with its owner, so that after a restart the controller adopts it and no
   * other. Idempotent for the same owner; a study of the name that another owner (or the API)
   * made is ALREADY_EXISTS.
   */
  async createOwnedStudy(spec: unknown, owner: string): Promise<StudyShape> {
    const req: CreateStudyRequest = { spec, runtime: this.options.launchRuntime };
    const parsed = await this.readSpec(req);
    this.specCheck(() => validateForRuntime(this.options.launchRuntime, parsed, this.options.checkpointVolume), req);
    await this.specCheckAsync(() => this.launchCheck(parsed, this.options.baseDir), req);
    const { record, created } = await this.createOnce(parsed.name,
      async () => this.store.createStudy(parsed, this.options.baseDir, randomInt(2 ** 31), this.options.launchRuntime, { ...(await this.warmStartOptions(parsed, this.specField(req))), owner }),
      (existing) => {
        if (existing.owner === owner) return;
        throw new ServiceError('ALREADY_EXISTS', `a study named "${parsed.name}" exists already (${existing.owner ? `made from ${existing.owner}` : 'created through the API'})`, 'metadata.name');
      });
    if (created) this.wake(record);
    return studyShape(this.store, record);
  }

  /** A study and the object it was made from (undefined: no such study; owner undefined: made through the API). */
  async findStudy(name: string): Promise<{ study: StudyShape; owner?: string } | undefined> {
    const record = await this.store.getStudyByName(name);
    return record && { study: await studyShape(this.store, record), ...(record.owner ? { owner: record.owner } : {}) };
  }

  /** Every trial of a study, in creation order (for mirrors that need all of them at once). */
  async allTrials(name: string): Promise<TrialShape[]> {
    const study = await this.study(name);
    return Promise.all((await this.store.listTrials(study.id)).map((t) => trialShape(this.store, study.name, t)));
  }

  /**
   * `sibyl run`: the study of this spec in the data directory, created if new (a different spec
   * under its name is refused); nothing runs until the scheduler adopts it.
   */
  async openStudy(spec: StudySpec, baseDir: string, runtime: LaunchingRuntime, where: string): Promise<StudyRecord> {
    validateForRuntime(runtime, spec, this.options.checkpointVolume);
    // A resume is checked again: it is about to launch trials, and may not be able to any more.
    await this.launchCheck(spec, baseDir);
    const { record } = await this.createOnce(spec.name, async () => this.store.createStudy(spec, baseDir, randomInt(2 ** 31), runtime, await this.warmStartOptions(spec)), (existing) => {
      if (sameStudy(existing, spec, runtime)) return;
      throw new SpecError('metadata.name', `a different study named "${spec.name}" already exists in ${where}; rename the study or use another --data-dir`);
    });
    return record;
  }

  async getStudy(name: unknown): Promise<StudyShape> {
    return studyShape(this.store, await this.study(name));
  }

  /** The study's Pareto front (see paretoShape). */
  async paretoFront(name: unknown): Promise<ParetoFrontShape> {
    return paretoShape(this.store, await this.study(name));
  }

  async listStudies(req: PageRequest): Promise<{ studies: StudyShape[]; nextPageToken: string }> {
    const { after, size } = readPage(req);
    const page = await this.store.listStudiesPage(after, size);
    return { studies: await Promise.all(page.items.map((s) => studyShape(this.store, s))), nextPageToken: encodeToken(page.next) };
  }

  async stopStudy(name: unknown): Promise<StudyShape> {
    const study = await this.study(name);
    if (isTerminalStudyState(study.state)) throw precondition(`study "${study.name}" has already ended (${study.state})`, 'name');
    await this.scheduler.stopStudy(study.id);
    return this.getStudy(study.name);
  }

  /** Stops the study's trials, then deletes it with everything it owns: trials, observations, logs, checkpoints. */
  async deleteStudy(name: unknown): Promise<void> {
    const study = await this.study(name);
    if (!isTerminalStudyState(study.state)) await this.scheduler.stopStudy(study.id, 'the study was deleted');
    await this.scheduler.waitForEnd(study.id);
    const trials = (await this.store.listTrials(study.id)).map((t) => t.name);
    await this.store.deleteStudy(study.id);
    this.scheduler.forget(study.id);
    this.publishEvent(async () => ({ study, event: { type: 'deleted' } }));
    await this.published;
    if (this.options.dataDir) await deleteTrialLogs(this.logDir(), trials);
    if (this.options.dataDir) await deleteStudyCheckpoints(this.options.dataDir, study.name);
    if (this.options.checkpointVolume) await deleteStudyFolders(this.options.checkpointVolume.dir, study.name);
    if (this.options.dataDir) await deleteStudyMetrics(this.options.dataDir, study.name);
  }

  /** Changes the budgets Katib lets users edit; a study that ended at its trial budget reopens when given more. */
  async updateBudget(name: unknown, changes: BudgetRequest): Promise<StudyShape> {
    const study = await this.study(name);
    const spec = study.spec;
    if (changes.parallelTrialCount === undefined && changes.maxTrialCount === undefined && changes.maxFailedTrialCount === undefined) {
      throw invalid('budget', 'give at least one of parallelTrialCount, maxTrialCount, maxFailedTrialCount');
    }
    let budgets: ReturnType<typeof readBudgets>;
    try {
      budgets = readBudgets({
        parallelTrialCount: changes.parallelTrialCount ?? spec.parallelTrialCount,
        maxTrialCount: changes.maxTrialCount ?? spec.maxTrialCount,
        maxFailedTrialCount: changes.maxFailedTrialCount ?? spec.maxFailedTrialCount,
      });
    } catch (err) {
      if (err instanceof SpecError) throw invalid(err.field.replace(/^spec\./, ''), err.reason);
      throw err;
    }
    const reopen = isTerminalStudyState(study.state);
    if (reopen) {
      const counts = await this.store.trialCounts(study.id);
      const completed = TRIAL_STATES.filter((s) => !isActiveTrialState(s)).reduce((n, s) => n + counts[s], 0);
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
    await this.store.updateBudget(study.id, next, reopen);
    const shaped = await this.getStudy(study.name);
    this.publishEvent(async () => ({ study, event: { type: 'study', study: shaped } }));
    this.scheduler.wake(study.id); // a replica that does not lead: the leader hears the event
    return shaped;
  }

  // ── trials ───────────────────────────────────────────────────────────────

  async listTrials(studyName: unknown, req: PageRequest & { state?: unknown; afterId?: unknown }): Promise<{ trials: TrialShape[]; nextPageToken: string }> {
    const study = await this.study(studyName, 'study');
    let { after, size } = readPage(req);
    const afterId = readOptionalInteger(req.afterId, 'afterId', 0, Number.MAX_SAFE_INTEGER);
    if (afterId !== undefined) after = Math.max(after, afterId);
    const state = readOptionalString(req.state, 'state', 40);
    if (state !== undefined && !(TRIAL_STATES as readonly string[]).includes(state)) {
      throw invalid('state', `must be one of ${TRIAL_STATES.join(', ')} (got ${shown(state)})`);
    }
    const page = await this.store.listTrialsPage(study.id, after, size, state as TrialState | undefined);
    return { trials: await Promise.all(page.items.map((t) => trialShape(this.store, study.name, t))), nextPageToken: encodeToken(page.next) };
  }

  async getTrial(name: unknown): Promise<TrialShape> {
    const { study, trial } = await this.trial(name);
    return trialShape(this.store, study.name, trial);
  }

  async stopTrial(name: unknown): Promise<TrialShape> {
    const { trial } = await this.trial(name);
    if (!isActiveTrialState(trial.state)) throw precondition(`trial "${trial.name}" has already ended (${trial.state})`, 'name');
    await this.scheduler.stopTrial(trial.name);
    return this.getTrial(trial.name);
  }

  /** A trial's intermediate observations in the order they were recorded, a page at a time (a trial may have millions). */
  async trialObservations(name: unknown, req: PageRequest = {}): Promise<{ observations: { metric: string; step: number; value: number; time: string }[]; nextPageToken: string }> {
    const { trial } = await this.trial(name);
    const { after, size } = readPage(req, { maxSize: LIMITS.maxObservationPage, defaultSize: LIMITS.maxObservationPage });
    const page = await this.store.observationsPage(trial.id, after, size);
    return { observations: page.items, nextPageToken: encodeToken(page.next) };
  }

  /** The last `tail` lines of a trial's log (local and Kubernetes runtimes); none when it has no log here. */
  async trialLog(name: unknown, tail: unknown): Promise<{ lines: string[]; size: number }> {
    const { trial } = await this.trial(name);
    const n = readInteger(tail, 'tail', 1, LIMITS.maxLogTailLines, 100);
    if (this.options.dataDir === undefined) return { lines: [], size: 0 };
    return tailLog(trialLogPath(this.logDir(), trial.name), n);
  }

  /**
   * Warm starts: assignments that run before any algorithm suggestion, in order, each exactly
   * once (Optuna's enqueue_trial). Each must lie in the study's space; together with the trials
   * so far and those queued they must fit in maxTrialCount. Returns the whole queue.
   */
  async enqueueTrials(studyName: unknown, assignments: unknown): Promise<{ enqueued: Assignment[] }> {
    const study = await this.study(studyName, 'study');
    const list = readList(assignments, 'assignments', LIMITS.maxEnqueuedTrials);
    if (list.length === 0) throw invalid('assignments', 'must list at least one assignment');
    const parsed = list.map((a, i) => {
      try {
        return readAssignment(a, `assignments[${i}]`, study.spec.parameters);
      } catch (err) {
        throw asServiceError(err);
      }
    });
    if (isTerminalStudyState(study.state)) throw precondition(`study "${study.name}" has ended (${study.state}, ${study.reason}): nothing more would run`, 'study');
    const queued = await this.store.enqueuedTrials(study.id);
    if (queued.length + parsed.length > LIMITS.maxEnqueuedTrials) {
      throw invalid('assignments', `at most ${LIMITS.maxEnqueuedTrials} assignments may wait in a study's queue (${queued.length} wait already)`);
    }
    const max = study.spec.maxTrialCount;
    if (max !== undefined) {
      const counts = await this.store.trialCounts(study.id);
      const room = max - completedCount(counts) - activeCount(counts) - queued.length;
      if (parsed.length > room) {
        throw precondition(`only ${Math.max(0, room)} more trials fit in maxTrialCount ${max} (${completedCount(counts) + activeCount(counts)} trials so far, ${queued.length} queued): raise the budget first`, 'assignments');
      }
    }
    await this.store.enqueueTrials(study.id, parsed);
    this.wake(study);
    return { enqueued: [...queued, ...parsed] };
  }

  /** The assignments still waiting in a study's queue, in the order they will run. */
  async enqueuedTrials(studyName: unknown): Promise<{ enqueued: Assignment[] }> {
    const study = await this.study(studyName, 'study');
    return { enqueued: await this.store.enqueuedTrials(study.id) };
  }

  /**
   * fANOVA importance of each parameter over the study's completed trials (src/analysis), in
   * the worker pool; the latest LIMITS.maxImportanceTrials trials at most. Deterministic for a
   * study (the forest's seed is the study's).
   */
  async parameterImportance(studyName: unknown): Promise<ImportanceResult> {
    const study = await this.study(studyName, 'study');
    const trials = await this.store.trialViews(study.id);
    try {
      return await this.scheduler.algorithms.importance({ parameters: study.spec.parameters, trials, seed: study.seed });
    } catch (err) {
      if (err instanceof AlgorithmError) throw new ServiceError('UNAVAILABLE', err.message, 'study');
      throw err;
    }
  }

  /**
   * What a study's `enqueuedTrials` and `warmStart` add to its creation (priors read from the
   * prior study now). Refusals are SpecErrors; `specField` prefixes them for the API's callers.
   */
  private async warmStartOptions(spec: StudySpec, specField?: string): Promise<Pick<NewStudyOptions, 'enqueued' | 'priors'>> {
    const enqueued = spec.enqueuedTrials && spec.enqueuedTrials.length > 0 ? { enqueued: spec.enqueuedTrials } : {};
    if (!spec.warmStart) return enqueued;
    try {
      const prior = await this.store.getStudyByName(spec.warmStart.study);
      if (!prior) throw new SpecError('spec.warmStart.study', `no study named ${JSON.stringify(spec.warmStart.study)} (a warm start reads the completed trials of an existing study)`);
      return { ...enqueued, priors: priorObservations(spec, prior, await this.store.trialViews(prior.id)) };
    } catch (err) {
      if (specField === undefined || !(err instanceof SpecError)) throw err;
      throw asServiceError(err, specField);
    }
  }

  /** Ask/tell: the client's active trials first, then queued ones, then new ones (Vizier's SuggestTrials). */
  async suggestTrials(studyName: unknown, count: unknown, clientId: unknown): Promise<TrialShape[]> {
    const study = await this.study(studyName, 'study');
    const n = readInteger(count, 'count', 1, LIMITS.maxSuggestCount, 1);
    const client = readOptionalString(clientId, 'clientId', LIMITS.maxClientIdLength);
    if (client === undefined || client.trim() === '') throw invalid('clientId', 'is required');
    this.requireAskTell(study, 'study');
    if (isTerminalStudyState(study.state)) throw precondition(`study "${study.name}" has ended (${study.state}, ${study.reason})`, 'study');
    const trials = await this.scheduler.suggestForClient(study.id, n, client);
    const ended = (await this.store.getStudy(study.id))!;
    if (trials.length === 0 && ended.reason === 'AlgorithmFailed') throw precondition(`study "${study.name}" has ended: ${ended.message}`, 'study');
    return Promise.all(trials.map((t) => trialShape(this.store, study.name, t)));
  }

  /** Intermediate metrics, pushed by a trial or an ask/tell client; all or nothing per batch. */
  async reportObservations(trialName: unknown, observations: unknown): Promise<{ accepted: number }> {
    const { study, trial } = await this.trial(trialName, 'trial');
    const list = readList(observations, 'observations', LIMITS.maxObservationBatch);
    this.requireActive(trial);
    const rows = await this.recordObservations(study, trial, list, 'observations');
    if (study.runtime === 'external') {
      await this.store.beat([trial.id]);
      // A client that goes on reporting after its trial was stopped: this report is its last.
      if (trial.earlyStop) {
        await this.scheduler.endIfEarlyStopped(trial.name);
        return { accepted: rows.length };
      }
    }
    await this.scheduler.observed(trial.name, rows);
    return { accepted: rows.length };
  }

  /** Ask/tell: the trial's outcome, with its final metrics or as infeasible. */
  async completeTrial(trialName: unknown, req: CompleteTrialRequest): Promise<TrialShape> {
    const { study, trial } = await this.trial(trialName, 'trial');
    this.requireAskTell(study, 'trial', trial);
    const metrics = req.metrics === undefined || req.metrics === null ? [] : readList(req.metrics, 'metrics', LIMITS.maxObservationBatch);
    const infeasible = readOptionalBoolean(req.infeasible, 'infeasible') ?? false;
    const reason = readOptionalString(req.reason, 'reason', LIMITS.maxReasonLength)?.trim();
    this.requireActive(trial);
    await this.recordObservations(study, trial, metrics, 'metrics');
    const outcome = infeasible
      ? { kind: 'failed' as const, reason: 'Infeasible', message: reason || 'reported infeasible by the client' }
      : { kind: 'succeeded' as const };
    return trialShape(this.store, study.name, await this.scheduler.completeExternalTrial(trial.name, outcome));
  }

  /** Ask/tell: the client of an active trial is alive (it also counts as a beat to report or to ask should-stop). */
  async heartbeat(trialName: unknown): Promise<TrialShape> {
    const { study, trial } = await this.trial(trialName, 'trial');
    this.requireAskTell(study, 'trial', trial);
    this.requireActive(trial);
    await this.store.beat([trial.id]);
    return trialShape(this.store, study.name, (await this.store.getTrial(trial.id))!);
  }

  /** Yes for an ended trial and for one its study's early-stopping policy has stopped. */
  async shouldStopTrial(trialName: unknown): Promise<{ shouldStop: boolean }> {
    const { study, trial } = await this.trial(trialName, 'trial');
    const active = isActiveTrialState(trial.state);
    if (active && study.runtime === 'external') await this.store.beat([trial.id]);
    return { shouldStop: !active || trial.earlyStop !== undefined };
  }

  /**
   * Subscribes to a study's events; `onEnd` runs when the study is deleted. Resolves to the
   * study as it is now (to send first) and the unsubscribe function; events that happen while
   * the snapshot is read reach the listener after it, in order. Throws (NOT_FOUND,
   * INVALID_ARGUMENT) before subscribing.
   */
  async watch(studyName: unknown, listener: (event: StudyEvent) => void, onEnd?: () => void): Promise<{ first: StudyShape; unsubscribe: () => void }> {
    const study = await this.study(studyName, 'name');
    let held: StudyEvent[] | undefined = [];
    let ended = false;
    const deliver = (event: BusEvent) => {
      if (event.type !== 'deleted') return held ? held.push(event) : listener(event);
      if (ended) return;
      ended = true;
      unsubscribe();
      onEnd?.();
    };
    const unsubscribe = this.events.subscribe(study.name, deliver);
    try {
      const first = await studyShape(this.store, study);
      // After the caller's continuation has sent `first` (a macrotask comes after its microtasks).
      setImmediate(() => {
        const early = held ?? [];
        held = undefined;
        for (const event of early) listener(event);
      });
      return { first, unsubscribe };
    } catch (err) {
      unsubscribe();
      throw err;
    }
  }

  // ── helpers ──────────────────────────────────────────────────────────────

  /**
   * Creates a study unless its name is taken; a taken name is given to `matches`, which throws
   * when the existing study is not the one asked for. A create that another request (or
   * replica) wins between the check and the insert ends the same way.
   */
  private async createOnce(name: string, create: () => Promise<StudyRecord>, matches: (existing: StudyRecord) => void): Promise<{ record: StudyRecord; created: boolean }> {
    const existing = await this.store.getStudyByName(name);
    if (existing) {
      matches(existing);
      return { record: existing, created: false };
    }
    try {
      return { record: await create(), created: true };
    } catch (err) {
      const winner = err instanceof ConstraintError && err.kind === 'UNIQUE' ? await this.store.getStudyByName(name) : undefined;
      if (!winner) throw err;
      matches(winner);
      return { record: winner, created: false };
    }
  }

  private logDir(): string {
    return join(this.options.dataDir!, 'logs');
  }

  private publish(e: SchedulerEvent): void {
    if (e.type === 'study') {
      this.publishEvent(async () => ({ study: e.study, event: { type: 'study', study: await studyShape(this.store, e.study) } }));
      return;
    }
    this.publishEvent(async () => {
      const study = await this.store.getStudy(e.trial.studyId);
      return study && { study, event: { type: 'trial', trial: await trialShape(this.store, study.name, e.trial) } };
    });
  }

  /** Events are shaped (store reads) and published one after another, so watchers see them in the order they happened. */
  private publishEvent(shape: () => Promise<{ study: StudyRef; event: BusEvent } | undefined>): void {
    this.published = this.published.then(async () => {
      const shaped = await shape();
      if (shaped) await this.events.publish({ id: shaped.study.id, name: shaped.study.name }, shaped.event);
    }).catch((err: Error) => this.options.onError?.(err));
  }

  /**
   * New work for the scheduler. A replica that does not lead does not schedule: it publishes
   * the study, and the leader, hearing of it, does.
   */
  private wake(study: StudyRecord): void {
    this.scheduler.wake(study.id);
    if (!this.scheduler.leads()) this.publishEvent(async () => ({ study, event: { type: 'study', study: await studyShape(this.store, study) } }));
  }

  /** The studies' current state (each one's trials that are active or changed in the last minute, then the study) to every watcher. */
  private async republish(studies: readonly StudyRecord[]): Promise<void> {
    const since = new Date(Date.now() - 60_000).toISOString();
    for (const study of studies) {
      for (const trial of await this.store.listTrials(study.id)) {
        const changed = [trial.createdAt, trial.startedAt, trial.completedAt].some((t) => t !== undefined && t >= since);
        if (isActiveTrialState(trial.state) || changed) this.publish({ type: 'trial', trial });
      }
      this.publish({ type: 'study', study });
    }
    await this.published;
  }

  private async study(name: unknown, field = 'name'): Promise<StudyRecord> {
    const n = readName(name, field);
    const study = await this.store.getStudyByName(n);
    if (!study) throw notFound(`study "${excerpt(n)}"`, field);
    return study;
  }

  private async trial(name: unknown, field = 'name'): Promise<{ study: StudyRecord; trial: TrialRecord }> {
    const n = readName(name, field);
    const trial = await this.store.getTrialByName(n);
    if (!trial) throw notFound(`trial "${excerpt(n)}"`, field);
    return { study: (await this.store.getStudy(trial.studyId))!, trial };
  }

  private requireActive(trial: TrialRecord): void {
    if (!isActiveTrialState(trial.state)) throw precondition(`trial "${trial.name}" has already ended (${trial.state})`, 'trial');
  }

  private requireAskTell(study: StudyRecord, field: string, trial?: TrialRecord): void {
    if (study.runtime === 'external') return;
    throw precondition(trial
      ? `trial "${trial.name}" runs on the ${study.runtime} runtime; its outcome comes from the runtime`
      : `study "${study.name}" runs its trials on the ${study.runtime} runtime; only external (ask/tell) studies hand out trials`, field);
  }

  /**
   * Reads a report's observations and stores them, after the trial's earlier reports: a step
   * left out is the next after those stored, so two reports sent at once never share one.
   */
  private recordObservations(study: StudyRecord, trial: TrialRecord, list: readonly unknown[], field: string): Promise<ObservationInput[]> {
    const run = (this.reports.get(trial.id) ?? Promise.resolve()).then(async () => {
      const rows = await this.readObservations(study, trial, list, field);
      await this.write(() => this.store.addObservations([{ trialId: trial.id, observations: rows }]), trial);
      return rows;
    });
    const tail = run.then(() => {}, () => {});
    this.reports.set(trial.id, tail);
    void tail.then(() => {
      if (this.reports.get(trial.id) === tail) this.reports.delete(trial.id);
    });
    return run;
  }

  /** A store write that lost a race with the trial's end is the same refusal as a check before it. */
  private async write(fn: () => Promise<void>, trial: TrialRecord): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof StateConflictError) throw precondition(`trial "${trial.name}" has ended; it takes no more observations`, 'trial');
      throw err;
    }
  }

  /**
   * The study exists with this very spec: the create is a replay (a client retrying after a lost
   * answer) and gets the study back without its launch being checked again, so its answer is the
   * first call's whatever the cluster says now (the study and its trials exist anyway).
   */
  private async isReplay(spec: StudySpec, runtime: RuntimeKind): Promise<boolean> {
    const existing = await this.store.getStudyByName(spec.name);
    return existing !== undefined && sameStudy(existing, spec, runtime);
  }

  private async launchCheck(spec: StudySpec, baseDir: string): Promise<void> {
    if (this.options.launchCheck) await this.options.launchCheck(spec, baseDir);
    else if (this.options.launchRuntime === 'local') await checkLocalCommand(spec, baseDir);
  }

  private readRuntime(runtime: unknown): RuntimeKind {
    if (runtime === undefined || runtime === null || runtime === '') return this.options.defaultRuntime;
    if (typeof runtime !== 'string' || !(RUNTIME_KINDS as readonly string[]).includes(runtime)) {
      throw invalid('runtime', `must be one of ${RUNTIME_KINDS.join(', ')} (got ${shown(runtime)})`);
    }
    return runtime as RuntimeKind;
  }

  private async readSpec(req: CreateStudyRequest): Promise<StudySpec> {
    const hasDoc = req.spec !== undefined && req.spec !== null;
    const hasText = req.specText !== undefined && req.specText !== null && req.specText !== '';
    if (hasDoc === hasText) throw invalid('spec', 'give exactly one of spec (a Katib Experiment) or specText (its YAML or JSON text)');
    if (hasText && typeof req.specText !== 'string') throw invalid('specText', `must be a string (got ${shown(req.specText)})`);
    const doc = this.specCheck(() => (hasText ? readStudyDocument(req.specText as string) : req.spec), req);
    const configMapTemplate = await this.readConfigMapTemplate(doc, req);
    return this.specCheck(() => parseStudyDocument(doc, configMapTemplate === undefined ? {} : { configMapTemplate }), req);
  }

  /** The template a study's `trialTemplate.configMap` names, read before the template checks run. */
  private async readConfigMapTemplate(doc: unknown, req: CreateStudyRequest): Promise<ConfigMapTemplate | undefined> {
    try {
      return await resolveConfigMapTemplate(doc, this.options.trialTemplates);
    } catch (err) {
      if (err instanceof TemplateSourceError) throw new ServiceError('UNAVAILABLE', err.message, `${this.specField(req)}.spec.trialTemplate.configMap`);
      throw asServiceError(err, this.specField(req));
    }
  }

  private specField(req: CreateStudyRequest): string {
    return typeof req.specText === 'string' && req.specText !== '' ? 'specText' : 'spec';
  }

  private specCheck<T>(fn: () => T, req: CreateStudyRequest): T {
    try {
      return fn();
    } catch (err) {
      throw asServiceError(err, this.specField(req));
    }
  }

  private async specCheckAsync(fn: () => Promise<void>, req: CreateStudyRequest): Promise<void> {
    try {
      await fn();
    } catch (err) {
      throw asServiceError(err, this.specField(req));
    }
  }

  private async readObservations(study: StudyRecord, trial: TrialRecord, list: readonly unknown[], field: string): Promise<ObservationInput[]> {
    const metrics = metricNamesOf(study.spec.objective);
    const nextStep = new Map<string, number>();
    const now = new Date().toISOString();
    const rows: ObservationInput[] = [];
    for (const [i, item] of list.entries()) {
      const at = `${field}[${i}]`;
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw invalid(at, 'must be an object');
      const o = item as ObservationRequest;
      if (typeof o.metric !== 'string' || !metrics.includes(o.metric)) {
        throw invalid(`${at}.metric`, `must be one of the study's metrics (${metrics.join(', ')}) (got ${shown(o.metric)})`);
      }
      const value = readFinite(o.value, `${at}.value`);
      const step = readOptionalInteger(o.step, `${at}.step`, 0, LIMITS.maxStep)
        ?? (nextStep.get(o.metric) ?? await this.store.maxStep(trial.id, o.metric)) + 1;
      nextStep.set(o.metric, Math.max(step, nextStep.get(o.metric) ?? 0));
      rows.push({ metric: o.metric, value, step, time: readTime(o.time, `${at}.time`, now) });
    }
    return rows;
  }
}

/** An existing study is the one asked for: the same spec, on the same runtime. */
function sameStudy(existing: StudyRecord, spec: StudySpec, runtime: RuntimeKind): boolean {
  return existing.specJson === JSON.stringify(spec) && existing.runtime === runtime;
}

export type { PageRequest } from './requests.js';
