// A multi-objective study's plots: the Pareto front (two objectives at a time: every completed
// trial, the front highlighted and connected) and the hypervolume history. The front is decided
// by the one rule the server uses (suggestion-algorithms/pareto.ts).
import { hypervolume, minimized, paretoFront } from '../../../suggestion-algorithms/pareto.js';
import { fmtNumber } from './dom.js';
import { tooltipText } from './charts.js';
import type { Study, Trial } from './types.js';

type Option = Record<string, unknown>;
const TEXT = '#1f2328';
const AXIS = { axisLine: { lineStyle: { color: '#57606a' } }, axisLabel: { color: TEXT }, nameTextStyle: { color: TEXT } };

const directionsOf = (study: Study) => study.objective.objectives.map((o) => o.type);
const view = (t: Trial) => ({
  name: t.name, state: t.state, assignment: t.assignment,
  ...(t.objectiveValues ? { objectiveValues: t.objectiveValues } : {}),
  ...(t.feasible === false ? { feasible: false } : {}), // infeasible trials are never on the front
});

/** The names of the trials on the study's Pareto front, in creation order. */
export function frontNames(study: Study, trials: Iterable<Trial>): Set<string> {
  return new Set(paretoFront([...trials].map(view), directionsOf(study)).map((t) => t.name));
}

/** Scatter of every completed trial on objectives (a, b), the front's trials highlighted and joined in order of a. */
export function paretoOption(study: Study, done: readonly Trial[], [a, b]: readonly [number, number]): Option {
  const objectives = study.objective.objectives;
  const withValues = done.filter((t) => t.objectiveValues !== null);
  const front = frontNames(study, withValues);
  const point = (t: Trial): [number, number, string] => [t.objectiveValues![a]!, t.objectiveValues![b]!, t.name];
  const frontPoints = withValues.filter((t) => front.has(t.name)).map(point).sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  const others = withValues.filter((t) => !front.has(t.name)).map(point);
  const tip = (p: { data: [number, number, string] }) =>
    tooltipText(p.data[2], `${objectives[a]!.metric} = ${fmtNumber(p.data[0])}`, `${objectives[b]!.metric} = ${fmtNumber(p.data[1])}`);
  return {
    animation: false,
    textStyle: { color: TEXT },
    grid: { left: 64, right: 24, top: 36, bottom: 44 },
    legend: { top: 0, textStyle: { color: TEXT } },
    tooltip: { trigger: 'item', formatter: tip },
    xAxis: { type: 'value', name: `${objectives[a]!.metric} (${objectives[a]!.type})`, nameLocation: 'middle', nameGap: 26, scale: true, ...AXIS },
    yAxis: { type: 'value', name: `${objectives[b]!.metric} (${objectives[b]!.type})`, scale: true, ...AXIS },
    series: [
      { id: 'trials', name: 'trials', type: 'scatter', symbolSize: 6, color: '#8c959f', data: others, progressive: 0 },
      { id: 'front', name: 'Pareto front', type: 'line', symbol: 'diamond', symbolSize: 10, color: '#b3261e', lineStyle: { width: 2 }, data: frontPoints, progressive: 0, z: 3 },
    ],
  };
}

/**
 * The hypervolume of the front after each completed trial (completion order), against a
 * reference point that stays fixed for the whole plot: per objective, the worst value any
 * completed trial reached (minimised), plus a tenth of that objective's range, so every trial
 * counts and the curve only grows.
 */
export function hypervolumeOption(study: Study, done: readonly Trial[]): Option {
  const directions = directionsOf(study);
  const losses = done.filter((t) => t.objectiveValues !== null).map((t) => minimized(t.objectiveValues!, directions));
  const reference = directions.map((_, k) => {
    const lo = Math.min(...losses.map((l) => l[k]!));
    const hi = Math.max(...losses.map((l) => l[k]!));
    return hi + 0.1 * (hi - lo || 1);
  });
  const data = losses.map((_, i) => [i + 1, hypervolume(losses.slice(0, i + 1), reference)]);
  return {
    animation: false,
    textStyle: { color: TEXT },
    grid: { left: 64, right: 24, top: 36, bottom: 44 },
    tooltip: { trigger: 'item', formatter: (p: { data: [number, number] }) => tooltipText(`after ${p.data[0]} trials`, `hypervolume = ${fmtNumber(p.data[1])}`) },
    xAxis: { type: 'value', name: 'completed trial', nameLocation: 'middle', nameGap: 26, minInterval: 1, min: 1, max: Math.max(1, data.length), ...AXIS },
    yAxis: { type: 'value', name: 'hypervolume', scale: true, ...AXIS },
    series: [{ id: 'hypervolume', name: 'hypervolume', type: 'line', step: 'end', showSymbol: false, color: '#0b57d0', data, progressive: 0 }],
  };
}
