// Katib's wire API (api.v1.beta1) over Sibyl's algorithms and store, so that Katib's
// controller can use Sibyl as its suggestion service and Katib's metrics collectors can
// report to it. Suggestions are stateless: history comes from the request's trials.
import type * as grpc from '@grpc/grpc-js';
import { algorithmNames, getAlgorithm } from '../../../suggestion-algorithms/registry.js';
import { SettingsError, type SearchSpace, type Settings } from '../../../suggestion-algorithms/model.js';
import { settingsErrorField } from '../../spec/algorithm.js';
import { normalizeValue } from '../../../suggestion-algorithms/space.js';
import { isRfc3339 } from '../../metrics/parse.js';
import type { ParamValue, TrialState, TrialView } from '../../model/trial.js';
import { SpecError } from '../../spec/errors.js';
import { readParameters } from '../../spec/parameters.js';
import type { ObservationLogEntry, Store } from '../../store/store.js';
import { invalid } from '../../service/errors.js';
import { unary, type HandlerContext } from './handlers.js';

type Req = Record<string, any>; // proto-loader's plain objects: every field is checked here

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

function specError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof SpecError) throw invalid(err.field, err.reason);
    throw err;
  }
}

export interface KatibExperiment {
  readonly name: string;
  readonly algorithmName: string;
  readonly space: SearchSpace;
  /** The user's algorithm settings, without Sibyl's state. */
  readonly settings: Settings;
  /** Sibyl's algorithm state, from the settings the controller sent back. */
  readonly state: Record<string, string>;
}

const KATIB_PATHS = { parameters: 'experiment.spec.parameter_specs.parameters', settings: 'experiment.spec.algorithm.algorithm_settings' };

/** Katib's Experiment message → what the algorithms see (validated). */
export function readExperiment(experiment: Req | undefined): KatibExperiment {
  const e = experiment?.spec;
  if (!e) throw invalid('experiment.spec', 'is required');
  const raw = (e.parameterSpecs?.parameters ?? []) as Req[];
  const documents = raw.map((p, i) => {
    const type = PARAMETER_TYPES[p.parameterType ?? 'UNKNOWN_TYPE'];
    if (!type) throw invalid(`${KATIB_PATHS.parameters}[${i}].parameter_type`, `must be DOUBLE, INT, DISCRETE or CATEGORICAL (got ${p.parameterType ?? 'UNKNOWN_TYPE'})`);
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
  const parameters = specError(() => readParameters(documents.map((d) => JSON.parse(JSON.stringify(d))), KATIB_PATHS.parameters));
  const objective = e.objective ?? {};
  if (!objective.objectiveMetricName) throw invalid('experiment.spec.objective.objective_metric_name', 'is required');
  if (objective.type !== 'MINIMIZE' && objective.type !== 'MAXIMIZE') throw invalid('experiment.spec.objective.type', `must be MINIMIZE or MAXIMIZE (got ${objective.type ?? 'UNKNOWN'})`);
  const algorithmName = e.algorithm?.algorithmName;
  if (!algorithmName) throw invalid('experiment.spec.algorithm.algorithm_name', 'is required');
  const algorithm = getAlgorithm(algorithmName);
  if (!algorithm) throw invalid('experiment.spec.algorithm.algorithm_name', `unknown algorithm ${JSON.stringify(algorithmName)} (known: ${algorithmNames().join(', ')})`);
  const state: Record<string, string> = {};
  const settings: { name: string; value: string }[] = [];
  for (const s of (e.algorithm?.algorithmSettings ?? []) as { name?: string; value?: string }[]) {
    if (s.name?.startsWith(STATE_PREFIX)) state[s.name.slice(STATE_PREFIX.length)] = s.value ?? '';
    else settings.push({ name: s.name ?? '', value: s.value ?? '' });
  }
  const space: SearchSpace = { parameters, direction: objective.type === 'MINIMIZE' ? 'minimize' : 'maximize' };
  try {
    algorithm.validateSettings(space, settings);
  } catch (err) {
    if (err instanceof SettingsError) throw invalid(settingsErrorField(err.target, KATIB_PATHS), err.reason);
    throw err;
  }
  return { name: experiment?.name || 'katib-experiment', algorithmName, space, settings, state };
}

/** Katib's trials → what algorithms see. */
function trialViews(experiment: KatibExperiment, metricName: string, trials: Req[]): TrialView[] {
  return trials.map((t, i) => {
    const assignment: Record<string, ParamValue> = {};
    for (const a of (t.spec?.parameterAssignments?.assignments ?? []) as { name?: string; value?: string }[]) {
      const p = experiment.space.parameters.find((q) => q.name === a.name);
      const v = p && normalizeValue(p, a.value);
      if (p && v !== undefined) assignment[p.name] = v;
    }
    const state = CONDITIONS[t.status?.condition ?? 'CREATED'] ?? 'RUNNING';
    const metric = ((t.status?.observation?.metrics ?? []) as { name?: string; value?: string }[]).find((m) => m.name === metricName);
    const value = metric?.value !== undefined && metric.value !== '' ? Number(metric.value) : NaN;
    const done = state === 'SUCCEEDED' || state === 'EARLY_STOPPED';
    return { name: t.name || `trial-${i}`, state, assignment, ...(done && Number.isFinite(value) ? { objectiveValue: value } : {}) };
  });
}

/** A stable seed per experiment when no random_state is set (FNV-1a of its name). */
function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function suggestionHandlers(ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    getSuggestions: unary(ctx, (r: Req) => {
      const experiment = readExperiment(r.experiment);
      const count = r.currentRequestNumber ?? 0;
      if (!Number.isInteger(count) || count < 0) throw invalid('current_request_number', `must be ≥ 0 (got ${count})`);
      if (count === 0) return { parameterAssignments: [], algorithm: r.experiment.spec.algorithm };
      const { state } = experiment;
      const trials = trialViews(experiment, r.experiment.spec.objective.objectiveMetricName, (r.trials ?? []) as Req[]);
      const result = getAlgorithm(experiment.algorithmName)!.suggest({
        space: experiment.space, settings: experiment.settings, trials, count, seed: seedOf(experiment.name),
        ...(Object.keys(state).length > 0 ? { state } : {}),
      });
      const stateSettings = Object.entries(result.state ?? state).map(([name, value]) => ({ name: `${STATE_PREFIX}${name}`, value }));
      return {
        parameterAssignments: result.assignments.slice(0, count).map((a) => ({
          assignments: experiment.space.parameters.map((p) => ({ name: p.name, value: String(a[p.name]) })),
        })),
        algorithm: { algorithmName: experiment.algorithmName, algorithmSettings: [...experiment.settings, ...stateSettings] },
      };
    }),
    validateAlgorithmSettings: unary(ctx, (r: Req) => {
      readExperiment(r.experiment);
      return {};
    }),
  };
}

const MEDIANSTOP_SETTINGS: Record<string, (v: string) => boolean> = {
  min_trials_required: (v) => /^\d+$/.test(v) && Number(v) > 0,
  start_step: (v) => /^\d+$/.test(v) && Number(v) >= 1,
};

export function earlyStoppingHandlers(ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    validateEarlyStoppingSettings: unary(ctx, (r: Req) => {
      const es = r.earlyStopping ?? {};
      if (es.algorithmName !== 'medianstop') throw invalid('early_stopping.algorithm_name', `unknown early-stopping algorithm ${JSON.stringify(es.algorithmName ?? '')} (known: medianstop)`);
      for (const s of (es.algorithmSettings ?? []) as { name?: string; value?: string }[]) {
        const check = MEDIANSTOP_SETTINGS[s.name ?? ''];
        if (!check) throw invalid(`early_stopping.algorithm_settings[${s.name}]`, 'unknown setting for medianstop (known: min_trials_required, start_step)');
        if (!check(s.value ?? '')) throw invalid(`early_stopping.algorithm_settings[${s.name}]`, `must be an integer ${s.name === 'start_step' ? '≥ 1' : '> 0'} (got ${JSON.stringify(s.value ?? '')})`);
      }
      return {};
    }),
    // Sibyl does not issue early-stopping rules to Katib yet: no rule means no trial is stopped.
    getEarlyStoppingRules: unary(ctx, () => ({ earlyStoppingRules: [] })),
    setTrialStatus: unary(ctx, (r: Req) => {
      if (!r.trialName) throw invalid('trial_name', 'is required');
      return {};
    }),
  };
}

export function dbManagerHandlers(store: Store, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    reportObservationLog: unary(ctx, (r: Req) => {
      const trialName = r.trialName as string | undefined;
      if (!trialName) throw invalid('trial_name', 'is required');
      const logs = (r.observationLog?.metricLogs ?? []) as { timeStamp?: string; metric?: { name?: string; value?: string } }[];
      const entries: ObservationLogEntry[] = [];
      logs.forEach((l, i) => {
        if (!l.timeStamp) return; // Katib skips entries without a time
        if (!isRfc3339(l.timeStamp)) throw invalid(`observation_log.metric_logs[${i}].time_stamp`, `must be an RFC 3339 time (got ${JSON.stringify(l.timeStamp)})`);
        if (!l.metric?.name) throw invalid(`observation_log.metric_logs[${i}].metric.name`, 'is required');
        entries.push({ trialName, metricName: l.metric.name, value: l.metric.value ?? '', time: new Date(l.timeStamp).toISOString() });
      });
      // A trial of Sibyl's gets the numeric values of its study's metrics as observations.
      const trial = store.getTrialByName(trialName);
      const study = trial && store.getStudy(trial.studyId);
      const metrics = study ? [study.spec.objective.objectiveMetricName, ...study.spec.objective.additionalMetricNames] : [];
      const steps = new Map<string, number>();
      const observations = trial
        ? entries.filter((e) => metrics.includes(e.metricName) && e.value.trim() !== '' && Number.isFinite(Number(e.value))).map((e) => {
          const step = (steps.get(e.metricName) ?? store.maxStep(trial.id, e.metricName)) + 1;
          steps.set(e.metricName, step);
          return { trialId: trial.id, observation: { metric: e.metricName, value: Number(e.value), step, time: e.time } };
        })
        : [];
      store.appendObservationLog(entries, observations);
      return {};
    }),
    getObservationLog: unary(ctx, (r: Req) => {
      if (!r.trialName) throw invalid('trial_name', 'is required');
      const bound = (field: string, v: string | undefined, fallback: number) => {
        if (!v) return fallback;
        if (!isRfc3339(v)) throw invalid(field, `must be an RFC 3339 time (got ${JSON.stringify(v)})`);
        return Date.parse(v);
      };
      const from = bound('start_time', r.startTime, -8.64e15);
      const to = bound('end_time', r.endTime, 8.64e15);
      const rows = store.observationLog(r.trialName, r.metricName || undefined, from, to);
      return { observationLog: { metricLogs: rows.map((e) => ({ timeStamp: e.time, metric: { name: e.metricName, value: e.value } })) } };
    }),
    deleteObservationLog: unary(ctx, (r: Req) => {
      if (!r.trialName) throw invalid('trial_name', 'is required');
      store.deleteObservationLog(r.trialName);
      return {};
    }),
  };
}
