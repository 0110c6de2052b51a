-- Ask/tell heartbeats (Optuna's model): an external study may set a deadline; a trial whose
-- client neither reports nor beats within it fails (HeartbeatExpired) and its assignment is
-- queued again as a new CREATED trial with no client, which the next asking client takes.
ALTER TABLE studies ADD COLUMN heartbeat_seconds INTEGER CHECK (heartbeat_seconds IS NULL OR heartbeat_seconds > 0);
ALTER TABLE trials ADD COLUMN heartbeat_at TEXT;

-- Queued ask/tell trials, in order: what a client is handed before anything new.
CREATE INDEX trials_queued ON trials (study_id, seq) WHERE state = 'CREATED' AND runtime_ref IS NULL;
