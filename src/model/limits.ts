// The one set of bounds on what a client may send or ask for, applied by the service layer
// (src/service, with src/spec for study documents) for every adapter: REST, sibyl.v1, Katib's
// API, the CLI and the push intake. Each is within what the wire types carry (int32 on gRPC)
// and what one machine can do; the README's "Limits" lists them.
export const LIMITS = {
  /** REST request bodies and gRPC messages. */
  maxBodyBytes: 4 * 1024 * 1024,
  defaultPageSize: 50,
  maxPageSize: 1000,
  /** Observations per ReportObservations / ReportObservationLog call. */
  maxObservationBatch: 10_000,
  /** Trials per ask/tell SuggestTrials call. */
  maxSuggestCount: 100,
  /** Assignments per Katib GetSuggestions call (Katib asks for up to parallelTrialCount). */
  maxKatibSuggestions: 1000,
  /** Trials a Katib GetSuggestions request may carry as history. */
  maxKatibTrials: 100_000,
  /** An observation's step: 0 to this (steps are exact integers in a double). */
  maxStep: Number.MAX_SAFE_INTEGER,
  /** Observations per page of GET /trials/:name/observations (also its default: most trials fit in one). */
  maxObservationPage: 10_000,
  /** A trial log file's size before it rotates to <trial>.log.1: the newest 32 to 64 MiB of a trial's output are kept. */
  maxTrialLogBytes: 32 * 1024 * 1024,
  /** Lines per trial log tail (GET /api/v1/trials/:name/log?tail=N). */
  maxLogTailLines: 10_000,

  /** spec.maxTrialCount and spec.maxFailedTrialCount. */
  maxTrialCount: 1_000_000,
  /** spec.parallelTrialCount: trials active at once. */
  maxParallelTrialCount: 1000,

  /** Any name a call refers to (study, trial) before it is looked up; study names are at most 40 (Katib's rule). */
  maxNameLength: 253,
  maxClientIdLength: 200,
  /** Metric names, parameter names, setting names and values, trialParameter names. */
  maxIdentifierLength: 253,
  /** Any other string in a study document (a categorical value, a command argument, a regex…). */
  maxStringLength: 64 * 1024,
  /** A reason given with an infeasible trial. */
  maxReasonLength: 10_000,
  maxParameters: 100,
  /** spec.objective.objectives of a multi-objective study. */
  maxObjectives: 8,
  /** Items of a discrete or categorical parameter's list. */
  maxListItems: 10_000,
  /** Additional metrics, algorithm settings, trialParameters, metricsFormat regexes. */
  maxListEntries: 1000,
  /** A metricsFormat regex, and how many a study may give (each runs on every metrics line). */
  maxRegexLength: 4096,
  maxMetricsFormats: 16,
  /** Outcome constraints of a study (objective.constraints). */
  maxConstraints: 100,
  /** Levels of nesting in a study document (a trialSpec is a Kubernetes object: a dozen is plenty). */
  maxDocumentDepth: 64,
  /** YAML aliases in a study text (each one expands; many of them would make a small text huge). */
  maxYamlAliases: 100,
  /** |min| and |max| of a range (so that max − min and every transform of it stay finite). */
  maxRangeMagnitude: 1e300,
  /** Grid steps in a stepped range, (max − min) / step, so that every grid point's index is an exact integer. */
  maxStepsPerRange: Number.MAX_SAFE_INTEGER,

  /** Assignments in spec.enqueuedTrials, per enqueue call, and waiting in one study's queue. */
  maxEnqueuedTrials: 1000,
  /** Completed trials of a warm-start study taken as prior observations (its best ones beyond this). */
  maxPriorTrials: 2000,
  /** Parameter importance: completed trials the forest is fitted on (the latest ones beyond this), and its trees. */
  maxImportanceTrials: 1000,
  importanceTrees: 64,

  /** Ask/tell heartbeat deadline, in seconds. */
  minHeartbeatSeconds: 1,
  maxHeartbeatSeconds: 7 * 24 * 3600,
} as const;

/** At most `max` characters of an untrusted string, for an error message. */
export function excerpt(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;
}
