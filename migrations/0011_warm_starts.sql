-- Warm starts. enqueued_trials: assignments waiting to run before the algorithm's suggestions
-- (spec.enqueuedTrials, or enqueued over the API), oldest id first; a row is deleted in the
-- transaction that creates its trial, so none runs twice and none is lost. prior_trials: the
-- completed trials of the study named by spec.warmStart, copied when the study is created
-- (the prior study may be deleted later), which the algorithm learns from without running them.

CREATE TABLE enqueued_trials (
  id              INTEGER PRIMARY KEY,
  study_id        INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  assignment_json TEXT    NOT NULL,
  created_at      TEXT    NOT NULL
);
CREATE INDEX enqueued_trials_by_study ON enqueued_trials (study_id, id);

CREATE TABLE prior_trials (
  study_id        INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  seq             INTEGER NOT NULL,
  -- The prior trial's name (`<prior study>-NNNN`), for the record.
  name            TEXT    NOT NULL,
  assignment_json TEXT    NOT NULL,
  objective_value REAL    NOT NULL CHECK (objective_value BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308),
  PRIMARY KEY (study_id, seq)
);
