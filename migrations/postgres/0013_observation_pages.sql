-- GET /trials/:name/observations reads a trial's observations a page at a time, in recorded
-- order (id): a range of this index, where (trial_id, metric_name, id) would sort them all.
CREATE INDEX observations_by_trial ON observations (trial_id, id);
