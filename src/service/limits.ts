// Bounds on what one request may ask for; documented in the README's API section.
export const LIMITS = {
  /** REST request bodies and gRPC messages. */
  maxBodyBytes: 4 * 1024 * 1024,
  defaultPageSize: 50,
  maxPageSize: 1000,
  /** Observations per ReportObservations call. */
  maxObservationBatch: 10_000,
  /** Trials per SuggestTrials call. */
  maxSuggestCount: 100,
  /** Lines per trial log tail (GET /api/v1/trials/:name/log?tail=N). */
  maxLogTailLines: 10_000,
} as const;
