-- Early stopping: a policy's decision to stop an active trial, recorded before the trial is
-- stopped (so a restart keeps it): the step it was taken at and why. The trial then ends
-- EARLY_STOPPED; an ask/tell trial ends so at its client's next report or completion.
ALTER TABLE trials ADD COLUMN stop_step INTEGER;
ALTER TABLE trials ADD COLUMN stop_message TEXT;

-- An early-stopped trial completed with the value it reached (Katib counts it for the optimal
-- trial): bestTrial's partial index covers both states.
DROP INDEX trials_best;
CREATE INDEX trials_best ON trials (study_id, objective_value, seq)
  WHERE state IN ('SUCCEEDED', 'EARLY_STOPPED') AND objective_value IS NOT NULL;
