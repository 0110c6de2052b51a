-- PostgreSQL's 0007_early_stopping (see ../0007_early_stopping.sql): stop_step is a step (bigint).
ALTER TABLE trials ADD COLUMN stop_step bigint;
ALTER TABLE trials ADD COLUMN stop_message text;

DROP INDEX trials_best;
CREATE INDEX trials_best ON trials (study_id, objective_value, seq)
  WHERE state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL;
