// ECharts (bundled from npm, only the parts used) and the dashboard's plots. Every chart the
// page shows is kept in window.__sibylCharts by id, so tests can read the data it draws.
import * as echarts from 'echarts/core';
import { BarChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import { DataZoomComponent, GridComponent, LegendComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { fmtNumber } from './dom.js';
import { isEarlyStopped, stoppedAtLine } from './early-stopping.js';
import type { Observation, ParameterSpec, Study, Trial } from './types.js';

echarts.use([BarChart, LineChart, ScatterChart, ParallelChart, GridComponent, TooltipComponent, LegendComponent, ParallelComponent, VisualMapComponent, DataZoomComponent, TitleComponent, CanvasRenderer]);

export type Chart = echarts.ECharts;
type Option = Record<string, unknown>;

declare global {
  interface Window {
    __sibylCharts: Record<string, Chart>;
    __sibylReady?: boolean;
    __sibylReadyAt?: number;
  }
}
window.__sibylCharts = {};

const PALETTE = ['#0b57d0', '#b3261e', '#146c2e', '#8f4a00', '#6e3bb5', '#00696f', '#9c2a73', '#4d5b00', '#a23c00', '#35506b'];
/** Good to bad, for lines coloured by objective (dark enough on white). */
const SCALE = ['#1b5e20', '#2e7d32', '#9e9d24', '#ef6c00', '#c62828'];
const TEXT = '#1f2328';
const AXIS = { axisLine: { lineStyle: { color: '#57606a' } }, axisLabel: { color: TEXT }, nameTextStyle: { color: TEXT } };
/**
 * Early-stopped trials, in every chart: a cross (a filled X, drawn as a path) in near-black,
 * apart from the palette's colours, in a series of their own named in the legend.
 */
/** Trials that broke an outcome constraint: hollow grey rings, never part of the best-so-far line. */
const INFEASIBLE = { id: 'infeasible', name: 'infeasible' } as const;
export const isInfeasible = (t: Trial): boolean => t.feasible === false;
const STOPPED = { id: 'early-stopped', name: 'early stopped', symbol: 'path://M2 0L5 3L8 0L10 2L7 5L10 8L8 10L5 7L2 10L0 8L3 5L0 2Z', color: TEXT } as const;
/** A dashed line, the legend's icon for the stopped trials' (dashed) lines in parallel coordinates. */
const DASHES = 'path://M0 0L7 0L7 2L0 2ZM10 0L17 0L17 2L10 2ZM20 0L27 0L27 2L20 2Z';

const observers = new Map<string, ResizeObserver>();

export function mountChart(id: string, el: HTMLElement): Chart {
  disposeChart(id);
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  window.__sibylCharts[id] = chart;
  let pending = false;
  const ro = new ResizeObserver(() => {
    // The first call reports the size the chart was created with: nothing to redraw.
    if (pending || (el.clientWidth === chart.getWidth() && el.clientHeight === chart.getHeight())) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      if (!chart.isDisposed()) chart.resize();
    });
  });
  ro.observe(el);
  observers.set(id, ro);
  return chart;
}

export function disposeChart(id: string): void {
  observers.get(id)?.disconnect();
  observers.delete(id);
  const c = window.__sibylCharts[id];
  if (c && !c.isDisposed()) c.dispose();
  delete window.__sibylCharts[id];
}

export function disposeCharts(prefix = ''): void {
  for (const id of Object.keys(window.__sibylCharts)) if (id.startsWith(prefix)) disposeChart(id);
}

/**
 * Sets a chart's option and resolves once it has drawn everything (progressive rendering
 * included; ECharts' `finished` event, which may come during setOption itself), or after 5 s.
 */
export function draw(chart: Chart, option: Option): Promise<void> {
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    chart.on('finished', () => {
      clearTimeout(timer);
      chart.off('finished');
      resolve();
    });
  });
  chart.setOption(option, { notMerge: true });
  return done;
}

type RangeSpec = Extract<ParameterSpec, { parameterType: 'double' | 'int' }>;
const isRange = (p: ParameterSpec): p is RangeSpec => p.parameterType === 'double' || p.parameterType === 'int';
const isLog = (p: ParameterSpec): p is RangeSpec => isRange(p) && (p.distribution === 'logUniform' || p.distribution === 'logNormal');

/**
 * ECharts inserts a tooltip formatter's string as HTML: every piece of it is a user's string
 * (trial names, values, metric names), so the pieces are escaped here, in the one place that
 * builds tooltip markup, and joined by line breaks.
 */
export function tooltipText(...lines: readonly unknown[]): string {
  return lines.map((l) => escapeHtml(String(l))).join('<br>');
}
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

/** Completed trials with an objective value, in completion order. */
export function completedInOrder(trials: Iterable<Trial>): Trial[] {
  const done: Trial[] = [];
  for (const t of trials) if (t.objectiveValue !== null && t.completedAt) done.push(t);
  return done.sort((a, b) => (a.completedAt! < b.completedAt! ? -1 : a.completedAt! > b.completedAt! ? 1 : a.seq - b.seq));
}

/** Whether a study's charts keep a series (and a legend entry) for early-stopped trials. */
const showsStops = (study: Study, done: readonly Trial[]) => study.earlyStopping !== null || done.some(isEarlyStopped);
/** A tooltip's last line for a point of the stopped series (the step rides at the end of its data). */
const stopLine = (p: { seriesId?: string; data: readonly unknown[] }) => {
  const step = p.data.at(-1);
  return p.seriesId === STOPPED.id && typeof step === 'number' ? [stoppedAtLine(step)] : [];
};

/** The scatter series of early-stopped trials' points, in the same chart as the others. */
function stoppedScatter(data: unknown[], size: number): Option {
  const large = data.length > 2000;
  return { id: STOPPED.id, name: STOPPED.name, type: 'scatter', symbol: STOPPED.symbol, symbolSize: large ? 4 : size, color: STOPPED.color, large, progressive: 0, data, z: 3 };
}

export function historyOption(study: Study, done: readonly Trial[]): Option {
  const minimize = study.objective.type === 'minimize';
  const points: [number, number, string][] = [];
  const stopped: [number, number, string, number | null][] = [];
  const infeasible: [number, number, string][] = [];
  const best: [number, number][] = [];
  let b = minimize ? Infinity : -Infinity;
  done.forEach((t, i) => {
    const v = t.objectiveValue!;
    if (isInfeasible(t)) {
      infeasible.push([i + 1, v, t.name]);
      return; // never best: the line goes on without it
    }
    if (isEarlyStopped(t)) stopped.push([i + 1, v, t.name, t.stoppedAtStep]);
    else points.push([i + 1, v, t.name]);
    b = minimize ? Math.min(b, v) : Math.max(b, v);
    best.push([i + 1, b]);
  });
  const point = (p: { seriesId?: string; data: [number, number, string?, (number | null)?] }) => {
    const [, value, trial] = p.data;
    if (!trial) return tooltipText(`best so far = ${fmtNumber(value)}`);
    return tooltipText(trial, `${study.objective.metric} = ${fmtNumber(value)}`, ...stopLine(p), ...(p.seriesId === INFEASIBLE.id ? ['infeasible: broke a constraint'] : []));
  };
  return {
    animation: false,
    color: PALETTE,
    textStyle: { color: TEXT },
    grid: { left: 64, right: 24, top: 36, bottom: 44 },
    legend: { top: 0, textStyle: { color: TEXT } },
    tooltip: { trigger: 'item', formatter: point },
    xAxis: { type: 'value', name: 'completed trial', nameLocation: 'middle', nameGap: 26, minInterval: 1, min: 1, max: Math.max(1, done.length), ...AXIS },
    yAxis: { type: 'value', name: study.objective.metric, scale: true, ...AXIS },
    series: [
      { id: 'objective', name: study.objective.metric, type: 'scatter', symbolSize: done.length > 2000 ? 3 : 7, large: done.length > 2000, progressive: 0, data: points },
      { id: 'best', name: 'best so far', type: 'line', step: 'end', showSymbol: false, lineStyle: { width: 2 }, data: best, color: '#b3261e', progressive: 0, sampling: 'lttb' },
      ...(showsStops(study, done) ? [stoppedScatter(stopped, 11)] : []),
      ...(infeasible.length > 0 ? [{
        id: INFEASIBLE.id, name: INFEASIBLE.name, type: 'scatter', symbol: 'emptyCircle', symbolSize: done.length > 2000 ? 3 : 8,
        large: done.length > 2000, progressive: 0, itemStyle: { color: '#8c959f', borderWidth: 1.5 }, data: infeasible, z: 1,
      }] : []),
    ],
  };
}

function valueRange(done: readonly Trial[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of done) {
    lo = Math.min(lo, t.objectiveValue!);
    hi = Math.max(hi, t.objectiveValue!);
  }
  if (!Number.isFinite(lo)) return [0, 1];
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

function paramAxis(p: ParameterSpec): Option {
  if (p.parameterType === 'categorical') return { type: 'category', data: [...p.list] };
  if (p.parameterType === 'discrete') return { type: 'value', min: Math.min(...p.list), max: Math.max(...p.list) };
  return { type: isLog(p) ? 'log' : 'value', min: p.min, max: p.max };
}

export function parallelOption(study: Study, done: readonly Trial[]): Option {
  const params = study.spec.parameters;
  const n = params.length;
  const [lo, hi] = valueRange(done);
  const row = (t: Trial) => [...params.map((p) => t.assignment[p.name] ?? null), t.objectiveValue!, t.name];
  const rows = done.filter((t) => !isEarlyStopped(t)).map(row);
  const stopped = done.filter(isEarlyStopped).map((t) => [...row(t), t.stoppedAtStep]);
  const minimize = study.objective.type === 'minimize';
  const stops = showsStops(study, done);
  const opacity = done.length > 2000 ? 0.25 : 0.7;
  return {
    animation: false,
    textStyle: { color: TEXT },
    parallel: { left: 48, right: 96, top: 40, bottom: 32, parallelAxisDefault: { nameLocation: 'end', nameGap: 14, nameTextStyle: { color: TEXT, fontWeight: 'bold' }, axisLabel: { color: TEXT }, axisLine: { lineStyle: { color: '#57606a' } } } },
    parallelAxis: [
      ...params.map((p, i) => ({ dim: i, name: p.name, ...paramAxis(p) })),
      { dim: n, name: study.objective.metric, type: 'value', scale: true },
    ],
    visualMap: {
      type: 'continuous', dimension: n, min: lo, max: hi, calculable: true, right: 4, top: 'middle', itemHeight: 140,
      text: [fmtNumber(hi), fmtNumber(lo)], textStyle: { color: TEXT },
      inRange: { color: minimize ? SCALE : [...SCALE].reverse() },
    },
    tooltip: { trigger: 'item', formatter: (p: { seriesId?: string; data: unknown[] }) => tooltipText(p.data[n + 1] ?? '', ...stopLine(p)) },
    // Stopped trials keep the colour of their value and are dashed; the legend names them.
    ...(stops ? { legend: { top: 0, left: 'center', itemWidth: 28, itemHeight: 3, textStyle: { color: TEXT }, data: [{ name: STOPPED.name, icon: DASHES, itemStyle: { color: TEXT, borderWidth: 0 }, lineStyle: { color: TEXT } }] } } : {}),
    series: [
      { id: 'trials', name: 'trials', type: 'parallel', smooth: false, lineStyle: { width: 1, opacity }, progressive: 0, data: rows },
      ...(stops ? [{ id: STOPPED.id, name: STOPPED.name, type: 'parallel', smooth: false, lineStyle: { width: 1.5, type: [5, 3], opacity }, itemStyle: { color: STOPPED.color }, progressive: 0, data: stopped }] : []),
    ],
  };
}

export function sliceOption(study: Study, p: ParameterSpec, done: readonly Trial[]): Option {
  const point = (t: Trial) => [t.assignment[p.name] ?? null, t.objectiveValue!, t.name];
  const data = done.filter((t) => !isEarlyStopped(t)).map(point);
  const stopped = done.filter(isEarlyStopped).map((t) => [...point(t), t.stoppedAtStep]);
  const xAxis = p.parameterType === 'categorical' ? { type: 'category', data: [...p.list] } : isLog(p) ? { type: 'log', min: p.min, max: p.max } : { type: 'value', scale: true };
  return {
    animation: false,
    color: PALETTE,
    textStyle: { color: TEXT },
    title: { text: p.name, left: 'center', top: 0, textStyle: { fontSize: 13, color: TEXT } },
    grid: { left: 56, right: 16, top: 30, bottom: 30 },
    tooltip: { trigger: 'item', formatter: (q: { seriesId?: string; data: [unknown, number, string] }) => tooltipText(q.data[2], `${p.name} = ${String(q.data[0])}`, `${study.objective.metric} = ${fmtNumber(q.data[1])}`, ...stopLine(q)) },
    xAxis: { ...xAxis, ...AXIS },
    yAxis: { type: 'value', scale: true, ...AXIS },
    series: [
      { id: 'trials', type: 'scatter', symbolSize: done.length > 2000 ? 3 : 6, large: done.length > 2000, progressive: 0, data, itemStyle: { opacity: 0.75 } },
      ...(showsStops(study, done) ? [stoppedScatter(stopped, 9)] : []),
    ],
  };
}

/** One line of a curves chart; `stoppedAt`: the step its early-stopping policy stopped it at. */
export interface CurveLine { readonly name: string; readonly points: readonly Observation[]; readonly stoppedAt?: number | null }

/** Where a line was stopped: its value at the stop step (or the last one before it). */
function stopPoint(l: CurveLine): [number, number, string] | undefined {
  if (l.stoppedAt === null || l.stoppedAt === undefined) return undefined;
  let at: Observation | undefined;
  for (const o of l.points) if (o.step <= l.stoppedAt && (!at || o.step >= at.step)) at = o;
  return at && [l.stoppedAt, at.value, l.name];
}

/** Value by step: one line per (trial, metric) pair, and a cross where a policy stopped a line's trial. */
export function curvesOption(lines: readonly CurveLine[], yName: string): Option {
  const stops = lines.map(stopPoint).filter((p) => p !== undefined);
  const item = (i: { seriesId: string; seriesName: string; data: [number, number, string?] }) =>
    i.seriesId === STOPPED.id ? `${i.data[2]}: ${stoppedAtLine(i.data[0])}` : `${i.seriesName} = ${fmtNumber(i.data[1])}`;
  return {
    animation: false,
    color: PALETTE,
    textStyle: { color: TEXT },
    grid: { left: 64, right: 24, top: 44, bottom: 44 },
    legend: { top: 0, type: 'scroll', textStyle: { color: TEXT } },
    // Not ECharts' default axis tooltip: it would show series (metric) names unescaped.
    tooltip: { trigger: 'axis', formatter: (items: Parameters<typeof item>[0][]) => tooltipText(`step ${items[0]?.data[0] ?? ''}`, ...items.map(item)) },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 26, minInterval: 1, ...AXIS },
    yAxis: { type: 'value', name: yName, scale: true, ...AXIS },
    series: [
      // Long curves (a trial may report every batch) are drawn thinned to the pixels they cover.
      ...lines.map((l) => ({ id: `line:${l.name}`, name: l.name, type: 'line', showSymbol: l.points.length < 60, sampling: 'lttb', data: l.points.map((o) => [o.step, o.value]) })),
      ...(stops.length ? [{ ...stoppedScatter(stops, 14), z: 5 }] : []),
    ],
  };
}

/** A parameter's fANOVA importance, as GET /studies/{name}/importance gives it. */
export interface Importance { readonly name: string; readonly importance: number; readonly mainEffect: number }

/**
 * Parameter importance as horizontal bars, most important on top. The names are drawn on the
 * canvas as axis labels (text), and the tooltip goes through tooltipText.
 */
export function importanceOption(parameters: readonly Importance[]): Option {
  const shown = [...parameters].reverse(); // a category axis draws its first entry at the bottom
  return {
    animation: false,
    color: PALETTE,
    textStyle: { color: TEXT },
    grid: { left: 16, right: 24, top: 8, bottom: 24, containLabel: true },
    tooltip: { trigger: 'item', formatter: (q: { dataIndex: number }) => { const p = shown[q.dataIndex]!; return tooltipText(p.name, `importance ${fmtNumber(p.importance)}`, `main effect ${fmtNumber(p.mainEffect)} of the variance`); } },
    xAxis: { type: 'value', min: 0, max: 1, ...AXIS },
    yAxis: { type: 'category', data: shown.map((p) => p.name), axisLabel: { color: TEXT, width: 160, overflow: 'truncate' }, axisLine: AXIS.axisLine },
    series: [{ id: 'importance', type: 'bar', data: shown.map((p) => p.importance), barMaxWidth: 22 }],
  };
}
