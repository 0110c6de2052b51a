-- Outcome constraints (objective.constraints, e.g. latency <= 20): a completed trial's standing,
-- fixed in the same UPDATE that ends it. NULL in both columns: not judged (its study has no
-- constraints, or it has not completed). feasible = 1: every bound held, violation 0.
-- feasible = 0: a bound broke; violation is how far past the bounds it went (summed, > 0), or
-- NULL when a constraint's metric was never reported (unknown, ranked worst).
ALTER TABLE trials ADD COLUMN feasible INTEGER CHECK (feasible IN (0, 1));
ALTER TABLE trials ADD COLUMN violation REAL CHECK (
  -- Spelled NULL-safe: a CHECK that comes out NULL would pass.
  (feasible IS NULL AND violation IS NULL)
  OR (feasible IS NOT NULL AND feasible = 1 AND violation IS NOT NULL AND violation = 0)
  OR (feasible IS NOT NULL AND feasible = 0 AND (violation IS NULL OR violation > 0)));

-- The best trial is a feasible one: the partial index holds only the candidates (SQLite uses a
-- partial index when the query repeats its terms, so bestTrial's WHERE spells them the same).
DROP INDEX trials_best;
CREATE INDEX trials_best ON trials (study_id, objective_value, seq)
  WHERE state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL AND coalesce(feasible, 1) = 1;
