// The REST API's JSON, as the page sees it (src/service/shapes.ts on the server).
export type ParamValue = number | string;

export interface MetricShape {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly latest: number;
  readonly count: number;
}

export interface ParameterSpec {
  readonly name: string;
  readonly parameterType: 'double' | 'int' | 'discrete' | 'categorical';
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  readonly distribution?: 'uniform' | 'logUniform' | 'normal' | 'logNormal';
  readonly list?: readonly (number | string)[];
}

export interface StudySpec {
  readonly name: string;
  readonly namespace: string;
  readonly parameters: readonly ParameterSpec[];
  readonly objective: {
    readonly type: 'minimize' | 'maximize';
    readonly objectiveMetricName: string;
    readonly goal?: number;
    readonly additionalMetricNames: readonly string[];
    readonly metricStrategies: readonly { readonly name: string; readonly value: 'min' | 'max' | 'latest' }[];
  };
  readonly algorithm: { readonly algorithmName: string; readonly algorithmSettings: readonly { readonly name: string; readonly value: string }[] };
  readonly parallelTrialCount: number;
  readonly maxTrialCount?: number;
  readonly maxFailedTrialCount?: number;
  readonly [key: string]: unknown;
}

export type TrialCounts = Record<string, number>;

export interface Study {
  readonly name: string;
  readonly state: string;
  readonly reason: string | null;
  readonly message: string | null;
  readonly runtime: string;
  readonly algorithm: string;
  readonly objective: { readonly type: string; readonly metric: string; readonly goal: number | null };
  readonly parallelTrialCount: number;
  readonly maxTrialCount: number | null;
  readonly maxFailedTrialCount: number | null;
  readonly trials: TrialCounts;
  readonly best: { readonly trial: string; readonly value: number | null; readonly assignment: Record<string, ParamValue> } | null;
  readonly spec: StudySpec;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

export interface Trial {
  readonly name: string;
  readonly study: string;
  readonly seq: number;
  readonly state: string;
  readonly reason: string | null;
  readonly message: string | null;
  readonly assignment: Record<string, ParamValue>;
  readonly objectiveValue: number | null;
  readonly metrics: readonly MetricShape[];
  readonly clientId: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

export interface Observation {
  readonly metric: string;
  readonly step: number;
  readonly value: number;
  readonly time: string;
}

export type StudyEvent = { readonly type: 'study'; readonly study: Study } | { readonly type: 'trial'; readonly trial: Trial };

export const ACTIVE_TRIAL_STATES = ['CREATED', 'RUNNING'];
export const TRIAL_STATES = ['CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'EARLY_STOPPED', 'METRICS_UNAVAILABLE'];
export const TERMINAL_STUDY_STATES = ['SUCCEEDED', 'FAILED', 'STOPPED'];
