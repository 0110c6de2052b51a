// The reconcile loop. For each study it owns, a pass decides whether the study ends, asks the
// algorithm for new assignments (in the worker pool, off the event loop), records them
// (write-ahead) and launches them. Passes of one study are serialised and triggered by events
// (a trial started or finished), so the loop never polls. This is the only code that launches
// or stops trials, and with the service layer the only code that writes states.
import { readObjectiveValues } from './objective-values.js';
import { setTimeout as sleep, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AlgorithmError, AlgorithmPool, type AlgorithmRunner } from '../algorithms/pool.js';
import type { SuggestResult, TrialView } from '../../suggestion-algorithms/model.js';
import { isActiveTrialState, isTerminalStudyState, type TrialState } from '../model/trial.js';
import type { StudyEndReason, TrialTransition } from '../model/transitions.js';
import { feasibilityOf, type Feasibility } from '../model/constraints.js';
import type { StudySpec } from '../spec/types.js';
import { checkpointOf } from '../runtimes/checkpoint.js';
import type { LaunchRequest, RuntimeListener, TrialOutcome, TrialRuntime } from '../runtimes/types.js';
import { algorithmInput } from '../spec/algorithm.js';
import { StateConflictError, type ObservationInput, type StudyRecord, type Store, type TrialChange, type TrialRecord } from '../store/store.js';
import { TrialMetricsCollector } from './collector.js';
import { EarlyStopper } from './early-stopping.js';
import { TrialHistory } from './history.js';
import { ObservationBatcher } from './observations.js';
import { activeCount, completedCount, decideEnd, trialsToRequest } from './policy.js';

export type SchedulerEvent =
  | { readonly type: 'trial'; readonly trial: TrialRecord }
  | { readonly type: 'study'; readonly study: StudyRecord };

export interface RetryPolicy {
  /** Calls per suggestion before the study ends AlgorithmFailed (default 3). */
  readonly attempts: number;
  /** Wait before the second call, doubled for each further one (default 1 s). */
  readonly backoffMs: number;
}

export interface SchedulerOptions {
  readonly store: Store;
  /** Builds the runtime, wired to the scheduler's listener. */
  readonly runtime: (listener: RuntimeListener) => TrialRuntime;
  /** Where algorithms run (default: a worker pool of this scheduler's own). */
  readonly algorithms?: AlgorithmRunner;
  readonly retry?: Partial<RetryPolicy>;
  readonly onEvent?: (event: SchedulerEvent) => void;
  /** Where errors that no caller awaits end up (a failed launch, a store conflict). */
  readonly onError?: (error: Error) => void;
  /**
   * Whether this process schedules now (default: always). Of several replicas only the leader
   * reconciles; the others serve ask/tell and the API's writes, and the leader hears of them
   * (remoteChange).
   */
  readonly leads?: () => boolean;
}

/** Trials asked of the algorithm per call; a pass asks again for the rest (a large parallelTrialCount). */
const PROPOSAL_BATCH = 100;
/** How often silent ask/tell clients are looked for: a deadline is kept within this much. */
const HEARTBEAT_CHECK_MS = 1000;

interface StudyLoop {
  running: boolean;
  dirty: boolean;
  idle: Promise<void>;
}

type Proposal = { readonly ok: true; readonly result: SuggestResult } | { readonly ok: false; readonly message: string };

export class Scheduler {
  private readonly store: Store;
  readonly runtime: TrialRuntime;
  readonly algorithms: AlgorithmRunner;
  private readonly ownsAlgorithms: boolean;
  private readonly retry: RetryPolicy;
  private readonly loops = new Map<number, StudyLoop>();
  /** Per study: the tail of its chain of serialised work (passes and ask/tell suggestions). */
  private readonly chains = new Map<number, Promise<unknown>>();
  private readonly collectors = new Map<string, TrialMetricsCollector>();
  private readonly observations: ObservationBatcher;
  private readonly history: TrialHistory;
  /** Per warm-started study: its prior observations (they never change). */
  private readonly priors = new Map<number, readonly TrialView[]>();
  private readonly stopper: EarlyStopper;
  private readonly launching = new Set<string>();
  /** Running trials of studies with an early-stopping policy, whose printed reports are judged. */
  private readonly judgedTrials = new Set<number>();
  /** Trials whose outcome is being recorded: their last reports are not judged any more. */
  private readonly finishing = new Set<string>();
  private readonly endWaiters = new Map<number, ((s: StudyRecord) => void)[]>();
  /** Per trial: the tail of its runtime events (started, finished), recorded in the order they came. */
  private readonly trialEvents = new Map<string, Promise<void>>();
  /**
   * While `adopt` prepares re-adopted trials (store reads, their collectors), what the runtime
   * already reports of them waits: output here, started/finished behind `adoption`.
   */
  private heldOutput: Map<string, ((collector: TrialMetricsCollector) => void)[]> | undefined;
  private adoption: Promise<void> = Promise.resolve();
  /** Aborts algorithm calls in flight when the scheduler closes. */
  private readonly closed = new AbortController();
  private closing = false;
  private readonly heartbeats = setInterval(() => this.expireSilentClients(), HEARTBEAT_CHECK_MS).unref();
  readonly leads: () => boolean;

  constructor(private readonly options: SchedulerOptions) {
    this.store = options.store;
    this.leads = options.leads ?? (() => true);
    this.algorithms = options.algorithms ?? new AlgorithmPool();
    this.ownsAlgorithms = options.algorithms === undefined;
    this.retry = { attempts: options.retry?.attempts ?? 3, backoffMs: options.retry?.backoffMs ?? 1000 };
    this.observations = new ObservationBatcher(this.store, (e) => this.options.onError?.(e), (trialId, rows) => this.observedId(trialId, rows));
    this.history = new TrialHistory(this.store);
    this.stopper = new EarlyStopper(this.store);
    // Runtime callbacks come from child-process and stream events: an error there must be
    // reported, never thrown into the event loop.
    const guarded = <A extends unknown[]>(fn: (...args: A) => void) => (...args: A) => {
      try {
        fn(...args);
      } catch (err) {
        this.options.onError?.(err as Error);
      }
    };
    this.runtime = options.runtime({
      started: (name: string, ref: string) => this.inTrialOrder(name, () => this.onStarted(name, ref)),
      output: guarded((name: string, line: string) => this.toCollector(name, (c) => c.onLine(line))),
      metricsData: guarded((name: string, file: string, chunk: Buffer) => this.toCollector(name, (c) => c.onFileData(file, chunk))),
      metricsProblem: guarded((name: string, problem: string) => this.toCollector(name, (c) => c.onFileProblem(problem))),
      finished: (name: string, outcome: TrialOutcome) => this.inTrialOrder(name, () => this.onFinished(name, outcome)),
    });
  }

  /**
   * Takes charge of studies after a (re)start: lets the runtime re-adopt or clean up what a
   * previous process left running, puts trials that were not re-adopted back to CREATED with
   * the same assignment, and starts reconciling.
   */
  async adopt(studyIds: readonly number[]): Promise<void> {
    // Ask/tell trials live with their clients, not in a runtime: they survive a restart as is,
    // and their clients' deadlines start afresh (they could not beat while the server was down).
    const studies = new Map<number, StudyRecord>();
    for (const id of studyIds) {
      const study = await this.store.getStudy(id);
      if (study) studies.set(id, study);
    }
    const activeOf = async (ids: number[]) => (await Promise.all(ids.map((id) => this.store.activeTrials(id)))).flat();
    const external = [...studies.values()].filter((s) => s.runtime === 'external').map((s) => s.id);
    await this.store.beat((await activeOf(external)).map((t) => t.id));
    const active = await activeOf([...studies.keys()].filter((id) => !external.includes(id)));
    let adopting!: () => void;
    this.adoption = new Promise((resolve) => (adopting = resolve));
    this.heldOutput = new Map();
    try {
      await this.adoptTrials(studies, active);
    } finally {
      // What re-adopted trials printed meanwhile reaches their new collectors, in order.
      const held = this.heldOutput;
      this.heldOutput = undefined;
      for (const [name, calls] of held) for (const call of calls) this.toCollector(name, call);
      adopting();
    }
    for (const id of studyIds) this.wake(id);
  }

  private async adoptTrials(studies: ReadonlyMap<number, StudyRecord>, active: readonly TrialRecord[]): Promise<void> {
    const adopted = await this.runtime.recover(active.map((t) => this.launchRequest(studies.get(t.studyId)!, t)));
    for (const trial of active) {
      const study = studies.get(trial.studyId)!;
      if (trial.earlyStop) {
        // Its policy's decision was taken before the restart: carried out, never revisited.
        if (adopted.has(trial.name)) await this.runtime.stop(trial.name, 'EarlyStopped');
        else await this.finishEarlyStopped(trial);
        continue;
      }
      if (isTerminalStudyState(study.state)) {
        if (adopted.has(trial.name)) await this.runtime.stop(trial.name, 'StudyEnded');
        else await this.finishTrial(trial, 'kill', { reason: 'StudyEnded', message: 'the study ended while this trial was active' });
        continue;
      }
      // Its output is read again from the start (re-adopted) or it runs again (requeued): the
      // steps it had reached were judged already.
      this.stopper.restart(trial, await this.store.maxStep(trial.id, study.spec.objective.objectiveMetricName));
      if (adopted.has(trial.name)) {
        // A re-adopted trial's output is read again from its start: drop what was recorded.
        await this.store.clearObservations(trial.id);
        this.collectors.set(trial.name, this.collectorFor(study, trial));
      } else if (trial.state === 'RUNNING') {
        this.history.update(await this.store.transitionTrial(trial.id, 'requeue'));
      }
    }
  }

  /** Hands a runtime report to the trial's collector, or holds it while `adopt` prepares the trial. */
  private toCollector(trialName: string, call: (collector: TrialMetricsCollector) => void): void {
    const collector = this.collectors.get(trialName);
    if (collector) return call(collector);
    if (!this.heldOutput) return;
    const held = this.heldOutput.get(trialName);
    if (held) held.push(call);
    else this.heldOutput.set(trialName, [call]);
  }

  /** Resolves when the study reaches a terminal state. */
  waitForEnd(studyId: number): Promise<StudyRecord> {
    return new Promise((resolve, reject) => {
      // Registered before the check, so an end that lands while the store is read is not missed.
      this.endWaiters.set(studyId, [...(this.endWaiters.get(studyId) ?? []), resolve]);
      this.resolveIfEnded(studyId).catch(reject);
    });
  }

  private async resolveIfEnded(studyId: number): Promise<void> {
    const study = await this.store.getStudy(studyId);
    if (!study || !isTerminalStudyState(study.state) || (await this.store.activeTrials(studyId)).length > 0) return;
    const waiters = this.endWaiters.get(studyId) ?? [];
    this.endWaiters.delete(studyId);
    for (const resolve of waiters) resolve(study);
  }

  /** Ends a study by a user's request; its active trials are stopped. */
  async stopStudy(studyId: number, message = 'stopped by the user'): Promise<void> {
    await this.endStudy(studyId, 'stop', 'StoppedByUser', message);
    this.wake(studyId);
    await this.loops.get(studyId)?.idle;
  }

  /** Asks for a reconcile pass; passes of one study never overlap. */
  wake(studyId: number): void {
    if (this.closing || !this.leads()) return;
    let loop = this.loops.get(studyId);
    if (!loop) this.loops.set(studyId, (loop = { running: false, dirty: false, idle: Promise.resolve() }));
    loop.dirty = true;
    if (loop.running) return;
    loop.running = true;
    const current = loop;
    current.idle = (async () => {
      try {
        while (current.dirty && !this.closing) {
          current.dirty = false;
          await this.serially(studyId, () => this.reconcile(studyId));
        }
      } catch (err) {
        if (!this.closing) this.options.onError?.(err as Error); // closing aborts algorithm calls in flight
      } finally {
        current.running = false;
      }
    })();
  }

  /**
   * Another replica changed the study (the event bus heard it): what is cached of it is stale,
   * the leader reconciles it, a trial ended there that runs here is stopped, and whoever waits
   * here for its end looks again.
   */
  remoteChange(studyId: number, trial?: { readonly name: string; readonly state: TrialState }): void {
    this.history.forget(studyId);
    this.stopper.forget(studyId);
    if (trial && !isActiveTrialState(trial.state) && this.collectors.has(trial.name)) {
      this.runtime.stop(trial.name, 'StoppedByUser').catch((err: Error) => this.options.onError?.(err));
    }
    this.wake(studyId);
    if (this.endWaiters.has(studyId)) this.resolveIfEnded(studyId).catch((err: Error) => this.options.onError?.(err));
  }

  /** A deleted study: nothing of it is kept (its id may be given to a new study). */
  forget(studyId: number): void {
    this.priors.delete(studyId);
    this.history.forget(studyId);
    this.stopper.forget(studyId);
    this.loops.delete(studyId);
  }

  /** Stops every trial (they are relaunched by the next adopt) and waits for the loops. */
  async close(reason = 'SchedulerShutdown'): Promise<void> {
    this.closing = true;
    clearInterval(this.heartbeats);
    this.closed.abort(new Error('the scheduler is closing'));
    await Promise.all([...this.loops.values()].map((l) => l.idle));
    await this.runtime.shutdown(reason);
    await Promise.all(this.trialEvents.values());
    await this.observations.flush();
    if (this.ownsAlgorithms) await this.algorithms.close();
  }

  /** Records a trial's runtime events one after another, in the order they came; errors are reported. */
  private inTrialOrder(trialName: string, fn: () => Promise<void>): void {
    const run = (this.trialEvents.get(trialName) ?? this.adoption).then(fn).catch((err: Error) => this.options.onError?.(err));
    this.trialEvents.set(trialName, run);
    void run.then(() => {
      if (this.trialEvents.get(trialName) === run) this.trialEvents.delete(trialName);
    });
  }

  /** Runs `fn` after every earlier piece of work of the same study. */
  private serially<T>(studyId: number, fn: () => Promise<T>): Promise<T> {
    const run = (this.chains.get(studyId) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => {});
    this.chains.set(studyId, tail);
    void tail.then(() => {
      if (this.chains.get(studyId) === tail) this.chains.delete(studyId);
    });
    return run;
  }

  private async reconcile(studyId: number): Promise<void> {
    let study = await this.store.getStudy(studyId);
    if (!study) return;
    if (study.state === 'CREATED') study = await this.startStudy(studyId);
    if (!study) return;
    if (isTerminalStudyState(study.state)) return this.drain(study);
    const spec = study.spec;
    const best = async () => (await this.store.bestTrial(studyId, spec.objective.type))?.objectiveValue;
    let counts = await this.store.trialCounts(studyId);
    const end = decideEnd(spec, counts, await best(), false);
    if (end) return this.endAndDrain(studyId, end.state === 'SUCCEEDED' ? 'succeed' : 'fail', end.reason, end.message);

    // Ask/tell studies get trials only when a client asks (suggestForClient).
    if (study.runtime === 'external') return;
    const wanted = trialsToRequest(spec, counts);
    if (wanted > 0) {
      const batch = Math.min(wanted, PROPOSAL_BATCH);
      // Enqueued assignments first, in order: each leaves the queue in the transaction that writes its trial.
      const queued = await this.store.takeEnqueued(studyId, batch);
      queued.forEach((t) => this.emitTrial(t));
      const asked = batch - queued.length;
      if (asked > 0) {
        const proposal = await this.propose(study, asked);
        if (this.closing) return;
        if (!proposal.ok) return this.endAndDrain(studyId, 'fail', 'AlgorithmFailed', proposal.message);
        // Recorded only while the study still runs (it may have been stopped meanwhile).
        const created = await this.store.addTrials(studyId, proposal.result.assignments.slice(0, asked), proposal.result.state, proposal.result.labels);
        created.forEach((t) => this.emitTrial(t));
        counts = await this.store.trialCounts(studyId);
        const exhausted = proposal.result.exhausted && created.length === 0 && queued.length === 0 ? decideEnd(spec, counts, await best(), true) : undefined;
        if (exhausted) return this.endAndDrain(studyId, 'succeed', exhausted.reason, exhausted.message);
        if (created.length === asked && wanted > batch) this.wake(studyId); // the rest in the next pass
      } else if (wanted > batch) {
        this.wake(studyId);
      }
    }
    for (const trial of await this.store.activeTrials(studyId)) {
      if (trial.state !== 'CREATED' || this.closing) continue;
      await this.launch(study, trial);
      await yieldToEventLoop(); // a thousand launches must not starve requests
    }
  }

  /**
   * The algorithm's proposal, retried with backoff when it throws or times out. After the last
   * attempt the failure is returned, for the study to end AlgorithmFailed.
   */
  private async propose(study: StudyRecord, count: number): Promise<Proposal> {
    const priorTrials = await this.priorsOf(study);
    const request = {
      ...algorithmInput(study.spec),
      trials: { json: await this.history.json(study.id) },
      ...(priorTrials.length > 0 ? { priorTrials } : {}),
      count,
      seed: study.seed,
      ...(study.algorithmState ? { state: study.algorithmState } : {}),
    };
    let message = '';
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      try {
        return { ok: true, result: await this.algorithms.suggest(study.spec.algorithm.algorithmName, request, this.closed.signal) };
      } catch (err) {
        if (!(err instanceof AlgorithmError)) throw err; // closing, or a bug of ours
        message = err.message;
        this.options.onError?.(new Error(`study ${study.name}: ${message} (attempt ${attempt} of ${this.retry.attempts})`));
        if (attempt < this.retry.attempts) await sleep(this.retry.backoffMs * 2 ** (attempt - 1), undefined, { signal: this.closed.signal });
      }
    }
    return { ok: false, message: `${message} (after ${this.retry.attempts} attempts)` };
  }

  /** A warm-started study's prior observations: written with the study, never changed, so read once. */
  private async priorsOf(study: StudyRecord): Promise<readonly TrialView[]> {
    if (!study.spec.warmStart) return [];
    let priors = this.priors.get(study.id);
    if (!priors) this.priors.set(study.id, (priors = await this.store.priorTrials(study.id)));
    return priors;
  }

  /**
   * Ask/tell (Vizier's semantics): a client that asks again gets its own still-active trials
   * first, then new ones up to `count`, within the study's trial budget. New trials are
   * recorded as RUNNING for that client in the same transaction that creates them, and calls
   * for one study run one at a time, so two clients can never be handed the same trial.
   */
  suggestForClient(studyId: number, count: number, clientId: string): Promise<TrialRecord[]> {
    // Serial in this process, and exclusive across replicas on one database.
    return this.serially(studyId, () => this.store.exclusive(studyId, async () => {
      // Another replica may have handed out trials since: the algorithm sees the store as it is now.
      if (this.store.shared) {
        this.history.forget(studyId);
        this.stopper.forget(studyId);
      }
      let study = await this.store.getStudy(studyId);
      if (study?.state === 'CREATED') study = await this.startStudy(studyId);
      if (!study || isTerminalStudyState(study.state)) return [];
      const ref = clientRef(clientId);
      const own = await this.store.trialsOfRuntimeRef(studyId, ref);
      await this.store.beat(own.map((t) => t.id)); // asking again is a sign of life
      if (own.length >= count) return own.slice(0, count);
      // Assignments offered again (their client went silent) come before new ones; they are in the budget already.
      const claimed = await this.store.claimQueued(studyId, ref, count - own.length);
      claimed.forEach((t) => this.emitTrial(t));
      const counts = await this.store.trialCounts(studyId);
      const room = study.spec.maxTrialCount === undefined ? Infinity : study.spec.maxTrialCount - completedCount(counts) - activeCount(counts);
      const wanted = Math.max(0, Math.min(count - own.length - claimed.length, room));
      if (wanted === 0) return [...own, ...claimed];
      // Then enqueued assignments, in order, before anything the algorithm proposes.
      const queued = await this.store.takeEnqueued(studyId, wanted, ref);
      queued.forEach((t) => this.emitTrial(t));
      const asked = wanted - queued.length;
      if (asked === 0) return [...own, ...claimed, ...queued];
      const proposal = await this.propose(study, asked);
      if (!proposal.ok) {
        await this.endAndDrain(studyId, 'fail', 'AlgorithmFailed', proposal.message);
        return [];
      }
      const created = await this.store.addClientTrials(studyId, proposal.result.assignments.slice(0, asked), ref, proposal.result.state, proposal.result.labels);
      created.forEach((t) => this.emitTrial(t));
      if (proposal.result.exhausted && created.length === 0 && queued.length === 0) await this.endIfExhausted(studyId);
      return [...own, ...claimed, ...queued, ...created];
    }));
  }

  /** Ask/tell: a client's outcome for its trial. */
  async completeExternalTrial(trialName: string, outcome: TrialOutcome): Promise<TrialRecord> {
    await this.onFinished(trialName, outcome);
    return (await this.store.getTrialByName(trialName))!;
  }

  /** Stops one trial: a local process is signalled, an ask/tell trial ends at once. */
  async stopTrial(trialName: string, reason: 'StoppedByUser' = 'StoppedByUser'): Promise<void> {
    const trial = await this.store.getTrialByName(trialName);
    if (!trial || !isActiveTrialState(trial.state)) return;
    const study = (await this.store.getStudy(trial.studyId))!;
    // A replica that does not lead runs no trial: it records the stop, and the leader, hearing of it, ends the process.
    if (study.runtime === 'external' || trial.state === 'CREATED' || !this.leads()) {
      await this.finishTrial(trial, 'kill', { reason, message: 'stopped by the user' });
      this.wake(trial.studyId);
      return;
    }
    await this.runtime.stop(trialName, reason);
  }

  /**
   * Ask/tell with a heartbeat deadline: a trial whose client has neither reported nor beaten
   * within it fails (HeartbeatExpired) and its assignment is queued for the next client that
   * asks, in one transaction (Optuna's heartbeat with its retry callback).
   */
  private expireSilentClients(): void {
    for (const studyId of this.loops.keys()) {
      void this.serially(studyId, () => this.store.exclusive(studyId, async () => {
        const study = await this.store.getStudy(studyId);
        if (!study?.heartbeatSeconds || study.runtime !== 'external' || study.state !== 'RUNNING') return;
        const seconds = study.heartbeatSeconds;
        const before = new Date(Date.now() - seconds * 1000).toISOString();
        const silent = await this.store.silentTrials(studyId, before);
        for (const trial of silent) {
          if (trial.earlyStop) {
            await this.finishEarlyStopped(trial); // stopped by its policy: the silence is the client obeying
            continue;
          }
          const client = trial.runtimeRef?.slice('client:'.length) ?? '';
          try {
            const { expired, retry } = await this.store.expireTrial(trial.id, `client ${JSON.stringify(client)} neither reported nor beat for ${seconds} s`);
            this.emitTrial(expired);
            if (retry) this.emitTrial(retry);
          } catch (err) {
            if (!(err instanceof StateConflictError)) throw err; // it reported or ended meanwhile
          }
        }
        if (silent.length > 0) this.wake(studyId);
      })).catch((err: Error) => this.options.onError?.(err));
    }
  }

  /** Ends a study whose space is used up, if nothing is active any more. */
  private async endIfExhausted(studyId: number): Promise<void> {
    const study = (await this.store.getStudy(studyId))!;
    const counts = await this.store.trialCounts(studyId);
    const best = (await this.store.bestTrial(studyId, study.spec.objective.type))?.objectiveValue;
    const end = decideEnd(study.spec, counts, best, true);
    if (end) await this.endAndDrain(studyId, end.state === 'SUCCEEDED' ? 'succeed' : 'fail', end.reason, end.message);
  }

  private collectorFor(study: StudyRecord, trial: TrialRecord): TrialMetricsCollector {
    if (study.spec.earlyStopping) this.judgedTrials.add(trial.id);
    return new TrialMetricsCollector(
      study.spec,
      (rows) => this.observations.add(trial.id, rows),
      (problem) => this.options.onError?.(new Error(`trial ${trial.name}: ${problem}`)),
    );
  }

  private async launch(study: StudyRecord, trial: TrialRecord): Promise<void> {
    if (this.launching.has(trial.name)) return;
    this.launching.add(trial.name);
    this.collectors.set(trial.name, this.collectorFor(study, trial));
    try {
      await this.runtime.launch(this.launchRequest(study, trial));
    } catch (err) {
      await this.finishTrial(trial, 'fail', { reason: 'LaunchFailed', message: (err as Error).message });
    } finally {
      this.launching.delete(trial.name);
    }
  }

  private launchRequest(study: StudyRecord, trial: TrialRecord): LaunchRequest {
    return {
      trialName: trial.name,
      studyName: study.name,
      namespace: study.spec.namespace,
      assignment: trial.assignment,
      template: study.spec.trialTemplate,
      baseDir: study.baseDir,
      metricsCollector: study.spec.metricsCollector,
      ...checkpointOf(study.spec, trial),
    };
  }

  private async onStarted(trialName: string, runtimeRef: string): Promise<void> {
    const trial = await this.store.getTrialByName(trialName);
    if (!trial || !isActiveTrialState(trial.state)) return;
    try {
      this.emitTrial(await this.store.transitionTrial(trial.id, 'start', { runtimeRef }));
    } catch (err) {
      if (!(err instanceof StateConflictError)) throw err; // it ended meanwhile (stopped while starting)
    }
  }

  private async onFinished(trialName: string, outcome: TrialOutcome): Promise<void> {
    const collector = this.collectors.get(trialName);
    collector?.finish(); // the files are complete: what is cut short is reported now
    const problems = collector?.problems.length ? `; metrics: ${collector.problems.join('; ')}` : '';
    this.collectors.delete(trialName);
    this.finishing.add(trialName);
    try {
      await this.observations.flush(); // the outcome is judged on every value the trial printed
    } finally {
      this.finishing.delete(trialName);
    }
    const trial = await this.store.getTrialByName(trialName);
    if (!trial || !isActiveTrialState(trial.state)) return;
    if (trial.earlyStop) {
      // However it ended after its policy's decision (signalled, or done before the signal came).
      await this.finishEarlyStopped(trial);
    } else if (outcome.kind === 'stopped') {
      // A shutdown of the runner is not the trial's end: it is relaunched on the next start.
      if (!this.closing) await this.finishTrial(trial, 'kill', { reason: outcome.reason === 'StoppedByUser' ? 'StoppedByUser' : 'StudyEnded', message: 'stopped by Sibyl' });
    } else if (outcome.kind === 'failed') {
      await this.finishTrial(trial, 'fail', { reason: outcome.reason, message: `${outcome.message}${problems}` });
    } else {
      const study = (await this.store.getStudy(trial.studyId))!;
      const { change, missing } = await readObjectiveValues(this.store, study.spec, trial.id);
      if (missing.length > 0) {
        const what = missing.length === 1 ? `the objective metric "${missing[0]}"` : `the objective metrics ${missing.map((m) => `"${m}"`).join(', ')}`;
        await this.finishTrial(trial, 'missMetrics', { reason: 'MetricsUnavailable', message: `the trial succeeded but never reported ${what}${problems}` });
      } else {
        const feasibility = await this.feasibility(study.spec, trial.id);
        await this.finishTrial(trial, 'succeed', { reason: 'TrialSucceeded', ...change, ...feasibility, ...(problems ? { message: problems.slice(2) } : {}) });
      }
    }
    this.wake(trial.studyId);
  }

  /**
   * Observations of a trial were written (by the scheduler's batcher, or pushed through the
   * service): its study's policy judges it, and a trial it stops is stopped.
   */
  async observed(trialName: string, rows: readonly ObservationInput[]): Promise<void> {
    const trial = await this.store.getTrialByName(trialName);
    if (trial) await this.judge(trial, rows);
  }

  /** Ask/tell: a report of a trial its policy had stopped ends it EARLY_STOPPED (its observations kept). */
  async endIfEarlyStopped(trialName: string): Promise<TrialRecord | undefined> {
    const trial = await this.store.getTrialByName(trialName);
    if (!trial?.earlyStop || !isActiveTrialState(trial.state)) return undefined;
    await this.finishEarlyStopped(trial);
    this.wake(trial.studyId);
    return this.store.getTrial(trial.id);
  }

  private async observedId(trialId: number, rows: readonly ObservationInput[]): Promise<void> {
    if (!this.judgedTrials.has(trialId)) return; // no policy: no reads on the output path
    const trial = await this.store.getTrial(trialId);
    if (trial) await this.judge(trial, rows);
  }

  private async judge(trial: TrialRecord, rows: readonly ObservationInput[]): Promise<void> {
    const study = await this.store.getStudy(trial.studyId);
    if (!study || isTerminalStudyState(study.state) || this.finishing.has(trial.name)) return;
    const decision = await this.stopper.observed(study, trial, rows);
    if (decision) await this.stopEarly(study, trial, decision.step, decision.reason);
  }

  /**
   * Katib's metrics collector stopped a trial by its rules (EarlyStopping.SetTrialStatus): it
   * ends EARLY_STOPPED at the last step it reported, as if Sibyl's policy had stopped it.
   * False when no active trial has that name.
   */
  async trialStoppedByRules(trialName: string): Promise<boolean> {
    const trial = await this.store.getTrialByName(trialName);
    const study = trial && await this.store.getStudy(trial.studyId);
    if (!trial || !study || !isActiveTrialState(trial.state)) return false;
    if (!trial.earlyStop) {
      const step = await this.store.maxStep(trial.id, study.spec.objective.objectiveMetricName);
      await this.stopEarly(study, trial, step, "its metrics collector applied the study's early-stopping rules");
    }
    return true;
  }

  /** Records the decision, then stops the trial (ask/tell: its client is told by should-stop). */
  private async stopEarly(study: StudyRecord, trial: TrialRecord, step: number, reason: string): Promise<void> {
    let marked: TrialRecord;
    try {
      marked = await this.store.requestEarlyStop(trial.id, step, reason);
    } catch (err) {
      if (err instanceof StateConflictError) return; // it ended meanwhile
      throw err;
    }
    this.emitTrial(marked);
    // Ask/tell clients learn it from should-stop and their next report; runtimes stop it now.
    if (study.runtime === 'external') return;
    if (marked.state === 'CREATED' && !this.launching.has(marked.name)) {
      await this.finishEarlyStopped(marked);
      this.wake(study.id);
    } else {
      this.runtime.stop(marked.name, 'EarlyStopped').catch((err: Error) => this.options.onError?.(err));
    }
  }

  /** EARLY_STOPPED, with the value its metric strategy picks from what it reported (Katib counts it as completed). */
  private async finishEarlyStopped(trial: TrialRecord): Promise<void> {
    const spec = (await this.store.getStudy(trial.studyId))!.spec;
    const { change } = await readObjectiveValues(this.store, spec, trial.id);
    await this.finishTrial(trial, 'earlyStop', {
      reason: 'EarlyStopped',
      message: `stopped at step ${trial.earlyStop?.step}: ${trial.earlyStop?.message ?? ''}`,
      ...change,
      ...(change.objectiveValue === undefined ? {} : await this.feasibility(spec, trial.id)),
    });
  }

  /**
   * A completing trial's standing against its study's outcome constraints, from each constraint
   * metric's strategy value; written by the same transition that ends the trial. Nothing for a
   * study without constraints.
   */
  private async feasibility(spec: StudySpec, trialId: number): Promise<{ feasibility?: Feasibility }> {
    const constraints = spec.objective.constraints;
    if (!constraints) return {};
    const strategyOf = (m: string) => spec.objective.metricStrategies.find((s) => s.name === m)?.value ?? 'latest';
    const values = new Map<string, number | undefined>();
    for (const c of constraints) values.set(c.metricName, await this.store.strategyValue(trialId, c.metricName, strategyOf(c.metricName)));
    return { feasibility: feasibilityOf(constraints, (m) => values.get(m)) };
  }

  /** Ends an active trial; one that another path ended meanwhile (a stop, a report, another replica) is left as it is. */
  private async finishTrial(trial: TrialRecord, transition: Exclude<TrialTransition, 'start' | 'claim' | 'requeue'>, change: TrialChange): Promise<void> {
    try {
      this.emitTrial(await this.store.transitionTrial(trial.id, transition, change));
    } catch (err) {
      if (!(err instanceof StateConflictError)) throw err;
    }
  }

  /** Starts a CREATED study; undefined when it is gone. One a user ended meanwhile is returned as it is now. */
  private async startStudy(studyId: number): Promise<StudyRecord | undefined> {
    try {
      await this.store.transitionStudy(studyId, 'start');
    } catch (err) {
      if (!(err instanceof StateConflictError)) throw err;
      return this.store.getStudy(studyId);
    }
    return this.emitStudy(studyId);
  }

  private async endStudy(studyId: number, transition: 'succeed' | 'fail' | 'stop', reason: StudyEndReason, message: string): Promise<void> {
    const study = await this.store.getStudy(studyId);
    if (!study || isTerminalStudyState(study.state)) return;
    try {
      await this.store.transitionStudy(studyId, transition, reason, message);
    } catch (err) {
      if (!(err instanceof StateConflictError)) throw err; // it ended by another path meanwhile
      return;
    }
    await this.emitStudy(studyId);
  }

  private async endAndDrain(studyId: number, transition: 'succeed' | 'fail', reason: StudyEndReason, message: string): Promise<void> {
    await this.endStudy(studyId, transition, reason, message);
    const study = await this.store.getStudy(studyId);
    if (study) await this.drain(study);
  }

  /** A terminal study keeps no active trials: stop them, then tell whoever waits. */
  private async drain(study: StudyRecord): Promise<void> {
    const ended = { reason: 'StudyEnded', message: `the study ended (${study.reason})` } as const;
    for (const trial of await this.store.activeTrials(study.id)) {
      if (trial.state === 'CREATED' && !this.launching.has(trial.name)) {
        await this.finishTrial(trial, 'kill', ended);
      } else {
        await this.runtime.stop(trial.name, 'StudyEnded');
        // A trial the runtime did not know (its process died with an earlier runner, or an ask/tell trial).
        const after = await this.store.getTrial(trial.id);
        if (after && isActiveTrialState(after.state) && !this.launching.has(trial.name)) await this.finishTrial(after, 'kill', ended);
      }
    }
    await this.resolveIfEnded(study.id); // while trials are active, their finished events wake us again
  }

  private emitTrial(trial: TrialRecord): void {
    if (!isActiveTrialState(trial.state)) this.judgedTrials.delete(trial.id);
    this.history.update(trial);
    this.stopper.update(trial);
    this.options.onEvent?.({ type: 'trial', trial });
  }

  private async emitStudy(studyId: number): Promise<StudyRecord> {
    const study = (await this.store.getStudy(studyId))!;
    this.options.onEvent?.({ type: 'study', study });
    return study;
  }
}

/** How an ask/tell client is recorded as a trial's runtime reference. */
export const clientRef = (clientId: string): string => `client:${clientId}`;
