// Study and Trial handles: the data as last read from the server, and the ask/tell calls in the
// style Optuna users know: study.ask() → trial; trial.report(), trial.shouldStop(), trial.tell().
import type { StudyEvent, StudyShape, TrialShape } from '../service/shapes.js';
import { LIMITS } from '../model/limits.js';
import { isActiveTrialState, isTerminalStudyState } from '../model/trial.js';
import type { Budget, Observation, ObservationInput, SibylClient, TrialFilter, TrialLog } from './client.js';
import { FailedPreconditionError } from './errors.js';

export type Metrics = Readonly<Record<string, number>>;
/** tell()'s outcome: the final metrics, or infeasible (the trial ends FAILED, reason Infeasible). */
export type Outcome = Metrics | { readonly infeasible: true; readonly reason?: string };

const isInfeasible = (o: Outcome): o is { infeasible: true; reason?: string } => typeof (o as { infeasible?: unknown }).infeasible === 'boolean';
const observation = (metric: string, value: number, step?: number): ObservationInput => ({ metric, value, ...(step !== undefined ? { step } : {}) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Study {
  /** This handle's ask/tell client id: the server hands each id its own unfinished trials back first. */
  readonly clientId: string;

  constructor(readonly client: SibylClient, public data: StudyShape, clientId?: string) {
    this.clientId = clientId ?? `ts-${globalThis.crypto.randomUUID().slice(0, 13)}`;
  }

  get name(): string {
    return this.data.name;
  }

  get state(): StudyShape['state'] {
    return this.data.state;
  }

  get ended(): boolean {
    return isTerminalStudyState(this.data.state);
  }

  async refresh(): Promise<this> {
    this.data = (await this.client.getStudy(this.name)).data;
    return this;
  }

  trials(filter: TrialFilter = {}): Promise<Trial[]> {
    return this.client.allTrials(this.name, filter);
  }

  bestTrial(): Promise<Trial | null> {
    return this.client.bestTrial(this.name);
  }

  async stop(): Promise<this> {
    this.data = (await this.client.stopStudy(this.name)).data;
    return this;
  }

  delete(): Promise<void> {
    return this.client.deleteStudy(this.name);
  }

  async setBudget(budget: Budget): Promise<this> {
    this.data = (await this.client.setBudget(this.name, budget)).data;
    return this;
  }

  watch(options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<StudyEvent, void, undefined> {
    return this.client.watchStudy(this.name, options);
  }

  /**
   * The next trial to run (this handle's unfinished one first); null once the study has ended.
   * While the whole trial budget is in flight elsewhere there is nothing to hand out: with
   * `wait` (the default) it asks again every `pollMs` until there is, or the study ends.
   */
  async ask(options: { readonly wait?: boolean; readonly pollMs?: number } = {}): Promise<Trial | null> {
    const { wait = true, pollMs = 200 } = options;
    for (;;) {
      let trials: Trial[];
      try {
        trials = await this.client.suggest(this.name, this.clientId, 1);
      } catch (err) {
        if (err instanceof FailedPreconditionError && (await this.refresh()).ended) return null;
        throw err;
      }
      if (trials[0]) return trials[0];
      if ((await this.refresh()).ended || !wait) return null;
      await sleep(pollMs);
    }
  }

  /** Completes a trial of this study with its final metrics, or as infeasible. */
  tell(trial: Trial | string, outcome?: Outcome): Promise<Trial> {
    return typeof trial === 'string' ? this.client.getTrial(trial).then((t) => t.tell(outcome)) : trial.tell(outcome);
  }

  /**
   * Asks for a trial and runs `objective` on it, with heartbeats meanwhile when the study has
   * heartbeatSeconds. Metrics it returns are told; if it throws, the trial is told infeasible
   * (the error as the reason) and the error rethrown; if it returns nothing and has not told,
   * the server judges the trial on what it reported. Null once the study has ended.
   */
  async runTrial(objective: (trial: Trial) => Promise<Metrics | void> | Metrics | void): Promise<Trial | null> {
    const trial = await this.ask();
    if (!trial) return null;
    const stopBeating = this.data.heartbeatSeconds ? trial.keepAlive(Math.max(500, (this.data.heartbeatSeconds * 1000) / 3)) : () => {};
    let metrics: Metrics | void;
    try {
      metrics = await objective(trial);
    } catch (err) {
      stopBeating();
      const reason = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, LIMITS.maxReasonLength);
      await trial.tell({ infeasible: true, reason }).catch(() => {}); // the objective's error is the one to see
      throw err;
    }
    stopBeating();
    return trial.told ? trial : trial.tell(metrics ?? undefined);
  }
}

export class Trial {
  private toldOnce = false;

  constructor(readonly client: SibylClient, public data: TrialShape) {}

  get name(): string {
    return this.data.name;
  }

  get state(): TrialShape['state'] {
    return this.data.state;
  }

  /** The assignment: parameter name → value. */
  get assignment(): TrialShape['assignment'] {
    return this.data.assignment;
  }

  /** Outcome constraints: false when the completed trial broke a bound (never best), null when not judged. */
  get feasible(): boolean | null {
    return this.data.feasible;
  }

  get active(): boolean {
    return isActiveTrialState(this.data.state);
  }

  /** Whether tell() has completed this trial through this handle. */
  get told(): boolean {
    return this.toldOnce;
  }

  async refresh(): Promise<this> {
    this.data = (await this.client.getTrial(this.name)).data;
    return this;
  }

  /**
   * An intermediate value: report('accuracy', 0.8, 3), or several metrics of one step:
   * report({ accuracy: 0.8, loss: 0.4 }, 3). The number accepted.
   */
  report(metric: string, value: number, step?: number): Promise<number>;
  report(metrics: Metrics, step?: number): Promise<number>;
  report(metric: string | Metrics, valueOrStep?: number, step?: number): Promise<number> {
    const batch = typeof metric === 'string'
      ? [observation(metric, valueOrStep!, step)]
      : Object.entries(metric).map(([name, value]) => observation(name, value, valueOrStep));
    return this.client.report(this.name, batch);
  }

  shouldStop(): Promise<boolean> {
    return this.client.shouldStop(this.name);
  }

  async heartbeat(): Promise<this> {
    this.data = (await this.client.heartbeat(this.name)).data;
    return this;
  }

  /** Heartbeats every `everyMs` until the returned function is called; a missed beat waits for the next. */
  keepAlive(everyMs: number): () => void {
    const timer = setInterval(() => void this.client.heartbeat(this.name).catch(() => {}), everyMs);
    return () => clearInterval(timer);
  }

  /**
   * Completes the trial: tell({ accuracy: 0.93 }) or tell({ infeasible: true, reason }). With no
   * metrics the server judges it on what it reported; one its policy stopped ends EARLY_STOPPED.
   */
  async tell(outcome?: Outcome): Promise<this> {
    const request = outcome === undefined ? {}
      : isInfeasible(outcome) ? { infeasible: true, ...(outcome.reason ? { reason: outcome.reason } : {}) }
      : { metrics: Object.entries(outcome).map(([name, value]) => observation(name, value)) };
    this.data = (await this.client.complete(this.name, request)).data;
    this.toldOnce = true;
    return this;
  }

  async stop(): Promise<this> {
    this.data = (await this.client.stopTrial(this.name)).data;
    return this;
  }

  observations(): Promise<Observation[]> {
    return this.client.observations(this.name);
  }

  logTail(tail?: number): Promise<TrialLog> {
    return this.client.logTail(this.name, tail);
  }
}
