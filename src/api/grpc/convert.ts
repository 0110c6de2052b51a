// Between the service's shapes and Sibyl's protobuf messages (proto-loader's plain objects).
import type { ParamValue } from '../../model/trial.js';
import { invalid } from '../../service/errors.js';
import type { StudyShape, TrialShape } from '../../service/shapes.js';

type StructValue = { kind?: string; nullValue?: unknown; numberValue?: number; stringValue?: string; boolValue?: boolean; structValue?: Struct; listValue?: { values?: StructValue[] } };
type Struct = { fields?: Record<string, StructValue> };

/** google.protobuf.Struct → plain JSON value. */
export function structToJson(struct: Struct | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(struct?.fields ?? {})) out[k] = valueToJson(v);
  return out;
}

function valueToJson(v: StructValue): unknown {
  switch (v.kind) {
    case 'numberValue': return v.numberValue;
    case 'stringValue': return v.stringValue;
    case 'boolValue': return v.boolValue;
    case 'structValue': return structToJson(v.structValue);
    case 'listValue': return (v.listValue?.values ?? []).map(valueToJson);
    default: return null;
  }
}

/** ParameterValue messages → an assignment object (the service checks it against the space); a name given twice is refused. */
export function assignmentFromValues(values: readonly { name?: string; number?: number; text?: string; value?: string }[], field: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of values) {
    const name = v.name ?? '';
    if (Object.hasOwn(out, name)) throw invalid(`${field}.${name}`, 'is given twice');
    out[name] = v.value === 'text' ? v.text : v.value === 'number' ? v.number : undefined; // proto-loader names the oneof's field in `value`
  }
  return out;
}

export const parameterValues = (assignment: Readonly<Record<string, ParamValue>>) =>
  Object.entries(assignment).map(([name, value]) => (typeof value === 'number' ? { name, number: value } : { name, text: value }));

export function studyMessage(s: StudyShape) {
  const c = s.trials;
  return {
    name: s.name,
    state: s.state,
    reason: s.reason ?? '',
    message: s.message ?? '',
    runtime: s.runtime,
    algorithm: s.algorithm,
    objectiveType: s.objective.type,
    objectiveMetric: s.objective.metric,
    ...(s.objective.goal === null ? {} : { goal: s.objective.goal }),
    parallelTrialCount: s.parallelTrialCount,
    ...(s.maxTrialCount === null ? {} : { maxTrialCount: s.maxTrialCount }),
    ...(s.maxFailedTrialCount === null ? {} : { maxFailedTrialCount: s.maxFailedTrialCount }),
    trials: {
      created: c.CREATED, running: c.RUNNING, succeeded: c.SUCCEEDED, failed: c.FAILED,
      killed: c.KILLED, earlyStopped: c.EARLY_STOPPED, metricsUnavailable: c.METRICS_UNAVAILABLE,
    },
    ...(s.best ? { best: { trial: s.best.trial, value: s.best.value ?? 0, assignment: parameterValues(s.best.assignment) } } : {}),
    ...(s.earlyStopping ? { earlyStopping: s.earlyStopping } : {}),
    objectives: s.objective.objectives,
    specJson: JSON.stringify(s.spec),
    createTime: s.createdAt,
    startTime: s.startedAt ?? '',
    endTime: s.completedAt ?? '',
  };
}

export function trialMessage(t: TrialShape) {
  return {
    name: t.name,
    study: t.study,
    seq: t.seq,
    state: t.state,
    reason: t.reason ?? '',
    message: t.message ?? '',
    assignment: parameterValues(t.assignment),
    ...(t.objectiveValue === null ? {} : { objectiveValue: t.objectiveValue }),
    objectiveValues: t.objectiveValues ?? [],
    metrics: t.metrics,
    clientId: t.clientId ?? '',
    labels: t.labels,
    ...(t.stoppedAtStep === null ? {} : { stoppedAtStep: t.stoppedAtStep }),
    ...(t.feasible === null ? {} : { feasible: t.feasible }),
    ...(t.violation === null ? {} : { violation: t.violation }),
    createTime: t.createdAt,
    startTime: t.startedAt ?? '',
    endTime: t.completedAt ?? '',
  };
}
