-- Which runtime runs a study's trials: `local` processes, `kubernetes` objects, or `external`
-- (ask/tell: a client asks for trials, runs them itself and reports back).
ALTER TABLE studies ADD COLUMN runtime TEXT NOT NULL DEFAULT 'local' CHECK (runtime IN ('local', 'external', 'kubernetes'));

-- An external trial's client ("client:<id>" lives in runtime_ref): its active trials, fast.
CREATE INDEX trials_by_runtime_ref ON trials (study_id, runtime_ref) WHERE state IN ('CREATED', 'RUNNING');

-- Katib's DBManager observation log, verbatim: any trial name, values as the strings Katib
-- sends (including its "unavailable" sentinel), RFC 3339 times. Values that name one of
-- Sibyl's trials and parse as finite numbers also become that trial's observations.
CREATE TABLE observation_logs (
  id          INTEGER PRIMARY KEY,
  trial_name  TEXT NOT NULL,
  metric_name TEXT NOT NULL,
  value       TEXT NOT NULL,
  time        TEXT NOT NULL,
  -- The time as sortable UTC milliseconds, for the start/end filters.
  time_ms     INTEGER NOT NULL
);
CREATE INDEX observation_logs_by_trial ON observation_logs (trial_name, time_ms, id);
