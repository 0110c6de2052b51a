// What every early-stopping policy sees (Vizier's `early_stop(request)`): the objective's
// curve of every trial that reported one, and the trial to decide on. Values in, a decision
// out: a policy opens nothing and keeps nothing, so a restart takes the same decisions.
import type { Direction, Settings, TrialState } from '../model.js';

/** One trial's objective reports in step order, one value per step (the last one reported at it). */
export interface Curve {
  readonly steps: readonly number[];
  readonly values: readonly number[];
}

export interface CurveView {
  readonly name: string;
  readonly state: TrialState;
  readonly curve: Curve;
}

export interface StopRequest {
  readonly direction: Direction;
  readonly settings: Settings;
  /** Every trial of the study with at least one report of the objective, the decided one included. */
  readonly trials: readonly CurveView[];
  /** The active trial to decide on. */
  readonly trial: string;
  /**
   * The trial's highest step already judged (0 before its first decision): a policy judges the
   * steps after it only, so a decision taken once is never taken again differently.
   */
  readonly judgedThrough: number;
}

export type StopDecision =
  | { readonly stop: false }
  /** `step` is the report the decision was taken at; `reason` says why, for people. */
  | { readonly stop: true; readonly step: number; readonly reason: string };

/** A rule in Katib's format: the sidecar stops a trial whose best value so far, after `startStep` reports, compares so. */
export interface KatibRule {
  readonly value: number;
  readonly comparison: 'EQUAL' | 'LESS' | 'GREATER';
  readonly startStep: number;
}

export interface EarlyStoppingPolicy {
  readonly name: string;
  /** Throws SettingsError naming the setting at fault. */
  validateSettings(settings: Settings): void;
  decide(request: StopRequest): StopDecision;
  /** The policy as static rules for Katib's metrics collector (none until it has enough history). */
  katibRules(request: Omit<StopRequest, 'trial' | 'judgedThrough'>): KatibRule[];
}

export const CONTINUE: StopDecision = { stop: false };

/** The better of two objective values. */
export const better = (direction: Direction, a: number, b: number): number => (direction === 'maximize' ? Math.max(a, b) : Math.min(a, b));

/** True when `a` is strictly worse than `b`. */
export const worse = (direction: Direction, a: number, b: number): boolean => (direction === 'maximize' ? a < b : a > b);
