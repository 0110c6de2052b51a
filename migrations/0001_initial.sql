-- Studies, trials and their observations. Timestamps are ISO 8601 strings in UTC.

CREATE TABLE studies (
  id              INTEGER PRIMARY KEY,
  name            TEXT    NOT NULL UNIQUE,
  spec_json       TEXT    NOT NULL,
  -- Where relative paths in the trial template resolve (the study file's folder).
  base_dir        TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'STOPPED')),
  reason          TEXT,
  message         TEXT,
  seed            INTEGER NOT NULL,
  -- What the algorithm returned as state last time (JSON object of strings).
  algorithm_state TEXT,
  created_at      TEXT    NOT NULL,
  started_at      TEXT,
  completed_at    TEXT
);

CREATE TABLE trials (
  id              INTEGER PRIMARY KEY,
  study_id        INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  name            TEXT    NOT NULL UNIQUE,
  assignment_json TEXT    NOT NULL,
  state           TEXT    NOT NULL CHECK (state IN ('CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'KILLED', 'EARLY_STOPPED', 'METRICS_UNAVAILABLE')),
  reason          TEXT,
  message         TEXT,
  -- The runtime's handle on the running trial (a process group id, a Kubernetes object).
  runtime_ref     TEXT,
  -- The objective's strategy value, fixed when the trial completes (as Katib's status.observation).
  objective_value REAL CHECK (objective_value IS NULL OR (objective_value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308)),
  attempts        INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT    NOT NULL,
  started_at      TEXT,
  completed_at    TEXT,
  UNIQUE (study_id, seq)
);
CREATE INDEX trials_by_study_state ON trials (study_id, state);

CREATE TABLE observations (
  id          INTEGER PRIMARY KEY,
  trial_id    INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
  metric_name TEXT    NOT NULL,
  step        INTEGER NOT NULL,
  -- Finite values only: NaN binds as NULL, ±Infinity falls outside the range.
  value       REAL    NOT NULL CHECK (value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308),
  time        TEXT    NOT NULL
);
CREATE INDEX observations_by_trial_metric ON observations (trial_id, metric_name, id);
