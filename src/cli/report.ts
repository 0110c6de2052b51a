// What the CLI prints about studies and trials: plain tables for people, JSON for programs.
import type { StudyRecord, Store, TrialRecord } from '../store/store.js';
import { formatValue } from '../spec/template.js';

export function trialJson(store: Store, t: TrialRecord) {
  return {
    name: t.name,
    state: t.state,
    reason: t.reason ?? null,
    message: t.message ?? null,
    assignment: t.assignment,
    objectiveValue: t.objectiveValue ?? null,
    metrics: store.metricSummaries(t.id).map(({ name, min, max, latest }) => ({ name, min, max, latest })),
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    completedAt: t.completedAt ?? null,
  };
}

export function studyJson(store: Store, s: StudyRecord) {
  const counts = store.trialCounts(s.id);
  const best = store.bestTrial(s.id, s.spec.objective.type);
  return {
    name: s.name,
    state: s.state,
    reason: s.reason ?? null,
    message: s.message ?? null,
    algorithm: s.spec.algorithm.algorithmName,
    objective: { type: s.spec.objective.type, metric: s.spec.objective.objectiveMetricName, goal: s.spec.objective.goal ?? null },
    maxTrialCount: s.spec.maxTrialCount ?? null,
    parallelTrialCount: s.spec.parallelTrialCount,
    trials: counts,
    best: best ? { trial: best.name, value: best.objectiveValue ?? null, assignment: best.assignment } : null,
    createdAt: s.createdAt,
    completedAt: s.completedAt ?? null,
  };
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export const formatNumber = (v: number | undefined): string =>
  v === undefined ? '-' : Number.isInteger(v) ? String(v) : Number(v.toPrecision(6)).toString();

function duration(t: TrialRecord): string {
  if (!t.startedAt) return '-';
  const end = t.completedAt ? Date.parse(t.completedAt) : Date.now();
  return `${((end - Date.parse(t.startedAt)) / 1000).toFixed(1)}s`;
}

export function trialsTable(store: Store, study: StudyRecord, trials: readonly TrialRecord[]): string {
  const params = study.spec.parameters.map((p) => p.name);
  const metric = study.spec.objective.objectiveMetricName;
  const best = store.bestTrial(study.id, study.spec.objective.type);
  const rows = trials.map((t) => [
    `${t.name}${best?.id === t.id ? ' *' : ''}`,
    t.state,
    ...params.map((p) => formatValue(t.assignment[p])),
    formatNumber(t.objectiveValue),
    duration(t),
  ]);
  return table(['trial', 'state', ...params, metric, 'time'], rows);
}

export function bestText(store: Store, study: StudyRecord): string {
  const best = store.bestTrial(study.id, study.spec.objective.type);
  const metric = study.spec.objective.objectiveMetricName;
  if (!best) return `No trial of ${study.name} has a ${metric} value yet.`;
  const assignment = study.spec.parameters.map((p) => `${p.name}=${formatValue(best.assignment[p.name])}`).join(' ');
  return `Best trial ${best.name}: ${metric}=${formatNumber(best.objectiveValue)} with ${assignment}`;
}

export function studiesTable(store: Store, studies: readonly StudyRecord[]): string {
  const rows = studies.map((s) => {
    const j = studyJson(store, s);
    const done = Object.entries(j.trials).filter(([k]) => k !== 'CREATED' && k !== 'RUNNING').reduce((a, [, n]) => a + n, 0);
    return [s.name, s.state, s.reason ?? '-', j.algorithm, `${done}/${j.maxTrialCount ?? '∞'}`, String(j.trials.RUNNING), formatNumber(j.best?.value ?? undefined)];
  });
  return table(['study', 'state', 'reason', 'algorithm', 'completed', 'running', 'best'], rows);
}
