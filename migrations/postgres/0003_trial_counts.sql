-- PostgreSQL's 0003_trial_counts (see ../0003_trial_counts.sql): the same per-study, per-state
-- counts, kept by one plpgsql trigger function. A state change touches two count rows; it locks
-- them in one fixed order (by state) first, so two transitions in opposite directions (start
-- and requeue) cannot deadlock on them.
CREATE TABLE trial_counts (
  study_id bigint NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
  state    text   NOT NULL,
  n        bigint NOT NULL,
  PRIMARY KEY (study_id, state)
);

INSERT INTO trial_counts (study_id, state, n) SELECT study_id, state, count(*) FROM trials GROUP BY study_id, state;

CREATE FUNCTION trial_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM 1 FROM trial_counts WHERE study_id = NEW.study_id AND state IN (OLD.state, NEW.state) ORDER BY state FOR UPDATE;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    UPDATE trial_counts SET n = n - 1 WHERE study_id = OLD.study_id AND state = OLD.state;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO trial_counts (study_id, state, n) VALUES (NEW.study_id, NEW.state, 1)
      ON CONFLICT (study_id, state) DO UPDATE SET n = trial_counts.n + 1;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER trial_counts_insert AFTER INSERT ON trials FOR EACH ROW EXECUTE FUNCTION trial_counts_follow();
CREATE TRIGGER trial_counts_update AFTER UPDATE OF state ON trials FOR EACH ROW
  WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION trial_counts_follow();
CREATE TRIGGER trial_counts_delete AFTER DELETE ON trials FOR EACH ROW EXECUTE FUNCTION trial_counts_follow();
