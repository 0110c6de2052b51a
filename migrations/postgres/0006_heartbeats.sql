-- PostgreSQL's 0006_heartbeats (see ../0006_heartbeats.sql): heartbeat_at is compared with
-- started_at (coalesce), so it takes the same byte-wise collation as the other time columns.
ALTER TABLE studies ADD COLUMN heartbeat_seconds integer CHECK (heartbeat_seconds IS NULL OR heartbeat_seconds > 0);
ALTER TABLE trials ADD COLUMN heartbeat_at text COLLATE "C";

CREATE INDEX trials_queued ON trials (study_id, seq) WHERE state = 'CREATED' AND runtime_ref IS NULL;
