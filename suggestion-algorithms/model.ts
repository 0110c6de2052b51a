// What every suggestion algorithm sees: a search space, the trials so far, its settings. These
// are plain values owned here; nothing in this folder knows the study file, the store or the
// APIs (src/spec converts a study into these values and maps a SettingsError onto its field).

/** A parameter's value: a number for double/int/discrete, a string for categorical. */
export type ParamValue = number | string;
export type Assignment = Readonly<Record<string, ParamValue>>;

export type Distribution = 'uniform' | 'logUniform' | 'normal' | 'logNormal';

/** A numeric range: `double` or `int`. */
export interface RangeParameter {
  readonly name: string;
  readonly parameterType: 'double' | 'int';
  readonly min: number;
  readonly max: number;
  readonly step?: number;
  readonly distribution: Distribution;
  readonly condition?: Condition;
}

/** A finite list: `discrete` (numbers) or `categorical` (strings). */
export interface DiscreteParameter {
  readonly name: string;
  readonly parameterType: 'discrete';
  readonly list: readonly number[];
  readonly condition?: Condition;
}

export interface CategoricalParameter {
  readonly name: string;
  readonly parameterType: 'categorical';
  readonly list: readonly string[];
  readonly condition?: Condition;
}

/**
 * When a parameter is active (Vizier's conditional parameters): only while its `parent` is
 * active and the parent's value is one of `values` (a list parent, or an int) or lies within
 * [`min`, `max`] (a numeric parent; either bound may be open). An inactive parameter has no
 * value: it is absent from the assignment. A parameter without a condition is always active.
 */
export type Condition =
  | { readonly parent: string; readonly values: readonly ParamValue[] }
  | { readonly parent: string; readonly min?: number; readonly max?: number };

export type Parameter = RangeParameter | DiscreteParameter | CategoricalParameter;

export type Direction = 'minimize' | 'maximize';

export interface SearchSpace {
  readonly parameters: readonly Parameter[];
  /** Which way the objective is better (the first objective, in a multi-objective study). */
  readonly direction: Direction;
  /** A multi-objective study: each objective's direction, two or more (`direction` is the first). */
  readonly directions?: readonly Direction[];
}

export const TRIAL_STATES = [
  'CREATED',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'KILLED',
  'EARLY_STOPPED',
  'METRICS_UNAVAILABLE',
] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

/** What an algorithm sees of a trial. */
export interface TrialView {
  readonly name: string;
  readonly state: TrialState;
  readonly assignment: Assignment;
  /** The objective's strategy value, for trials that completed with one. */
  readonly objectiveValue?: number;
  /** A multi-objective study: each objective's value, in the order of `SearchSpace.directions`. */
  readonly objectiveValues?: readonly number[];
  /**
   * Outcome constraints (set for completed trials of a study with constraints): false when the
   * trial broke one. `violation` is how far past the bounds it went, summed (0 when feasible;
   * absent when a constraint's metric never came, the worst case). See `constraints.ts`.
   */
  readonly feasible?: boolean;
  readonly violation?: number;
  /** What the algorithm attached to the trial when it proposed it (Katib's trial labels; pbt uses them). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** An algorithm's settings as Katib carries them: names and string values, in order. */
export type Settings = readonly { readonly name: string; readonly value: string }[];

/** What a settings error is about: one setting, one parameter (by index), or the space as a whole. */
export type SettingsErrorTarget =
  | { readonly setting: string }
  | { readonly parameter: number; readonly field?: 'step' }
  | { readonly space: true };

/** A setting or a space this algorithm cannot serve, with the reason. */
export class SettingsError extends Error {
  override name = 'SettingsError';
  constructor(
    readonly target: SettingsErrorTarget,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface SuggestRequest {
  readonly space: SearchSpace;
  /** Every trial so far, active ones included, in creation order. */
  readonly trials: readonly TrialView[];
  readonly count: number;
  readonly seed: number;
  readonly settings: Settings;
  /** What this algorithm returned as state last time. */
  readonly state?: Readonly<Record<string, string>>;
  /**
   * The caller refuses fewer than `count` assignments (Katib's controller does): an algorithm
   * that would otherwise wait for running trials (pbt between generations) serves extra work.
   */
  readonly fill?: boolean;
  /**
   * Completed trials of earlier studies (a study's `warmStart`, Vizier's prior studies): model-
   * based algorithms learn from them as observations; they were never run here, are not part
   * of `trials` and count against nothing. Random and grid ignore them.
   */
  readonly priorTrials?: readonly TrialView[];
}

export interface SuggestResult {
  readonly assignments: Assignment[];
  /** Labels for the new trials, aligned with `assignments` (Katib's GetSuggestionsReply labels). */
  readonly labels?: readonly (Readonly<Record<string, string>> | undefined)[];
  readonly state?: Record<string, string>;
  /** True when the space holds no point that is not already among the trials. */
  readonly exhausted?: boolean;
}

/**
 * A suggestion algorithm is a pure function of its input: it opens no files or sockets and
 * rebuilds whatever history it needs from `trials` on every call, so restarts change nothing.
 */
export interface SuggestionAlgorithm {
  readonly name: string;
  /**
   * Serves multi-objective studies (`SearchSpace.directions`): the multi-objective algorithms,
   * and those that never read values (random, grid, sobol). Others are refused for them.
   */
  readonly multiObjective?: boolean;
  /** Throws SettingsError for settings or spaces this algorithm cannot serve. */
  validateSettings(space: SearchSpace, settings: Settings): void;
  suggest(request: SuggestRequest): SuggestResult;
  /**
   * Parameters whose values the algorithm always sets itself (hyperband's resource), so their
   * feasible space is never sampled: the study may give them a one-point range (min = max), as
   * Katib's own hyperband example does.
   */
  overwrittenParameters?(settings: Settings): readonly string[];
}
