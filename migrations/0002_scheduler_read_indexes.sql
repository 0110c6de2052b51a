-- Indexes for the reads the scheduler makes on every pass, so that they cost the same at trial
-- 10,000 as at trial 10. Without them, activeTrials walks every trial of the study in seq order
-- and bestTrial sorts every succeeded trial.

-- activeTrials: only CREATED/RUNNING rows, already in seq order. The WHERE must match the
-- query's `state IN ('CREATED', 'RUNNING')` for SQLite to use it.
CREATE INDEX trials_active ON trials (study_id, seq) WHERE state IN ('CREATED', 'RUNNING');

-- bestTrial: the lowest (or highest) objective value is the first (or last) entry; ties by seq.
CREATE INDEX trials_best ON trials (study_id, objective_value, seq) WHERE state = 'SUCCEEDED' AND objective_value IS NOT NULL;
