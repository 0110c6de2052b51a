-- PostgreSQL's 0012_outcome_constraints (see ../0012_outcome_constraints.sql): the violation is an
-- 8-byte value, the checks and the index are the same.
ALTER TABLE trials ADD COLUMN feasible smallint CHECK (feasible IN (0, 1));
ALTER TABLE trials ADD COLUMN violation double precision CHECK (
  -- Spelled NULL-safe: a CHECK that comes out NULL would pass.
  (feasible IS NULL AND violation IS NULL)
  OR (feasible IS NOT NULL AND feasible = 1 AND violation IS NOT NULL AND violation = 0)
  OR (feasible IS NOT NULL AND feasible = 0 AND (violation IS NULL OR violation > 0)));

DROP INDEX trials_best;
CREATE INDEX trials_best ON trials (study_id, objective_value, seq)
  WHERE state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL AND coalesce(feasible, 1) = 1;
