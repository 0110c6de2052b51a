// The study spec after parsing, defaulting and validation. Field names follow Katib's
// Experiment JSON (camelCase); numbers that Katib carries as strings are numbers here.

export type ObjectiveType = 'minimize' | 'maximize';
export type MetricStrategy = 'min' | 'max' | 'latest';
// Parameters are the algorithms' own type (a study's space is what they search).
export type {
  CategoricalParameter,
  DiscreteParameter,
  Distribution,
  Parameter as ParameterSpec,
  RangeParameter,
} from '../../suggestion-algorithms/model.js';
import type { Assignment, Parameter as ParameterSpec } from '../../suggestion-algorithms/model.js';
import type { ConfigMapReference } from './template-source.js';
import type { MetricConstraint } from '../model/constraints.js';
export type { MetricConstraint } from '../model/constraints.js';

/** One objective: its metric and which way it is better. */
export interface ObjectiveTarget {
  readonly type: ObjectiveType;
  readonly objectiveMetricName: string;
}

export interface ObjectiveSpec {
  /** The (first) objective's direction and metric: what Katib's single-objective fields mean. */
  readonly type: ObjectiveType;
  readonly objectiveMetricName: string;
  /** Never set when `objectives` is: a multi-objective study ends at its trial budget. */
  readonly goal?: number;
  /**
   * Sibyl's multi-objective extension: two or more objectives, the first being `type` +
   * `objectiveMetricName`. Absent for a single-objective study (every Katib file).
   */
  readonly objectives?: readonly ObjectiveTarget[];
  readonly additionalMetricNames: readonly string[];
  /** One entry per metric (objective first), defaults applied. */
  readonly metricStrategies: readonly { readonly name: string; readonly value: MetricStrategy }[];
  /** Sibyl's outcome constraints on additional metrics; absent when there are none. */
  readonly constraints?: readonly MetricConstraint[];
}

export interface AlgorithmSpec {
  readonly algorithmName: string;
  readonly algorithmSettings: readonly { readonly name: string; readonly value: string }[];
}

export interface TrialParameterSpec {
  readonly name: string;
  readonly description?: string;
  readonly reference: string;
}

/** Keys and list indexes from the root of an object to one of its values. */
export type TemplatePath = readonly (string | number)[];

export interface TrialTemplateSpec {
  readonly trialParameters: readonly TrialParameterSpec[];
  /** Katib's `configMap` source, as given; `trialSpec` then holds the template read from it. */
  readonly configMap?: ConfigMapReference;
  /** Any Kubernetes object (TFJob by default on a cluster); absent for purely local studies. */
  readonly trialSpec?: Readonly<Record<string, unknown>>;
  /**
   * A template read from a ConfigMap: where in trialSpec a value was a placeholder alone, unquoted
   * in its YAML. Each such value is typed as YAML reads what is put there (a number, a boolean),
   * as Katib's text substitution does (spec/template.ts: typeBareValues).
   */
  readonly bareValues?: readonly TemplatePath[];
  readonly primaryContainerName?: string;
  readonly primaryPodLabels?: Readonly<Record<string, string>>;
  readonly successCondition?: string;
  readonly failureCondition?: string;
  readonly retain: boolean;
  /** Sibyl's argv for the local runtime; with none, the primary container's command + args. */
  readonly command?: readonly string[];
}

export type CollectorKind = 'StdOut' | 'File' | 'TensorFlowEvent' | 'Push' | 'Custom';

/** Katib's default paths: a File collector's file, a TensorFlowEvent collector's directory. */
export const DEFAULT_METRICS_FILE = '/var/log/katib/metrics.log';
export const DEFAULT_TFEVENT_DIR = '/var/log/katib/tfevent/';

export interface MetricsCollectorSpec {
  readonly kind: CollectorKind;
  /**
   * File: the file the trial writes metrics to; TensorFlowEvent: the directory of its summary
   * files (searched recursively). Absolute, Katib's default when none is given.
   */
  readonly path?: string;
  readonly format: 'TEXT' | 'JSON';
  /** Regexes with two groups (name, value); Katib's default when none is given. */
  readonly metricsFormat: readonly string[];
  /** Custom: the user's own collector container (run by the user; it reports through Katib's DBManager API). */
  readonly customCollector?: Readonly<Record<string, unknown>>;
}

export interface StudySpec {
  readonly name: string;
  readonly namespace: string;
  readonly parameters: readonly ParameterSpec[];
  readonly objective: ObjectiveSpec;
  readonly algorithm: AlgorithmSpec;
  readonly earlyStopping?: AlgorithmSpec;
  readonly parallelTrialCount: number;
  readonly maxTrialCount?: number;
  readonly maxFailedTrialCount?: number;
  readonly trialTemplate: TrialTemplateSpec;
  readonly metricsCollector: MetricsCollectorSpec;
  /** Sibyl's: assignments to run first, in order, before any algorithm suggestion (Optuna's enqueue_trial). */
  readonly enqueuedTrials?: readonly Assignment[];
  /** Sibyl's: an earlier study whose completed trials the algorithm learns from (Vizier's prior studies). */
  readonly warmStart?: WarmStartSpec;
}

export interface WarmStartSpec {
  /** The prior study's name (on the same server). */
  readonly study: string;
}

/** Every objective of a study, in order: one for a Katib file, two or more with `objectives`. */
export function objectivesOf(objective: ObjectiveSpec): readonly ObjectiveTarget[] {
  return objective.objectives ?? [{ type: objective.type, objectiveMetricName: objective.objectiveMetricName }];
}

/** Every metric a study's trials report: the objectives' (in order), then the additional ones. */
export function metricNamesOf(objective: ObjectiveSpec): string[] {
  return [...objectivesOf(objective).map((o) => o.objectiveMetricName), ...objective.additionalMetricNames];
}

/** Katib's default metrics regex: group 1 is the name, group 2 the value. */
export const DEFAULT_METRICS_FORMAT = String.raw`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`;
