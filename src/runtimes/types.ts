// The contract between the scheduler and whatever runs trials (local processes, Kubernetes).
import type { Assignment } from '../model/trial.js';
import type { MetricsCollectorSpec, TrialTemplateSpec } from '../spec/types.js';

export interface LaunchRequest {
  readonly trialName: string;
  readonly studyName: string;
  readonly namespace: string;
  readonly assignment: Assignment;
  readonly template: TrialTemplateSpec;
  /** Where relative paths in the template resolve. */
  readonly baseDir: string;
  /** The trial keeps a checkpoint (pbt): the runtime gives it its own folder, started as a copy of its parent's. */
  readonly checkpoint?: CheckpointRequest;
  /** The study's collector: for File and TensorFlowEvent the runtime delivers the files at its path. */
  readonly metricsCollector?: MetricsCollectorSpec;
}

export interface CheckpointRequest {
  /** Where the trial expects its folder (Katib's `suggestion_trial_dir`, a mount path in the trial). */
  readonly mountPath: string;
  /** The trial of the same study whose folder this one starts as a copy of; none: it starts empty. */
  readonly parentTrial?: string;
}

export type TrialOutcome =
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'failed'; readonly reason: string; readonly message: string }
  /** Ended because `stop` was called. */
  | { readonly kind: 'stopped'; readonly reason: string };

export interface RuntimeListener {
  started(trialName: string, runtimeRef: string): void;
  output(trialName: string, line: string): void;
  /**
   * Bytes of a file the trial wrote at its collector's path (File, TensorFlowEvent), in file
   * order; `file` is relative to that path ('' for the File collector's one file). All of them
   * come before `finished`.
   */
  metricsData?(trialName: string, file: string, chunk: Buffer): void;
  /** A problem reading those files (none there, unreadable), for the trial's record. */
  metricsProblem?(trialName: string, problem: string): void;
  finished(trialName: string, outcome: TrialOutcome): void;
}

export interface TrialRuntime {
  /** Idempotent by trial name: launching a trial that is already running does nothing. */
  launch(request: LaunchRequest): Promise<void>;
  /** Stops a trial; `finished` follows with a `stopped` outcome. */
  stop(trialName: string, reason: string): Promise<void>;
  /**
   * After a restart: cleans up what a dead predecessor left behind, given what was launched for
   * each active trial. Returns the names of the trials that are still running and were
   * re-adopted; the rest are relaunched by the scheduler.
   */
  recover(active: readonly LaunchRequest[]): Promise<Set<string>>;
  /** Stops everything this runtime started and waits for it. */
  shutdown(reason: string): Promise<void>;
}
