-- GET /trials/:name/observations reads a trial's observations a page at a time, in recorded
-- order (id). The (trial_id, metric_name, id) index orders by metric first, so a page would sort
-- all of a trial's observations (millions, for a trial that prints a metric every batch).
-- An index on trial_id holds the rowid after it: pages are a range of it.
CREATE INDEX observations_by_trial ON observations (trial_id);
