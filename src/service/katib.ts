// Katib's API (api.v1.beta1) in the service layer, so that Katib's controller can use Sibyl as
// its suggestion service and Katib's metrics collectors can report to it, under the same
// limits as every other caller. Requests arrive as proto-loader's plain objects (camelCase
// fields); refusals name Katib's own field paths. Suggestions are stateless: history comes from
// the request's trials, and Sibyl's algorithm state travels back in the settings.
import { algorithmNames, getAlgorithm } from '../../suggestion-algorithms/registry.js';
import { SettingsError, type ParamValue, type SearchSpace, type Settings, type TrialView } from '../../suggestion-algorithms/model.js';
import { normalizeValue } from '../../suggestion-algorithms/space.js';
import { getPolicy, policyNames } from '../../suggestion-algorithms/early-stopping/registry.js';
import type { Curve, CurveView, EarlyStoppingPolicy } from '../../suggestion-algorithms/early-stopping/model.js';
import { AlgorithmError, type AlgorithmRunner } from '../algorithms/pool.js';
import { excerpt, LIMITS } from '../model/limits.js';
import { isActiveTrialState, type TrialState } from '../model/trial.js';
import { settingsErrorField } from '../spec/algorithm.js';
import { SpecError } from '../spec/errors.js';
import { readParameters } from '../spec/parameters.js';
import { StateConflictError, type ObservationInput, type ObservationLogEntry, type Store } from '../store/store.js';
import { prepareTrialFolder } from '../runtimes/checkpoint-folders.js';
import { PARENT_LABEL } from '../../suggestion-algorithms/pbt/labels.js';
import { invalid, precondition, ServiceError } from './errors.js';
import { LabelMemory, LABELS_PREFIX } from './katib-labels.js';
import type { KatibTrialConditions } from './katib-trials.js';
import { readInteger, readList, readName, readOptionalString, readTime, shown } from './requests.js';
import { metricNamesOf } from '../spec/types.js';

type Req = Record<string, any>; // proto-loader's plain objects: every field is read and checked here

const PARAMETER_TYPES: Record<string, string> = { DOUBLE: 'double', INT: 'int', DISCRETE: 'discrete', CATEGORICAL: 'categorical' };
const DISTRIBUTIONS: Record<string, string | undefined> = {
  DISTRIBUTION_UNSPECIFIED: undefined, UNIFORM: 'uniform', LOG_UNIFORM: 'logUniform', NORMAL: 'normal', LOG_NORMAL: 'logNormal',
};
const CONDITIONS: Record<string, TrialState> = {
  CREATED: 'CREATED', RUNNING: 'RUNNING', SUCCEEDED: 'SUCCEEDED', KILLED: 'KILLED', FAILED: 'FAILED',
  METRICSUNAVAILABLE: 'METRICS_UNAVAILABLE', EARLYSTOPPED: 'EARLY_STOPPED', UNKNOWN: 'RUNNING',
};

/**
 * Algorithm state travels in Katib's own channel: returned as extra algorithm settings, which
 * the controller stores and sends back with every request. The prefix keeps them apart from
 * the user's settings.
 */
const STATE_PREFIX = 'sibyl.state.';

const PATHS = { parameters: 'experiment.spec.parameter_specs.parameters', settings: 'experiment.spec.algorithm.algorithm_settings' };

export interface KatibExperiment {
  readonly name: string;
  readonly algorithmName: string;
  readonly metricName: string;
  readonly space: SearchSpace;
  /** The user's algorithm settings, without Sibyl's state. */
  readonly settings: Settings;
  /** Sibyl's algorithm state, from the settings the controller sent back. */
  readonly state: Record<string, string>;
  /** The labels of the trials Sibyl named, likewise (katib-labels.ts). */
  readonly labels: LabelMemory;
}

export interface KatibServiceOptions {
  /**
   * Katib's suggestion volume as this process sees it (`/opt/katib/data` in a Katib suggestion
   * pod). When set, a new trial of a study with `suggestion_trial_dir` gets its checkpoint
   * folder `<volume>/<experiment>/<trial>` there before the reply, empty or a copy of its
   * parent's, as Katib's own pbt service prepares it (the trial mounts that subPath).
   */
  readonly katibDataDir?: string;
  /** Katib's own Trials, marked EarlyStopped when their collector stops them (SetTrialStatus). */
  readonly katibTrials?: KatibTrialConditions;
  /** Reads a trial's objective values from Katib's DB manager at an address (GetEarlyStoppingRules' `db_manager_address`). */
  readonly remoteMetricValues?: (address: string, trialName: string, metricName: string, deadline: number) => Promise<number[]>;
  /** The only addresses read from (default: Katib's own, KATIB_DB_MANAGERS): a caller cannot make Sibyl connect anywhere else. */
  readonly dbManagerAddresses?: readonly string[];
}

/** A gRPC address as Katib's controller writes one: host:port or [IPv6]:port. */
export const isHostPort = (address: string) => /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/.test(address);

/** Katib's DB manager as its controller names it (katib-db-manager.<Katib's namespace>:6789), in Katib's default namespace. */
export const KATIB_DB_MANAGERS: readonly string[] = ['katib-db-manager.kubeflow:6789'];

/** GetEarlyStoppingRules' reads from a DB manager: all of them within this, this many at a time. */
const REMOTE_READS_MS = 30_000;
const REMOTE_READS_AT_ONCE = 8;

/** `fn` over `items`, at most `limit` at a time; results in the items' order, the first failure rejects. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const text = (v: unknown, field: string, max: number = LIMITS.maxIdentifierLength): string => readOptionalString(v, field, max) ?? '';

/** A GetObservationLog entry's bytes on the wire: its three strings and protobuf's tags and lengths (at most 16). */
const logEntryBytes = (e: ObservationLogEntry): number => Buffer.byteLength(e.time) + Buffer.byteLength(e.metricName) + Buffer.byteLength(e.value) + 16;
/** Entries one reply could carry at most (each has a 24-character time and a name): bounds the read. */
const MAX_LOG_REPLY_ENTRIES = Math.floor(LIMITS.maxBodyBytes / (24 + 1 + 16));

export class KatibService {
  constructor(
    private readonly store: Store,
    private readonly algorithms: AlgorithmRunner,
    /** Told of observations written for one of Sibyl's trials (its early-stopping policy judges them). */
    private readonly onObserved: (trialName: string, rows: readonly ObservationInput[]) => Promise<void> | void = () => {},
    /** Told of a trial Katib's metrics collector stopped by the rules; true when it is one of Sibyl's. */
    private readonly onStoppedByRules: (trialName: string) => Promise<boolean> | boolean = () => false,
    private readonly options: KatibServiceOptions = {},
  ) {}

  /** Exactly `current_request_number` assignments (fewer only when a finite space is used up), with the algorithm's labels. */
  async getSuggestions(r: Req): Promise<Req> {
    const experiment = readExperiment(r.experiment);
    const count = readInteger(r.currentRequestNumber ?? 0, 'current_request_number', 0, LIMITS.maxKatibSuggestions, 0);
    if (count === 0) return { parameterAssignments: [], algorithm: r.experiment.spec.algorithm };
    const trials = readTrials(experiment, r.trials ?? []);
    let result;
    try {
      // Katib's controller refuses a reply with fewer assignments than it asked for: `fill`.
      result = await this.algorithms.suggest(experiment.algorithmName, {
        space: experiment.space, settings: experiment.settings, trials, count, seed: seedOf(experiment.name), fill: true,
        ...(Object.keys(experiment.state).length > 0 ? { state: experiment.state } : {}),
      });
    } catch (err) {
      // The controller retries a failed call; it gets the algorithm's reason, never a stack.
      if (err instanceof AlgorithmError) throw new ServiceError('UNAVAILABLE', err.message);
      throw err;
    }
    const stateSettings = Object.entries(result.state ?? experiment.state).map(([name, value]) => ({ name: `${STATE_PREFIX}${name}`, value }));
    // A labelled trial is named here, so that its labels can be remembered by its name (katib-labels.ts).
    const taken = new Set(trials.map((t) => t.name));
    const assignments = result.assignments.slice(0, count).map((a, i) => {
      const labels = result.labels?.[i];
      const named = labels && Object.keys(labels).length > 0 ? { trialName: experiment.labels.name(experiment.name, labels, taken), labels: { ...labels } } : {};
      return { assignments: experiment.space.parameters.map((p) => ({ name: p.name, value: String(a[p.name]) })), ...named };
    });
    await this.prepareCheckpoints(experiment, assignments);
    return {
      parameterAssignments: assignments,
      algorithm: { algorithmName: experiment.algorithmName, algorithmSettings: [...experiment.settings, ...stateSettings, ...experiment.labels.settings()] },
    };
  }

  /** With Katib's suggestion volume: each named trial's checkpoint folder, as Katib's pbt service makes it. */
  private async prepareCheckpoints(experiment: KatibExperiment, assignments: readonly { trialName?: string; labels?: Record<string, string> }[]): Promise<void> {
    const volume = this.options.katibDataDir;
    if (volume === undefined || !experiment.settings.some((s) => s.name === 'suggestion_trial_dir' && s.value.trim() !== '')) return;
    for (const { trialName, labels } of assignments) {
      if (trialName === undefined) continue;
      const parent = labels?.[PARENT_LABEL];
      try {
        await prepareTrialFolder(volume, experiment.name, trialName, parent || undefined);
      } catch (err) {
        throw precondition(`cannot prepare the checkpoint folder of trial ${trialName}: ${(err as Error).message}`, 'experiment.name');
      }
    }
  }

  validateAlgorithmSettings(r: Req): Req {
    readExperiment(r.experiment);
    return {};
  }

  validateEarlyStoppingSettings(r: Req): Req {
    readEarlyStopping(r.earlyStopping, 'early_stopping');
    return {};
  }

  /**
   * Katib's suggestion controller asks after every GetSuggestions: the study's policy as rules
   * for the metrics collector, from the trials' observation logs: Sibyl's own (as Katib's DB
   * manager), else those of the DB manager at `db_manager_address`. A trial's log is its reports
   * in time order, numbered as steps.
   */
  async getEarlyStoppingRules(r: Req): Promise<Req> {
    const e = r.experiment?.spec;
    const { policy, settings } = readEarlyStopping(e?.earlyStopping, 'experiment.spec.early_stopping');
    const metricName = text(e?.objective?.objectiveMetricName, 'experiment.spec.objective.objective_metric_name');
    if (metricName === '') throw invalid('experiment.spec.objective.objective_metric_name', 'is required');
    const type = e?.objective?.type;
    if (type !== 'MINIMIZE' && type !== 'MAXIMIZE') throw invalid('experiment.spec.objective.type', `must be MINIMIZE or MAXIMIZE (got ${shown(type ?? 'UNKNOWN')})`);
    const dbManager = text(r.dbManagerAddress, 'db_manager_address');
    if (dbManager !== '' && !isHostPort(dbManager)) throw invalid('db_manager_address', `must be host:port (got ${shown(dbManager)})`);
    const asked = (readList(r.trials ?? [], 'trials', LIMITS.maxKatibTrials) as Req[]).map((t, i) => ({
      name: readName(t?.name, `trials[${i}].name`),
      state: CONDITIONS[t?.status?.condition ?? 'CREATED'] ?? 'RUNNING',
    }));
    // Logs read from the DB manager are read a few at a time, all within one deadline, well inside
    // the 60 s Katib's controller waits for this answer.
    const remote = { address: dbManager, deadline: Date.now() + REMOTE_READS_MS };
    const curves = await mapBounded(asked, REMOTE_READS_AT_ONCE, (t) => this.curveOf(t.name, metricName, t.state === 'SUCCEEDED', remote));
    const trials: CurveView[] = asked.flatMap((t, i) => (curves[i]!.steps.length > 0 ? [{ ...t, curve: curves[i]! }] : []));
    const rules = policy.katibRules({ direction: type === 'MINIMIZE' ? 'minimize' : 'maximize', settings, trials });
    return { earlyStoppingRules: rules.map((rule) => ({ name: metricName, value: String(rule.value), comparison: rule.comparison, startStep: rule.startStep })) };
  }

  /**
   * Katib's metrics collector stopped a trial by the rules. One of Sibyl's trials ends
   * EARLY_STOPPED. One of Katib's own gets the EarlyStopped condition on its Trial object, as
   * Katib's medianstop service writes it, when Sibyl knows the Trials' namespace; without it the
   * call is acknowledged and Katib ends the trial Succeeded.
   */
  async setTrialStatus(r: Req): Promise<Req> {
    const name = readName(r.trialName, 'trial_name');
    if (!(await this.onStoppedByRules(name))) await this.options.katibTrials?.markEarlyStopped(name);
    return {};
  }

  /** A trial's objective reports from its observation log; a completed trial's are kept (they no longer change). */
  private async curveOf(trialName: string, metricName: string, completed: boolean, dbManager: { readonly address: string; readonly deadline: number }): Promise<Curve> {
    const key = `${trialName}\u0000${metricName}`;
    const cached = this.completedCurves.get(key);
    if (cached) return cached;
    // At most what one GetObservationLog reply carries (Katib's medianstop reads the log that way).
    let values = (await this.store.observationLog(trialName, metricName, -8.64e15, 8.64e15, MAX_LOG_REPLY_ENTRIES)).map((e) => Number(e.value)).filter(Number.isFinite);
    const remote = this.options.remoteMetricValues;
    if (values.length === 0 && dbManager.address !== '' && remote) {
      const allowed = this.options.dbManagerAddresses ?? KATIB_DB_MANAGERS;
      if (!allowed.includes(dbManager.address)) {
        throw new ServiceError('PERMISSION_DENIED', `${shown(dbManager.address)} is not a DB manager this server reads logs from (${allowed.join(', ')}; --katib-db-managers)`, 'db_manager_address');
      }
      try {
        values = await remote(dbManager.address, trialName, metricName, dbManager.deadline);
      } catch (err) {
        throw new ServiceError('UNAVAILABLE', `reading the observation log of ${JSON.stringify(trialName)} there: ${excerpt((err as Error).message)}`, 'db_manager_address');
      }
    }
    const curve = { steps: values.map((_, i) => i + 1), values };
    if (completed && values.length > 0) {
      if (this.completedCurves.size >= LIMITS.maxKatibTrials) this.completedCurves.delete(this.completedCurves.keys().next().value!);
      this.completedCurves.set(key, curve);
    }
    return curve;
  }

  private readonly completedCurves = new Map<string, Curve>();

  /** Katib's metrics collectors report here; a log for one of Sibyl's active trials also becomes its observations. */
  async reportObservationLog(r: Req): Promise<Req> {
    const trialName = readName(r.trialName, 'trial_name');
    const logs = readList(r.observationLog?.metricLogs ?? [], 'observation_log.metric_logs', LIMITS.maxObservationBatch) as Req[];
    const entries: ObservationLogEntry[] = [];
    logs.forEach((l, i) => {
      const at = `observation_log.metric_logs[${i}]`;
      if (!l?.timeStamp) return; // Katib skips entries without a time
      const time = readTime(l.timeStamp, `${at}.time_stamp`, '');
      const metricName = text(l.metric?.name, `${at}.metric.name`);
      if (metricName === '') throw invalid(`${at}.metric.name`, 'is required');
      entries.push({ trialName, metricName, value: text(l.metric?.value, `${at}.metric.value`), time });
    });
    const trial = await this.store.getTrialByName(trialName);
    const study = trial && await this.store.getStudy(trial.studyId);
    // Katib refuses nothing here, but a finished trial of Sibyl's keeps the metrics it ended with.
    if (trial && !isActiveTrialState(trial.state)) throw precondition(`trial "${trial.name}" has ended (${trial.state}); it takes no more observations`, 'trial_name');
    const metrics = study ? metricNamesOf(study.spec.objective) : [];
    const steps = new Map<string, number>();
    const observations: { trialId: number; observation: ObservationInput }[] = [];
    for (const e of trial ? entries : []) {
      if (!metrics.includes(e.metricName) || e.value.trim() === '' || !Number.isFinite(Number(e.value))) continue;
      const step = (steps.get(e.metricName) ?? await this.store.maxStep(trial!.id, e.metricName)) + 1;
      steps.set(e.metricName, step);
      observations.push({ trialId: trial!.id, observation: { metric: e.metricName, value: Number(e.value), step, time: e.time } });
    }
    try {
      await this.store.appendObservationLog(entries, observations);
    } catch (err) {
      if (err instanceof StateConflictError) throw precondition(`trial "${trialName}" has ended; it takes no more observations`, 'trial_name');
      throw err;
    }
    if (observations.length > 0) await this.onObserved(trialName, observations.map((o) => o.observation));
    return {};
  }

  async getObservationLog(r: Req): Promise<Req> {
    const trialName = readName(r.trialName, 'trial_name');
    const metricName = readOptionalString(r.metricName, 'metric_name', LIMITS.maxIdentifierLength);
    const from = Date.parse(readTime(r.startTime, 'start_time', new Date(-8.64e15).toISOString()));
    const to = Date.parse(readTime(r.endTime, 'end_time', new Date(8.64e15).toISOString()));
    // Katib's reply has no pages: a range holding more than one gRPC message carries is refused, not cut short.
    const rows = await this.store.observationLog(trialName, metricName, from, to, MAX_LOG_REPLY_ENTRIES + 1);
    const bytes = rows.reduce((n, e) => n + logEntryBytes(e), 0);
    if (rows.length > MAX_LOG_REPLY_ENTRIES || bytes > LIMITS.maxBodyBytes) {
      throw new ServiceError('RESOURCE_EXHAUSTED', `the observation log of ${shown(trialName)} in this time range is more than one ${LIMITS.maxBodyBytes / 1024 / 1024} MiB reply carries; ask for a shorter range (start_time, end_time)`, 'end_time');
    }
    return { observationLog: { metricLogs: rows.map((e) => ({ timeStamp: e.time, metric: { name: e.metricName, value: e.value } })) } };
  }

  async deleteObservationLog(r: Req): Promise<Req> {
    await this.store.deleteObservationLog(readName(r.trialName, 'trial_name'));
    return {};
  }
}

/** Katib's EarlyStoppingSpec → Sibyl's policy and its validated settings. */
function readEarlyStopping(es: Req | undefined, path: string): { policy: EarlyStoppingPolicy; settings: Settings } {
  const name = text(es?.algorithmName, `${path}.algorithm_name`);
  const policy = getPolicy(name);
  if (!policy) throw invalid(`${path}.algorithm_name`, `unknown early-stopping algorithm ${shown(name)} (known: ${policyNames().join(', ')})`);
  const settings = (readList(es?.algorithmSettings ?? [], `${path}.algorithm_settings`, LIMITS.maxListEntries) as Req[]).map((s) => {
    const setting = text(s?.name, `${path}.algorithm_settings.name`);
    return { name: setting, value: text(s?.value, `${path}.algorithm_settings[${excerpt(setting)}]`) };
  });
  try {
    policy.validateSettings(settings);
  } catch (err) {
    if (err instanceof SettingsError) throw invalid(settingsErrorField(err.target, { parameters: `${path}`, settings: `${path}.algorithm_settings` }), err.reason);
    throw err;
  }
  return { policy, settings };
}

/** Katib's Experiment message → what the algorithms see (validated). */
export function readExperiment(experiment: Req | undefined): KatibExperiment {
  const e = experiment?.spec;
  if (!e) throw invalid('experiment.spec', 'is required');
  const raw = readList(e.parameterSpecs?.parameters ?? [], PATHS.parameters, LIMITS.maxParameters) as Req[];
  const documents = raw.map((p, i) => {
    const type = PARAMETER_TYPES[p?.parameterType ?? 'UNKNOWN_TYPE'];
    if (!type) throw invalid(`${PATHS.parameters}[${i}].parameter_type`, `must be DOUBLE, INT, DISCRETE or CATEGORICAL (got ${shown(p?.parameterType ?? 'UNKNOWN_TYPE')})`);
    const fs = p.feasibleSpace ?? {};
    const blank = (v: unknown) => (v === undefined || v === '' ? undefined : v);
    return {
      name: p.name,
      parameterType: type,
      feasibleSpace: {
        min: blank(fs.min), max: blank(fs.max), step: blank(fs.step),
        list: Array.isArray(fs.list) && fs.list.length > 0 ? fs.list : undefined,
        distribution: DISTRIBUTIONS[fs.distribution ?? 'DISTRIBUTION_UNSPECIFIED'],
      },
    };
  });
  const objective = e.objective ?? {};
  const metricName = text(objective.objectiveMetricName, 'experiment.spec.objective.objective_metric_name');
  if (metricName === '') throw invalid('experiment.spec.objective.objective_metric_name', 'is required');
  if (objective.type !== 'MINIMIZE' && objective.type !== 'MAXIMIZE') throw invalid('experiment.spec.objective.type', `must be MINIMIZE or MAXIMIZE (got ${shown(objective.type ?? 'UNKNOWN')})`);
  const algorithmName = text(e.algorithm?.algorithmName, 'experiment.spec.algorithm.algorithm_name');
  if (algorithmName === '') throw invalid('experiment.spec.algorithm.algorithm_name', 'is required');
  const algorithm = getAlgorithm(algorithmName);
  if (!algorithm) throw invalid('experiment.spec.algorithm.algorithm_name', `unknown algorithm ${shown(algorithmName)} (known: ${algorithmNames().join(', ')})`);
  const state: Record<string, string> = {};
  const settings: { name: string; value: string }[] = [];
  const labels: string[] = [];
  for (const s of readList(e.algorithm?.algorithmSettings ?? [], PATHS.settings, LIMITS.maxListEntries) as Req[]) {
    const name = text(s?.name, `${PATHS.settings}.name`);
    // Sibyl's own state comes back from an earlier reply: it may be long (a CMA-ES snapshot).
    if (name.startsWith(STATE_PREFIX)) state[name.slice(STATE_PREFIX.length)] = text(s?.value, `${PATHS.settings}[${name}]`, LIMITS.maxStringLength);
    else if (name.startsWith(LABELS_PREFIX)) labels.push(text(s?.value, `${PATHS.settings}[${name}]`, LIMITS.maxStringLength));
    else settings.push({ name, value: text(s?.value, `${PATHS.settings}[${name}]`) });
  }
  let parameters;
  try {
    // After the settings: a parameter the algorithm assigns itself (hyperband's resource) may have a one-point range.
    parameters = readParameters(documents.map((d) => JSON.parse(JSON.stringify(d))), PATHS.parameters, algorithm.overwrittenParameters?.(settings) ?? []);
  } catch (err) {
    if (err instanceof SpecError) throw invalid(err.field, err.reason);
    throw err;
  }
  const space: SearchSpace = { parameters, direction: objective.type === 'MINIMIZE' ? 'minimize' : 'maximize' };
  try {
    algorithm.validateSettings(space, settings);
  } catch (err) {
    if (err instanceof SettingsError) throw invalid(settingsErrorField(err.target, PATHS), err.reason);
    throw err;
  }
  const memory = LabelMemory.read(labels, `${PATHS.settings}[${LABELS_PREFIX}*]`);
  return { name: text(experiment?.name, 'experiment.name') || 'katib-experiment', algorithmName, metricName, space, settings, state, labels: memory };
}

/** Katib's trials → what algorithms see. */
function readTrials(experiment: KatibExperiment, raw: unknown): TrialView[] {
  // Algorithms see trials in creation order; Katib lists them by name, so they are put in the
  // order they started (never-started ones last, in the order given).
  const started = (t: Req) => (typeof t?.status?.startTime === 'string' && t.status.startTime !== '' ? Date.parse(t.status.startTime) : NaN);
  const trials = [...(readList(raw, 'trials', LIMITS.maxKatibTrials) as Req[])].sort((a, b) => {
    const [x, y] = [started(a), started(b)];
    return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : Number.isNaN(y) ? -1 : x - y;
  });
  return trials.map((t, i) => {
    const assignment: Record<string, ParamValue> = {};
    for (const a of (t?.spec?.parameterAssignments?.assignments ?? []) as { name?: string; value?: string }[]) {
      const p = experiment.space.parameters.find((q) => q.name === a?.name);
      const v = p && normalizeValue(p, typeof a.value === 'string' ? a.value : undefined);
      if (p && v !== undefined) assignment[p.name] = v;
    }
    const state = CONDITIONS[t?.status?.condition ?? 'CREATED'] ?? 'RUNNING';
    const metric = ((t?.status?.observation?.metrics ?? []) as { name?: string; value?: string }[]).find((m) => m?.name === experiment.metricName);
    const value = typeof metric?.value === 'string' && metric.value !== '' ? Number(metric.value) : NaN;
    const done = state === 'SUCCEEDED' || state === 'EARLY_STOPPED';
    const name = typeof t?.name === 'string' && t.name ? t.name : `trial-${i}`;
    // Katib's controller sends the Trial's spec.labels, which it never sets; those Sibyl named are remembered.
    const labels = readLabels(t?.spec?.labels, `trials[${i}].spec.labels`) ?? experiment.labels.get(name);
    return {
      name, state, assignment,
      ...(done && Number.isFinite(value) ? { objectiveValue: value } : {}),
      ...(labels ? { labels } : {}),
    };
  });
}

/** A trial's labels (a proto map: a plain object of strings); undefined when it has none. */
function readLabels(raw: unknown, field: string): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw invalid(field, `must be a map of strings (got ${shown(raw)})`);
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > LIMITS.maxListEntries) throw invalid(field, `must have at most ${LIMITS.maxListEntries} entries (got ${entries.length})`);
  return Object.fromEntries(entries.map(([key, value]) => {
    readOptionalString(key, `${field} key`, LIMITS.maxStringLength);
    return [key, text(value, `${field}[${excerpt(key)}]`, LIMITS.maxStringLength)];
  }));
}

/** A stable seed per experiment when no random_state is set (FNV-1a of its name). */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
