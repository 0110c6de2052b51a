// What the CLI prints about studies and trials: plain tables for people (the same whether
// the data comes from the local store or from a server), JSON for programs.
import { feasibilityText } from '../model/constraints.js';
import { completedCount } from '../scheduler/policy.js';
import { formatValue } from '../spec/template.js';
import type { StudyShape, TrialShape } from '../service/shapes.js';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const formatNumber = (v: number | undefined | null): string =>
  v === undefined || v === null ? '-' : Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();

function duration(t: TrialShape): string {
  if (!t.startedAt) return '-';
  const end = t.completedAt ? Date.parse(t.completedAt) : Date.now();
  return `${((end - Date.parse(t.startedAt)) / 1000).toFixed(1)}s`;
}

/**
 * The trials; with an early-stopping policy the step each stopped trial was stopped at, and with
 * outcome constraints whether each is feasible.
 */
export function trialsTable(study: StudyShape, trials: readonly TrialShape[]): string {
  const params = study.spec.parameters.map((p) => p.name);
  const stopping = study.earlyStopping !== null;
  const constrained = (study.spec.objective.constraints?.length ?? 0) > 0;
  const rows = trials.map((t) => [
    `${t.name}${study.best?.trial === t.name ? ' *' : ''}`,
    t.state,
    ...params.map((p) => formatValue(t.assignment[p])),
    formatNumber(t.objectiveValue),
    ...(constrained ? [feasibilityText(t.feasible, t.violation)] : []),
    ...(stopping ? [t.stoppedAtStep === null ? '-' : `step ${t.stoppedAtStep}`] : []),
    duration(t),
  ]);
  const rendered = table(['trial', 'state', ...params, study.objective.metric, ...(constrained ? ['feasible'] : []), ...(stopping ? ['stopped'] : []), 'time'], rows);
  return study.earlyStopping ? `${rendered}\n\n${earlyStoppingText(study.earlyStopping)}` : rendered;
}

/** What the policy saved: steps the stopped trials did not run. */
export function earlyStoppingText(e: NonNullable<StudyShape['earlyStopping']>): string {
  const share = e.stepsRun + e.stepsSaved > 0 ? ` (${Math.round((100 * e.stepsSaved) / (e.stepsRun + e.stepsSaved))}% of the budget)` : '';
  return `Early stopping (${e.algorithm}): ${e.trialsStopped} trials stopped, ${e.stepsRun} steps run, ${e.stepsSaved} steps saved${share}`;
}

export function bestText(study: StudyShape): string {
  const best = study.best;
  const metric = study.objective.metric;
  if (!best) {
    const constrained = (study.spec.objective.constraints?.length ?? 0) > 0;
    return `No ${constrained ? 'feasible ' : ''}trial of ${study.name} has a ${metric} value yet.`;
  }
  // An inactive conditional parameter has no value: it is left out, not shown empty.
  const assignment = study.spec.parameters.filter((p) => best.assignment[p.name] !== undefined).map((p) => `${p.name}=${formatValue(best.assignment[p.name])}`).join(' ');
  return `Best trial ${best.trial}: ${metric}=${formatNumber(best.value)} with ${assignment}`;
}

/** A multi-objective study's Pareto front: one row per trial, each objective's value and the assignment. */
export function paretoText(study: StudyShape, front: readonly TrialShape[]): string {
  const objectives = study.objective.objectives;
  if (front.length === 0) return `No trial of ${study.name} has completed with every objective (${objectives.map((o) => o.metric).join(', ')}) yet.`;
  const params = study.spec.parameters.map((p) => p.name);
  const rows = front.map((t) => [t.name, ...objectives.map((_, i) => formatNumber(t.objectiveValues?.[i])), ...params.map((p) => formatValue(t.assignment[p]))]);
  const heading = `Pareto front of ${study.name}: ${front.length} trial${front.length === 1 ? '' : 's'} (${objectives.map((o) => `${o.type} ${o.metric}`).join(', ')})`;
  return `${heading}\n${table(['trial', ...objectives.map((o) => o.metric), ...params], rows)}`;
}

export function studiesTable(studies: readonly StudyShape[]): string {
  const rows = studies.map((s) => [
    s.name, s.state, s.reason ?? '-', s.algorithm, `${completedCount(s.trials)}/${s.maxTrialCount ?? '∞'}`,
    String(s.trials.RUNNING), formatNumber(s.best?.value),
  ]);
  return table(['study', 'state', 'reason', 'algorithm', 'completed', 'running', 'best'], rows);
}

/** Parameter importance, most important first, with a bar for the eye. */
export function importanceTable(result: { readonly parameters: readonly { name: string; importance: number; mainEffect: number }[]; readonly trials: number }): string {
  const rows = result.parameters.map((p) => [p.name, p.importance.toFixed(3), p.mainEffect.toFixed(3), '#'.repeat(Math.round(p.importance * 40))]);
  return `${table(['parameter', 'importance', 'main effect', ''], rows)}\n\nfANOVA on a random forest of ${result.trials} completed trials (main effect: the share of the variance the parameter explains alone)`;
}
