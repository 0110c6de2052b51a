-- PostgreSQL's 0005_trial_metrics (see ../0005_trial_metrics.sql): 8-byte values, bigint counts
-- and steps; the backfill is the same query.
CREATE TABLE trial_metrics (
  trial_id     bigint NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  metric_name  text   NOT NULL,
  n            bigint NOT NULL,
  min_value    double precision NOT NULL,
  max_value    double precision NOT NULL,
  latest_value double precision NOT NULL,
  max_step     bigint NOT NULL,
  PRIMARY KEY (trial_id, metric_name)
);

INSERT INTO trial_metrics (trial_id, metric_name, n, min_value, max_value, latest_value, max_step)
  SELECT trial_id, metric_name, count(*), min(value), max(value),
    (SELECT o2.value FROM observations o2 WHERE o2.trial_id = o.trial_id AND o2.metric_name = o.metric_name ORDER BY o2.id DESC LIMIT 1),
    max(step)
  FROM observations o GROUP BY trial_id, metric_name;
