-- Per trial and metric: the running aggregates of its observations, written by the store in
-- the same transaction as the observations (one upsert per metric per batch, not per row).
-- They make the reads that were walks over every observation of a trial O(1):
--   maxStep      the default step of a point reported without one: once per metric per
--                ReportObservations call, it was a walk costing ~0.7 ms per 10,000 points already
--                stored for that trial and metric (7 ms at 100,000)
--   summaries    the `metrics` of every trial in GetTrial/ListTrials responses
--   strategy     min/max/latest when a trial completes
CREATE TABLE trial_metrics (
  trial_id     INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  metric_name  TEXT    NOT NULL,
  n            INTEGER NOT NULL,
  min_value    REAL    NOT NULL,
  max_value    REAL    NOT NULL,
  -- The value of the observation with the largest id.
  latest_value REAL    NOT NULL,
  max_step     INTEGER NOT NULL,
  PRIMARY KEY (trial_id, metric_name)
) WITHOUT ROWID;

INSERT INTO trial_metrics (trial_id, metric_name, n, min_value, max_value, latest_value, max_step)
  SELECT trial_id, metric_name, count(*), min(value), max(value),
    (SELECT o2.value FROM observations o2 WHERE o2.trial_id = o.trial_id AND o2.metric_name = o.metric_name ORDER BY o2.id DESC LIMIT 1),
    max(step)
  FROM observations o GROUP BY trial_id, metric_name;
