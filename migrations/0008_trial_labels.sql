-- Labels an algorithm attaches to the trials it proposes (a JSON object of strings), as Katib's
-- GetSuggestionsReply carries them onto its Trials: pbt records each trial's generation and
-- the parent trial whose checkpoint it starts from. NULL: no labels.
ALTER TABLE trials ADD COLUMN labels_json TEXT;
