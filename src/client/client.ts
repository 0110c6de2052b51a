// SibylClient: the REST API as typed calls. Every shape is the server's own (its TypeBox
// schemas' static types), requests and answers alike, so the compiler holds both sides to one
// definition. Calls give Study and Trial handles (handles.ts) that carry the data as last read.
import type { Static } from '@sinclair/typebox';
import type { BudgetBody, CompleteBody, CreateStudyBody, EnqueuedList, ImportanceResponse, ObservationList, ObservationsBody, SuggestBody, TrialsQuery } from '../api/rest/schemas.js';
import type { StudyService } from '../service/study-service.js';
import type { ParetoFrontShape, StudyEvent, StudyShape, TrialShape } from '../service/shapes.js';
import { LIMITS } from '../model/limits.js';
import { isActiveTrialState } from '../model/trial.js';
import { FailedPreconditionError, UnavailableError } from './errors.js';
import { studyEvents } from './events.js';
import { Study, Trial } from './handles.js';
import { Transport, type TransportOptions } from './transport.js';

export type CreateStudyBodyShape = Static<typeof CreateStudyBody>;
/** runtime (`external` for ask/tell), workingDir (local studies), heartbeatSeconds (external studies). */
export type CreateStudyOptions = Omit<CreateStudyBodyShape, 'spec' | 'specText'>;
export type Budget = Static<typeof BudgetBody>;
export type ObservationInput = Static<typeof ObservationsBody>['observations'][number];
export type CompleteRequest = Static<typeof CompleteBody>;
export type SuggestRequest = Static<typeof SuggestBody>;
export type Observation = Static<typeof ObservationList>['observations'][number];
export type TrialState = TrialShape['state'];
/** Parameter name → value (a number, or a string for categorical parameters). */
export type AssignmentInput = Readonly<Record<string, number | string>>;
export type ParameterImportance = Static<typeof ImportanceResponse>;
export type TrialLog = Awaited<ReturnType<StudyService['trialLog']>>;
export interface PageRequest {
  readonly pageSize?: number;
  readonly pageToken?: string;
}
export interface TrialFilter {
  readonly state?: NonNullable<Static<typeof TrialsQuery>['state']>;
  /** Only trials with a larger seq (incremental sync). */
  readonly afterId?: number;
}

export interface SibylClientOptions extends TransportOptions {
  /** The ask/tell client id of the Study handles this client gives (default: a random one per handle). */
  readonly clientId?: string;
}

const seg = encodeURIComponent;

export class SibylClient {
  readonly transport: Transport;
  private readonly clientId: string | undefined;

  /** `url`: the server, e.g. http://127.0.0.1:8080. Throws a TypeError for anything but an http(s) URL. */
  constructor(url: string, options: SibylClientOptions = {}) {
    this.transport = new Transport(url, options);
    this.clientId = options.clientId;
  }

  /** The API's base URL (…/api/v1). */
  get url(): string {
    return this.transport.apiBase;
  }

  private call<T>(method: string, path: string, body?: unknown, query?: Record<string, string | number | undefined>): Promise<T> {
    return this.transport.request<T>(method, path, { body, ...(query ? { query } : {}) });
  }

  private study(data: StudyShape): Study {
    return new Study(this, data, this.clientId);
  }

  private trial(data: TrialShape): Trial {
    return new Trial(this, data);
  }

  // ── studies ──

  /**
   * Creates a study from a Katib Experiment document (an object, or its YAML or JSON text).
   * Idempotent by name: the same spec gives the existing study; another one is AlreadyExistsError.
   */
  async createStudy(spec: object | string, options: CreateStudyOptions = {}): Promise<Study> {
    const body: CreateStudyBodyShape = { ...(typeof spec === 'string' ? { specText: spec } : { spec }), ...options };
    return this.study(await this.call<StudyShape>('POST', '/studies', body));
  }

  async getStudy(name: string): Promise<Study> {
    return this.study(await this.call<StudyShape>('GET', `/studies/${seg(name)}`));
  }

  /** One page of studies; pass its nextPageToken for the next ('' after the last). */
  async listStudies(page: PageRequest = {}): Promise<{ studies: Study[]; nextPageToken: string }> {
    const answer = await this.call<{ studies: StudyShape[]; nextPageToken: string }>('GET', '/studies', undefined, { ...page });
    return { studies: answer.studies.map((s) => this.study(s)), nextPageToken: answer.nextPageToken };
  }

  /** Every study, all pages. */
  async allStudies(): Promise<Study[]> {
    return this.pages((pageToken) => this.listStudies({ pageSize: LIMITS.maxPageSize, pageToken }), (p) => p.studies);
  }

  async stopStudy(name: string): Promise<Study> {
    return this.study(await this.call<StudyShape>('POST', `/studies/${seg(name)}/stop`));
  }

  /** Deletes a study with its trials (its active trials are stopped first). */
  async deleteStudy(name: string): Promise<void> {
    await this.call<undefined>('DELETE', `/studies/${seg(name)}`);
  }

  /** Changes parallelTrialCount, maxTrialCount, maxFailedTrialCount; a study that ended at its trial budget reopens when given more. */
  async setBudget(name: string, budget: Budget): Promise<Study> {
    return this.study(await this.call<StudyShape>('PATCH', `/studies/${seg(name)}/budget`, budget));
  }

  /**
   * The study's events: the study as it is, then each study and trial change, in order, until
   * the study is deleted, the connection closes (quietly) or `signal` aborts (quietly); a loss
   * of the connection midway is an UnavailableError. Leaving a `for await` loop closes the stream.
   */
  async *watchStudy(name: string, options: { readonly signal?: AbortSignal } = {}): AsyncGenerator<StudyEvent, void, undefined> {
    const closing = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, closing.signal]) : closing.signal;
    const res = await this.transport.open(`/studies/${seg(name)}/events`, signal);
    try {
      yield* studyEvents(res.body!);
    } catch (err) {
      if (signal.aborted) return;
      throw new UnavailableError(`the event stream of study ${JSON.stringify(name)} was cut (${err instanceof Error ? err.message : String(err)})`);
    } finally {
      closing.abort();
    }
  }

  // ── trials ──

  /** One page of a study's trials, in creation order. */
  async listTrials(study: string, options: TrialFilter & PageRequest = {}): Promise<{ trials: Trial[]; nextPageToken: string }> {
    const answer = await this.call<{ trials: TrialShape[]; nextPageToken: string }>('GET', `/studies/${seg(study)}/trials`, undefined, { ...options });
    return { trials: answer.trials.map((t) => this.trial(t)), nextPageToken: answer.nextPageToken };
  }

  /** Every trial of a study (all pages), in creation order. */
  async allTrials(study: string, filter: TrialFilter = {}): Promise<Trial[]> {
    return this.pages((pageToken) => this.listTrials(study, { ...filter, pageSize: LIMITS.maxPageSize, pageToken }), (p) => p.trials);
  }

  async getTrial(name: string): Promise<Trial> {
    return this.trial(await this.call<TrialShape>('GET', `/trials/${seg(name)}`));
  }

  async stopTrial(name: string): Promise<Trial> {
    return this.trial(await this.call<TrialShape>('POST', `/trials/${seg(name)}/stop`));
  }

  /** Every intermediate observation {metric, step, value, time} (all pages), in recorded order. */
  async observations(trial: string): Promise<Observation[]> {
    return this.pages((pageToken) => this.call<Static<typeof ObservationList>>('GET', `/trials/${seg(trial)}/observations`, undefined, { pageToken }), (p) => p.observations);
  }

  /** The last `tail` lines of a trial's log (trials the server ran; none otherwise) and the log's size. */
  async logTail(trial: string, tail = 100): Promise<TrialLog> {
    return this.call<TrialLog>('GET', `/trials/${seg(trial)}/log`, undefined, { tail });
  }

  /** The study's best trial so far; null before any trial has an objective value. */
  async bestTrial(study: string): Promise<Trial | null> {
    const best = (await this.getStudy(study)).data.best;
    return best ? this.getTrial(best.trial) : null;
  }

  /**
   * The study's Pareto front: its completed trials no other dominates, in creation order, with
   * each objective's value in `objectiveValues` (a single-objective study: its best trial).
   */
  async paretoFront(study: string): Promise<{ objectives: { type: 'minimize' | 'maximize'; metric: string }[]; trials: Trial[] }> {
    const front = await this.call<ParetoFrontShape>('GET', `/studies/${seg(study)}/pareto`);
    return { objectives: front.objectives, trials: front.trials.map((t) => this.trial(t)) };
  }

  // ── warm starts and analysis ──

  /** Queues assignments to run before any algorithm suggestion, in order; returns the whole queue. */
  async enqueue(study: string, assignments: readonly AssignmentInput[]): Promise<AssignmentInput[]> {
    return (await this.call<Static<typeof EnqueuedList>>('POST', `/studies/${seg(study)}/enqueue`, { assignments })).enqueued;
  }

  /** The assignments still waiting to run, in order. */
  async enqueued(study: string): Promise<AssignmentInput[]> {
    return (await this.call<Static<typeof EnqueuedList>>('GET', `/studies/${seg(study)}/enqueued`)).enqueued;
  }

  /** fANOVA importance of the study's parameters, most important first. */
  async importance(study: string): Promise<ParameterImportance> {
    return this.call<ParameterImportance>('GET', `/studies/${seg(study)}/importance`);
  }

  // ── ask/tell, one call each (Study.ask and Trial.tell build on these) ──

  /** This client's still-active trials first, then new ones, up to `count` (maybe none while the budget is in flight). */
  async suggest(study: string, clientId: string, count = 1): Promise<Trial[]> {
    const body: SuggestRequest = { clientId, count };
    return (await this.call<{ trials: TrialShape[] }>('POST', `/studies/${seg(study)}/suggest`, body)).trials.map((t) => this.trial(t));
  }

  /** Intermediate values, all or nothing; the number accepted. */
  async report(trial: string, observations: readonly ObservationInput[]): Promise<number> {
    const body: Static<typeof ObservationsBody> = { observations: [...observations] };
    return (await this.call<{ accepted: number }>('POST', `/trials/${seg(trial)}/observations`, body)).accepted;
  }

  /**
   * Tells a trial's outcome. Sent again after a lost answer, the server's "already ended" is the
   * first attempt's success: the trial as it ended is returned.
   */
  async complete(trial: string, request: CompleteRequest = {}): Promise<Trial> {
    try {
      return this.trial(await this.call<TrialShape>('POST', `/trials/${seg(trial)}/complete`, request));
    } catch (err) {
      if (err instanceof FailedPreconditionError && err.attempts > 1) {
        const ended = await this.getTrial(trial);
        if (!isActiveTrialState(ended.state)) return ended;
      }
      throw err;
    }
  }

  /** The trial's client is alive (studies with heartbeatSeconds). */
  async heartbeat(trial: string): Promise<Trial> {
    return this.trial(await this.call<TrialShape>('POST', `/trials/${seg(trial)}/heartbeat`));
  }

  /** Whether to stop the trial now: its early-stopping policy stopped it, or it has ended. */
  async shouldStop(trial: string): Promise<boolean> {
    return (await this.call<{ shouldStop: boolean }>('GET', `/trials/${seg(trial)}/should-stop`)).shouldStop;
  }

  private async pages<P extends { nextPageToken: string }, T>(page: (token: string | undefined) => Promise<P>, items: (p: P) => T[]): Promise<T[]> {
    const all: T[] = [];
    let token: string | undefined;
    do {
      const p = await page(token);
      all.push(...items(p));
      token = p.nextPageToken || undefined;
    } while (token);
    return all;
  }
}
