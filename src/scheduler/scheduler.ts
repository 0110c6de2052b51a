// The reconcile loop. For each study it owns, a pass decides whether the study ends, asks the
// algorithm for new assignments, records them (write-ahead) and launches them. Passes are
// serialised per study and triggered by events (a trial started or finished), so the loop
// never polls. This is the only code that launches or stops trials.
import { getAlgorithm } from '../../suggestion-algorithms/registry.js';
import { algorithmInput } from '../spec/algorithm.js';
import { isActiveTrialState, isTerminalStudyState, type StudyEndReason } from '../model/trial.js';
import type { LaunchRequest, RuntimeListener, TrialOutcome, TrialRuntime } from '../runtimes/types.js';
import type { StudyRecord, Store, TrialRecord } from '../store/store.js';
import { TrialMetricsCollector } from './collector.js';
import { activeCount, completedCount, decideEnd, trialsToRequest } from './policy.js';

export type SchedulerEvent =
  | { readonly type: 'trial'; readonly trial: TrialRecord }
  | { readonly type: 'study'; readonly study: StudyRecord };

export interface SchedulerOptions {
  readonly store: Store;
  /** Builds the runtime, wired to the scheduler's listener. */
  readonly runtime: (listener: RuntimeListener) => TrialRuntime;
  readonly onEvent?: (event: SchedulerEvent) => void;
  /** Where errors that no caller awaits end up (a failed launch, a store conflict). */
  readonly onError?: (error: Error) => void;
}

interface StudyLoop {
  running: boolean;
  dirty: boolean;
  idle: Promise<void>;
}

export class Scheduler {
  private readonly store: Store;
  readonly runtime: TrialRuntime;
  private readonly loops = new Map<number, StudyLoop>();
  private readonly collectors = new Map<string, TrialMetricsCollector>();
  private readonly launching = new Set<string>();
  private readonly endWaiters = new Map<number, ((s: StudyRecord) => void)[]>();
  private closing = false;

  constructor(private readonly options: SchedulerOptions) {
    this.store = options.store;
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
      started: guarded((name: string, ref: string) => this.onStarted(name, ref)),
      output: guarded((name: string, line: string) => this.collectors.get(name)?.onLine(line)),
      finished: guarded((name: string, outcome: TrialOutcome) => this.onFinished(name, outcome)),
    });
  }

  /**
   * Takes charge of studies after a (re)start: lets the runtime re-adopt or clean up what a
   * previous process left running, puts trials that were not re-adopted back to CREATED with
   * the same assignment, and starts reconciling.
   */
  async adopt(studyIds: readonly number[]): Promise<void> {
    // Ask/tell trials live with their clients, not in a runtime: they survive a restart as is.
    const launched = studyIds.filter((id) => this.store.getStudy(id)?.runtime !== 'external');
    const active = launched.flatMap((id) => this.store.activeTrials(id));
    const adopted = await this.runtime.recover(active.map((t) => this.launchRequest(this.store.getStudy(t.studyId)!, t)));
    for (const trial of active) {
      const study = this.store.getStudy(trial.studyId)!;
      if (isTerminalStudyState(study.state)) {
        if (adopted.has(trial.name)) await this.runtime.stop(trial.name, 'StudyEnded');
        else this.finishTrial(trial, 'KILLED', 'StudyEnded', 'the study ended while this trial was active');
        continue;
      }
      if (adopted.has(trial.name)) {
        // A re-adopted trial's output is read again from its start: drop what was recorded.
        this.store.clearObservations(trial.id);
        this.collectors.set(trial.name, new TrialMetricsCollector(this.store, trial.id, study.spec));
      } else if (trial.state === 'RUNNING') {
        this.store.resetTrialForRelaunch(trial.id);
      }
    }
    for (const id of studyIds) this.wake(id);
  }

  /** Resolves when the study reaches a terminal state. */
  waitForEnd(studyId: number): Promise<StudyRecord> {
    const study = this.store.getStudy(studyId);
    if (study && isTerminalStudyState(study.state) && this.store.activeTrials(studyId).length === 0) return Promise.resolve(study);
    return new Promise((resolve) => this.endWaiters.set(studyId, [...(this.endWaiters.get(studyId) ?? []), resolve]));
  }

  /** Ends a study by a user's request; its active trials are stopped. */
  async stopStudy(studyId: number, message = 'stopped by the user'): Promise<void> {
    this.endStudy(studyId, 'STOPPED', 'StoppedByUser', message);
    this.wake(studyId);
    await this.loops.get(studyId)?.idle;
  }

  /** Asks for a reconcile pass; passes of one study never overlap. */
  wake(studyId: number): void {
    if (this.closing) return;
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
          await this.reconcile(studyId);
        }
      } catch (err) {
        this.options.onError?.(err as Error);
      } finally {
        current.running = false;
      }
    })();
  }

  /** Stops every trial (they are relaunched by the next adopt) and waits for the loops. */
  async close(reason = 'SchedulerShutdown'): Promise<void> {
    this.closing = true;
    await Promise.all([...this.loops.values()].map((l) => l.idle));
    await this.runtime.shutdown(reason);
  }

  private async reconcile(studyId: number): Promise<void> {
    let study = this.store.getStudy(studyId);
    if (!study) return;
    if (isTerminalStudyState(study.state)) return this.drain(study);
    if (study.state === 'CREATED') {
      this.store.transitionStudy(studyId, ['CREATED'], 'RUNNING');
      study = this.emitStudy(studyId);
    }
    const spec = study.spec;
    let counts = this.store.trialCounts(studyId);
    const best = () => this.store.bestTrial(studyId, spec.objective.type)?.objectiveValue;
    const end = decideEnd(spec, counts, best(), false);
    if (end) return this.endAndDrain(studyId, end.state, end.reason, end.message);

    // Ask/tell studies get trials only when a client asks (suggestForClient).
    if (study.runtime === 'external') return;
    const wanted = trialsToRequest(spec, counts);
    if (wanted > 0) {
      const result = this.propose(study, wanted);
      if (!result) return this.endAndDrain(studyId, 'FAILED', 'InvalidSpec', `unknown algorithm "${spec.algorithm.algorithmName}"`);
      const created = this.store.addTrials(studyId, study.name, result.assignments.slice(0, wanted), result.state);
      created.forEach((t) => this.emitTrial(t));
      counts = this.store.trialCounts(studyId);
      const exhaustedEnd = result.exhausted && created.length === 0 ? decideEnd(spec, counts, best(), true) : undefined;
      if (exhaustedEnd) return this.endAndDrain(studyId, exhaustedEnd.state, exhaustedEnd.reason, exhaustedEnd.message);
    }
    for (const trial of this.store.activeTrials(studyId)) {
      if (trial.state === 'CREATED') await this.launch(study, trial);
    }
  }

  private propose(study: StudyRecord, count: number) {
    const algorithm = getAlgorithm(study.spec.algorithm.algorithmName);
    if (!algorithm) return undefined;
    return algorithm.suggest({
      ...algorithmInput(study.spec),
      trials: this.store.listTrials(study.id),
      count,
      seed: study.seed,
      ...(study.algorithmState ? { state: study.algorithmState } : {}),
    });
  }

  /**
   * Ask/tell (Vizier's semantics): a client that asks again gets its own still-active trials
   * first, then new ones up to `count`, within the study's trial budget. New trials are
   * recorded as RUNNING for that client in the same transaction that creates them, so two
   * clients can never be handed the same trial.
   */
  suggestForClient(studyId: number, count: number, clientId: string): TrialRecord[] {
    let study = this.store.getStudy(studyId);
    if (!study || isTerminalStudyState(study.state)) return [];
    if (study.state === 'CREATED') {
      this.store.transitionStudy(studyId, ['CREATED'], 'RUNNING');
      study = this.emitStudy(studyId);
    }
    const ref = clientRef(clientId);
    const own = this.store.trialsOfRuntimeRef(studyId, ref);
    const counts = this.store.trialCounts(studyId);
    const room = study.spec.maxTrialCount === undefined ? Infinity : study.spec.maxTrialCount - completedCount(counts) - activeCount(counts);
    const wanted = Math.max(0, Math.min(count - own.length, room));
    if (wanted === 0) return own.slice(0, Math.max(count, 0));
    const result = this.propose(study, wanted);
    if (!result) return own;
    const created = this.store.addClientTrials(studyId, study.name, result.assignments.slice(0, wanted), ref, result.state);
    created.forEach((t) => this.emitTrial(t));
    if (result.exhausted && created.length === 0) this.wakeExhausted(studyId);
    return [...own, ...created];
  }

  /** Ask/tell: a client's outcome for its trial. */
  completeExternalTrial(trialName: string, outcome: TrialOutcome): TrialRecord {
    this.onFinished(trialName, outcome);
    return this.store.getTrialByName(trialName)!;
  }

  /** Stops one trial: a local process is signalled, an ask/tell trial ends at once. */
  async stopTrial(trialName: string, reason = 'StoppedByUser'): Promise<void> {
    const trial = this.store.getTrialByName(trialName);
    if (!trial || !isActiveTrialState(trial.state)) return;
    const study = this.store.getStudy(trial.studyId)!;
    if (study.runtime === 'external' || trial.state === 'CREATED') {
      this.finishTrial(trial, 'KILLED', reason, 'stopped by the user');
      this.wake(trial.studyId);
      return;
    }
    await this.runtime.stop(trialName, reason);
  }

  /** Whether a study can end because its space is used up: checked in a pass. */
  private wakeExhausted(studyId: number): void {
    const study = this.store.getStudy(studyId)!;
    const counts = this.store.trialCounts(studyId);
    const best = this.store.bestTrial(studyId, study.spec.objective.type)?.objectiveValue;
    const end = decideEnd(study.spec, counts, best, true);
    if (end) void this.endAndDrain(studyId, end.state, end.reason, end.message);
  }

  private async launch(study: StudyRecord, trial: TrialRecord): Promise<void> {
    if (this.launching.has(trial.name)) return;
    this.launching.add(trial.name);
    this.collectors.set(trial.name, new TrialMetricsCollector(this.store, trial.id, study.spec));
    try {
      await this.runtime.launch(this.launchRequest(study, trial));
    } catch (err) {
      this.finishTrial(trial, 'FAILED', 'LaunchFailed', (err as Error).message);
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
    };
  }

  private onStarted(trialName: string, runtimeRef: string): void {
    const trial = this.store.getTrialByName(trialName);
    if (!trial || !isActiveTrialState(trial.state)) return;
    this.store.markTrialRunning(trial.id, runtimeRef);
    this.emitTrial(this.store.getTrial(trial.id)!);
  }

  private onFinished(trialName: string, outcome: TrialOutcome): void {
    this.collectors.delete(trialName);
    const trial = this.store.getTrialByName(trialName);
    if (!trial || !isActiveTrialState(trial.state)) return;
    if (outcome.kind === 'stopped') {
      // A shutdown of the runner is not the trial's end: it is relaunched on the next start.
      if (!this.closing) this.finishTrial(trial, 'KILLED', outcome.reason, 'stopped by Sibyl');
    } else if (outcome.kind === 'failed') {
      this.finishTrial(trial, 'FAILED', outcome.reason, outcome.message);
    } else {
      const study = this.store.getStudy(trial.studyId)!;
      const metric = study.spec.objective.objectiveMetricName;
      const strategy = study.spec.objective.metricStrategies.find((s) => s.name === metric)?.value ?? 'latest';
      const value = this.store.strategyValue(trial.id, metric, strategy);
      if (value === undefined) {
        this.finishTrial(trial, 'METRICS_UNAVAILABLE', 'MetricsUnavailable', `the trial succeeded but never reported the objective metric "${metric}"`);
      } else {
        this.finishTrial(trial, 'SUCCEEDED', 'TrialSucceeded', undefined, value);
      }
    }
    this.wake(trial.studyId);
  }

  private finishTrial(trial: TrialRecord, state: 'SUCCEEDED' | 'FAILED' | 'KILLED' | 'METRICS_UNAVAILABLE', reason: string, message?: string, value?: number): void {
    this.store.completeTrial(trial.id, state, reason, message, value);
    this.emitTrial(this.store.getTrial(trial.id)!);
  }

  private endStudy(studyId: number, state: 'SUCCEEDED' | 'FAILED' | 'STOPPED', reason: StudyEndReason, message: string): void {
    const study = this.store.getStudy(studyId);
    if (!study || isTerminalStudyState(study.state)) return;
    this.store.transitionStudy(studyId, ['CREATED', 'RUNNING'], state, reason, message);
    this.emitStudy(studyId);
  }

  private async endAndDrain(studyId: number, state: 'SUCCEEDED' | 'FAILED', reason: StudyEndReason, message: string): Promise<void> {
    this.endStudy(studyId, state, reason, message);
    await this.drain(this.store.getStudy(studyId)!);
  }

  /** A terminal study keeps no active trials: stop them, then tell whoever waits. */
  private async drain(study: StudyRecord): Promise<void> {
    for (const trial of this.store.activeTrials(study.id)) {
      if (trial.state === 'CREATED' && !this.launching.has(trial.name)) {
        this.finishTrial(trial, 'KILLED', 'StudyEnded', `the study ended (${study.reason})`);
      } else {
        await this.runtime.stop(trial.name, 'StudyEnded');
        // A trial the runtime did not know (its process died with an earlier runner).
        const after = this.store.getTrial(trial.id)!;
        if (isActiveTrialState(after.state) && !this.launching.has(trial.name)) {
          this.finishTrial(after, 'KILLED', 'StudyEnded', `the study ended (${study.reason})`);
        }
      }
    }
    if (this.store.activeTrials(study.id).length > 0) return; // finished events wake us again
    const waiters = this.endWaiters.get(study.id) ?? [];
    this.endWaiters.delete(study.id);
    for (const resolve of waiters) resolve(this.store.getStudy(study.id)!);
  }

  private emitTrial(trial: TrialRecord): void {
    this.options.onEvent?.({ type: 'trial', trial });
  }

  private emitStudy(studyId: number): StudyRecord {
    const study = this.store.getStudy(studyId)!;
    this.options.onEvent?.({ type: 'study', study });
    return study;
  }
}

/** How an ask/tell client is recorded as a trial's runtime reference. */
export const clientRef = (clientId: string): string => `client:${clientId}`;
