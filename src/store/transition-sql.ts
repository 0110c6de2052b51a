// The guarded UPDATE of each named transition (src/model/transitions.ts), written once for both
// backends: `WHERE state IN (from)` makes a lost race change no row. Parameters are named
// (`@id`, `@now`, …), as better-sqlite3 binds them; PostgreSQL numbers them (see `numbered`).
import type { StudyState, TrialState } from '../model/trial.js';

const sqlList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/** One guarded UPDATE per trial transition, shaped by the state it enters. */
export function trialTransitionSql(from: readonly TrialState[], to: TrialState): string {
  const set = to === 'RUNNING'
    ? `state = 'RUNNING', runtime_ref = @ref, attempts = attempts + 1, started_at = coalesce(started_at, @now), heartbeat_at = @now`
    : to === 'CREATED'
      ? `state = 'CREATED', runtime_ref = NULL`
      : `state = '${to}', reason = @reason, message = @message, objective_value = @value, objective_values_json = @values, feasible = @feasible, violation = @violation, completed_at = @now`;
  return `UPDATE trials SET ${set} WHERE id = @id AND state IN (${sqlList(from)})`;
}

/** Entering RUNNING keeps the first start and clears an end (a reopened study); an end records when. */
export function studyTransitionSql(t: { from: readonly StudyState[]; to: StudyState; fromReasons?: readonly string[] }): string {
  const set = t.to === 'RUNNING'
    ? `state = 'RUNNING', reason = NULL, message = NULL, started_at = coalesce(started_at, @now), completed_at = NULL`
    : `state = '${t.to}', reason = @reason, message = @message, completed_at = @now`;
  const reasons = t.fromReasons ? ` AND reason IN (${sqlList(t.fromReasons)})` : '';
  return `UPDATE studies SET ${set} WHERE id = @id AND state IN (${sqlList(t.from)})${reasons}`;
}

/**
 * The same statement with `$1…$n` for its named parameters, and the names in that order
 * (PostgreSQL refuses values for parameters a statement does not use).
 */
export function numbered(sql: string): { text: string; names: string[] } {
  const names: string[] = [];
  const text = sql.replace(/@([a-z]\w*)/gi, (_, name: string) => {
    const at = names.indexOf(name);
    return `$${at >= 0 ? at + 1 : names.push(name)}`;
  });
  return { text, names };
}
