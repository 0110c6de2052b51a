-- Multi-objective studies (spec.objective.objectives): each completed trial's value per
-- objective, a JSON array of numbers in the objectives' order, written by the transition that
-- completes the trial (objective_value keeps the first objective's, as Katib's shapes show it).
-- NULL for single-objective studies and for trials that did not complete with every value.
-- The same statement on PostgreSQL.
ALTER TABLE trials ADD COLUMN objective_values_json TEXT;
