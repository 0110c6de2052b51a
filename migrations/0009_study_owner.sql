-- The Kubernetes object a study was created from ("<apiVersion> <kind> <namespace>/<name> <uid>"),
-- so a restarted controller adopts the study of the very Experiment that made it and never takes
-- over a study of the same name made through the API or by an earlier, deleted object.
-- NULL: created through the API or the CLI.
ALTER TABLE studies ADD COLUMN owner TEXT;
