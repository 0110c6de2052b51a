// The study page: the spec (in brief and as YAML), the best trial, the plots, the trials table
// (sort, filter, pages) and the actions; with an early-stopping policy, the steps it saved and
// the step each trial was stopped at. The study's event stream keeps it live: events update
// the in-memory trials, and the table and plots are redrawn at most every 250 ms.
import { stringify } from 'yaml';
import { api, chartObservations, followStudy, listStudyTrials, MAX_CHART_OBSERVATIONS } from './api.js';
import { completedInOrder, curvesOption, draw, historyOption, importanceOption, mountChart, parallelOption, sliceOption, type Chart, type CurveLine, type Importance } from './charts.js';
import { confirmButton, fmtDuration, fmtNumber, fmtTime, fmtValue, h, markReady, notify, replace, showLoadError, stateBadge, throttle } from './dom.js';
import { SAVED_HINT, savedText } from './early-stopping.js';
import { counts } from './studies.js';
import { describeConstraint, feasibilityText } from './types.js';
import { frontNames, hypervolumeOption, paretoOption } from './pareto.js';
import { ACTIVE_TRIAL_STATES, TERMINAL_STUDY_STATES, TRIAL_STATES, type Observation, type Study, type StudyEvent, type Trial } from './types.js';

type SortKey = string; // 'seq' | 'state' | 'duration' | 'objective' | 'p:<param>' | 'm:<metric>'

interface Condition { key: string; op: string; value: string }

/** `lr>0.01 optimizer=adam accuracy>=0.9` → conditions; a bare word matches trial names. */
export function parseFilter(text: string): Condition[] | string {
  const out: Condition[] = [];
  for (const token of text.split(/[\s,]+/).filter(Boolean)) {
    const m = token.match(/^([\w.-]+?)(>=|<=|!=|=|>|<|~)(.+)$/);
    if (m) out.push({ key: m[1]!, op: m[2]!, value: m[3]! });
    else if (/^[\w.-]+$/.test(token)) out.push({ key: 'trial', op: '~', value: token });
    else return `cannot read "${token}": use name>value, name=value, name~text`;
  }
  return out;
}

function strategyValue(study: Study, t: Trial, metric: string): number | null {
  if (metric === study.objective.metric) return t.objectiveValue;
  const m = t.metrics.find((x) => x.name === metric);
  if (!m) return null;
  const s = study.spec.objective.metricStrategies.find((x) => x.name === metric)?.value ?? 'latest';
  return m[s];
}

const duration = (t: Trial) => (t.startedAt ? (t.completedAt ? Date.parse(t.completedAt) : Date.now()) - Date.parse(t.startedAt) : NaN);

export function studyPage(root: HTMLElement, name: string): () => void {
  const ctl = new AbortController();
  const signal = ctl.signal;
  let study: Study | undefined;
  const trials = new Map<string, Trial>();
  let ready = false;
  const buffered: StudyEvent[] = [];
  const view = { sort: 'seq' as SortKey, dir: 1, state: '', filter: '', page: 0, pageSize: 50 };
  let filterError = '';
  const selected = new Set<string>();
  let userSelected = false;
  let curveMetric = '';
  const observations = new Map<string, Observation[]>();
  const loadingObs = new Set<string>();
  /** Trials with more observations than a chart fetches: their lines show the first ones. */
  const partialObs = new Set<string>();
  let dirtyTrials = true;
  let viewCache: Trial[] = [];
  let viewKey = '';

  // ── skeleton ──
  const title = h('h1', null, name);
  const headerInfo = h('div', { class: 'study-head' });
  const actions = h('div', { class: 'actions' });
  const bestBox = h('div', { class: 'card', id: 'best' });
  const brief = h('div', { class: 'card', id: 'spec-brief' });
  const yamlPre = h('pre', { class: 'yaml', tabindex: 0 });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const historyEl = h('div', { class: 'chart', id: 'chart-history', role: 'img', 'aria-label': 'Optimisation history' });
  const parallelEl = h('div', { class: 'chart tall', id: 'chart-parallel', role: 'img', 'aria-label': 'Parallel coordinates' });
  const slicesEl = h('div', { class: 'slices' });
  // Multi-objective studies only (shown once the study is known to have several objectives).
  const paretoEl = h('div', { class: 'chart', id: 'chart-pareto', role: 'img', 'aria-label': 'Pareto front' });
  const hypervolumeEl = h('div', { class: 'chart', id: 'chart-hypervolume', role: 'img', 'aria-label': 'Hypervolume history' });
  const pairSelect = h('select', { id: 'pareto-pair', 'aria-label': 'Objectives of the Pareto plot' });
  const paretoSection = h('div', { class: 'grid two', hidden: true },
    h('figure', { class: 'card' }, h('figcaption', null, 'Pareto front ', pairSelect), paretoEl),
    h('figure', { class: 'card' }, h('figcaption', null, 'Hypervolume history (reference: each objective\'s worst value + 10% of its range)'), hypervolumeEl));
  let pair: [number, number] = [0, 1];
  const curvesEl = h('div', { class: 'chart', id: 'chart-curves', role: 'img', 'aria-label': 'Intermediate values of the selected trials' });
  const curvesNote = h('p', { class: 'muted', id: 'curves-note' });
  const importanceEl = h('div', { class: 'chart', id: 'chart-importance', role: 'img', 'aria-label': 'Parameter importance' });
  const importanceNote = h('p', { class: 'muted', id: 'importance-note' });
  const metricSelect = h('select', { id: 'curve-metric', 'aria-label': 'Metric of the curves' });
  const stateSelect = h('select', { id: 'state-filter', 'aria-label': 'Filter by state' }, h('option', { value: '' }, 'all states'), TRIAL_STATES.map((s) => h('option', { value: s }, s)));
  const filterInput = h('input', { id: 'trial-filter', type: 'search', placeholder: 'e.g. lr<0.01 optimizer=adam score>0.9', 'aria-label': 'Filter by parameter or metric', autocomplete: 'off' });
  const filterHint = h('span', { class: 'muted small', id: 'filter-hint', 'aria-live': 'polite' });
  const thead = h('thead');
  const tbody = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Trial pages' });
  const tableCount = h('span', { class: 'muted', id: 'trial-count' });

  root.append(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, 'Studies'), ' / ', name),
    h('header', { class: 'page-head' }, title, headerInfo, actions),
    status,
    h('div', { class: 'grid two' }, bestBox, brief),
    h('section', { 'aria-labelledby': 'plots-h' },
      h('h2', { id: 'plots-h' }, 'Plots'),
      paretoSection,
      h('div', { class: 'grid two' },
        h('figure', { class: 'card' }, h('figcaption', null, 'Optimisation history'), historyEl),
        h('figure', { class: 'card' }, h('figcaption', null, 'Intermediate values ', metricSelect), curvesEl, curvesNote)),
      h('figure', { class: 'card' }, h('figcaption', null, 'Parallel coordinates'), parallelEl),
      h('figure', { class: 'card' }, h('figcaption', null, 'Parameter importance (fANOVA)'), importanceEl, importanceNote),
      h('figure', { class: 'card' }, h('figcaption', null, 'Slices: objective against each parameter'), slicesEl)),
    h('section', { 'aria-labelledby': 'trials-h' },
      h('h2', { id: 'trials-h' }, 'Trials ', tableCount),
      h('div', { class: 'filters' }, stateSelect, filterInput, filterHint),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'trials-table' }, h('caption', { class: 'sr-only' }, 'Trials'), thead, tbody)),
      pager),
    h('section', { 'aria-labelledby': 'yaml-h' },
      h('details', null, h('summary', { id: 'yaml-h' }, 'Spec as YAML'), yamlPre)),
  );

  stateSelect.addEventListener('change', () => { view.state = stateSelect.value; view.page = 0; renderTable(); });
  let filterTimer: ReturnType<typeof setTimeout> | undefined;
  filterInput.addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => { view.filter = filterInput.value; view.page = 0; renderTable(); }, 150);
  });
  metricSelect.addEventListener('change', () => { curveMetric = metricSelect.value; scheduleCurves(); });

  // ── derived view ──
  const conditionsMatch = (t: Trial, conds: Condition[]): boolean => conds.every((c) => {
    let v: string | number | null;
    if (c.key === 'trial' || c.key === 'name') v = t.name;
    else if (c.key === 'state') v = t.state;
    else if (c.key in t.assignment) v = t.assignment[c.key] ?? null;
    else v = strategyValue(study!, t, c.key);
    if (v === null || v === undefined) return false;
    if (c.op === '~') return String(v).toLowerCase().includes(c.value.toLowerCase());
    const num = Number(c.value);
    const cmp = typeof v === 'number' && Number.isFinite(num) ? v - num : String(v).localeCompare(c.value);
    switch (c.op) {
      case '=': return typeof v === 'number' && Number.isFinite(num) ? cmp === 0 : String(v) === c.value;
      case '!=': return typeof v === 'number' && Number.isFinite(num) ? cmp !== 0 : String(v) !== c.value;
      case '>': return cmp > 0;
      case '>=': return cmp >= 0;
      case '<': return cmp < 0;
      case '<=': return cmp <= 0;
      default: return false;
    }
  });

  const sortValue = (t: Trial, key: SortKey): number | string | null => {
    if (key === 'seq') return t.seq;
    if (key === 'state') return t.state;
    if (key === 'duration') { const d = duration(t); return Number.isFinite(d) ? d : null; }
    if (key === 'stopped') return t.stoppedAtStep;
    if (key === 'feasible') return t.violation ?? (t.feasible === false ? Infinity : t.feasible === null ? null : 0);
    if (key === 'objective') return t.objectiveValue;
    if (key.startsWith('p:')) return t.assignment[key.slice(2)] ?? null;
    if (key.startsWith('m:')) return strategyValue(study!, t, key.slice(2));
    return null;
  };

  const currentView = (): Trial[] => {
    const key = `${view.sort}|${view.dir}|${view.state}|${view.filter}`;
    if (!dirtyTrials && key === viewKey) return viewCache;
    const parsed = parseFilter(view.filter);
    filterError = typeof parsed === 'string' ? parsed : '';
    const conds = typeof parsed === 'string' ? [] : parsed;
    const list: Trial[] = [];
    for (const t of trials.values()) if ((!view.state || t.state === view.state) && (conds.length === 0 || conditionsMatch(t, conds))) list.push(t);
    const dir = view.dir;
    const withKeys = list.map((t) => ({ t, k: sortValue(t, view.sort) }));
    withKeys.sort((a, b) => {
      if (a.k === null || a.k === undefined) return b.k === null || b.k === undefined ? a.t.seq - b.t.seq : 1;
      if (b.k === null || b.k === undefined) return -1;
      const c = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : String(a.k).localeCompare(String(b.k));
      return c === 0 ? a.t.seq - b.t.seq : c * dir;
    });
    viewCache = withKeys.map((x) => x.t);
    viewKey = key;
    dirtyTrials = false;
    return viewCache;
  };

  // ── rendering ──
  const renderHead = () => {
    if (!study) return;
    const s = study;
    const c = counts(s);
    const elapsed = s.startedAt ? (s.completedAt ? Date.parse(s.completedAt) : Date.now()) - Date.parse(s.startedAt) : NaN;
    replace(headerInfo,
      h('p', null, h('span', { id: 'study-state', 'data-state': s.state }, stateBadge(s.state, s.message)), s.reason ? ` ${s.reason}` : ''),
      s.message ? h('p', { class: 'muted' }, s.message) : null,
      s.earlyStopping ? h('p', { id: 'early-stopping-summary', title: `steps saved: ${SAVED_HINT}` }, savedText(s.earlyStopping)) : null,
      h('dl', { class: 'facts' },
        h('dt', null, 'Objective'), h('dd', null, `${s.objective.type} ${s.objective.metric}${s.objective.goal === null ? '' : ` (goal ${s.objective.goal})`}`),
        h('dt', null, 'Algorithm'), h('dd', null, s.algorithm),
        h('dt', null, 'Runtime'), h('dd', null, s.runtime),
        h('dt', null, 'Progress'), h('dd', { id: 'study-progress' }, `${c.completed} / ${s.maxTrialCount ?? '∞'} completed · ${c.running} running · ${c.failed} failed${s.trials.EARLY_STOPPED ? ` · ${s.trials.EARLY_STOPPED} early stopped` : ''}`),
        h('dt', null, 'Budget'), h('dd', null, `parallel ${s.parallelTrialCount} · max ${s.maxTrialCount ?? '∞'} · max failed ${s.maxFailedTrialCount ?? '∞'}`),
        h('dt', null, 'Created'), h('dd', null, fmtTime(s.createdAt)),
        h('dt', null, 'Elapsed'), h('dd', null, fmtDuration(elapsed))));
    renderActions();
    const b = s.best;
    replace(bestBox, h('h2', null, 'Best trial'), b
      ? [h('p', null, h('a', { href: `/trials/${encodeURIComponent(b.trial)}`, id: 'best-link' }, b.trial), ` ${s.objective.metric} = `, h('strong', null, fmtNumber(b.value))),
         h('table', { class: 'kv' }, h('tbody', null, Object.entries(b.assignment).map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, fmtValue(v))))))]
      : h('p', { class: 'muted' }, 'No completed trial yet.'));
  };

  let actionsState = '';
  const renderActions = () => {
    const s = study!;
    const key = `${s.state}|${s.parallelTrialCount}|${s.maxTrialCount}|${s.maxFailedTrialCount}`;
    if (key === actionsState) return; // keep focus and half-typed values
    actionsState = key;
    const ended = TERMINAL_STUDY_STATES.includes(s.state);
    const input = (id: string, label: string, value: number | null, min: number) =>
      h('label', { for: id }, label, h('input', { id, name: id, type: 'number', min, step: 1, value: value ?? '', inputmode: 'numeric' }));
    const form = h('form', { class: 'budget', id: 'budget-form', 'aria-label': 'Budget' },
      input('budget-parallel', 'Parallel', s.parallelTrialCount, 1),
      input('budget-max', 'Max trials', s.maxTrialCount, 1),
      input('budget-failed', 'Max failed', s.maxFailedTrialCount, 0),
      h('button', { type: 'submit' }, 'Change budget'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const read = (id: string) => { const v = (form.querySelector(`#${id}`) as HTMLInputElement).value.trim(); return v === '' ? undefined : Number(v); };
      const body: Record<string, number> = {};
      const p = read('budget-parallel'); const m = read('budget-max'); const f = read('budget-failed');
      if (p !== undefined && p !== s.parallelTrialCount) body.parallelTrialCount = p;
      if (m !== undefined && m !== s.maxTrialCount) body.maxTrialCount = m;
      if (f !== undefined && f !== s.maxFailedTrialCount) body.maxFailedTrialCount = f;
      if (Object.keys(body).length === 0) { notify('The budget is unchanged.'); return; }
      try {
        study = await api<Study>('PATCH', `/studies/${encodeURIComponent(name)}/budget`, body);
        notify('Budget changed.');
        scheduleRender();
      } catch (err) {
        notify(`Could not change the budget: ${(err as Error).message}`, 'error');
      }
    });
    replace(actions,
      ended ? null : confirmButton('Stop study', 'Press again to stop', async () => {
        try {
          study = await api<Study>('POST', `/studies/${encodeURIComponent(name)}/stop`);
          notify(`Study ${name} stopped.`);
          scheduleRender();
        } catch (err) {
          notify(`Could not stop the study: ${(err as Error).message}`, 'error');
        }
      }, { id: 'stop-study' }),
      form);
  };

  const renderBrief = () => {
    const s = study!;
    const spec = s.spec;
    replace(brief, h('h2', null, 'Search space'),
      h('div', { class: 'table-wrap' }, h('table', { class: 'data compact' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Parameter'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Space'))),
        h('tbody', null, spec.parameters.map((p) => h('tr', null, h('th', { scope: 'row' }, p.name), h('td', null, p.parameterType),
          h('td', null, 'list' in p ? p.list.join(', ') : `[${p.min}, ${p.max}]${p.step ? ` step ${p.step}` : ''}${p.distribution !== 'uniform' ? ` ${p.distribution}` : ''}`)))))),
      spec.algorithm.algorithmSettings.length
        ? h('p', { class: 'small' }, 'Settings: ', spec.algorithm.algorithmSettings.map((x) => `${x.name}=${x.value}`).join(', '))
        : null,
      spec.earlyStopping
        ? h('p', { class: 'small', id: 'early-stopping-spec' }, `Early stopping: ${spec.earlyStopping.algorithmName}`,
          spec.earlyStopping.algorithmSettings.length ? ` (${spec.earlyStopping.algorithmSettings.map((x) => `${x.name}=${x.value}`).join(', ')})` : '')
        : null,
      h('p', { class: 'small' }, 'Metrics: ', spec.objective.metricStrategies.map((x) => `${x.name} (${x.value})`).join(', ')),
      spec.objective.constraints ? h('p', { class: 'small', id: 'study-constraints' }, 'Constraints: ', spec.objective.constraints.map(describeConstraint).join(', ')) : null);
    yamlPre.textContent = stringify(spec);
    const metrics = [s.objective.metric, ...spec.objective.additionalMetricNames];
    if (!curveMetric) curveMetric = s.objective.metric;
    replace(metricSelect, metrics.map((m) => h('option', { value: m, selected: m === curveMetric }, m)));
  };

  const header = (label: string, key: SortKey) => {
    const active = view.sort === key;
    return h('th', { scope: 'col', 'aria-sort': active ? (view.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-sort': key, onclick: () => {
        if (view.sort === key) view.dir = -view.dir;
        else { view.sort = key; view.dir = key === 'objective' && study?.objective.type === 'maximize' ? -1 : 1; }
        view.page = 0;
        renderTable();
      } }, label, active ? (view.dir > 0 ? ' ▲' : ' ▼') : ''));
  };

  const renderTable = () => {
    if (!study) return;
    const s = study;
    const params = s.spec.parameters.map((p) => p.name);
    // A multi-objective study: its other objectives first, then the additional metrics.
    const extra = [...s.objective.objectives.slice(1).map((o) => o.metric), ...s.spec.objective.additionalMetricNames];
    const front = s.objective.objectives.length > 1 ? frontNames(s, trials.values()) : new Set<string>();
    // The step a policy stopped each trial at: a column of its own when the study has a policy.
    const stops = s.earlyStopping !== null;
    // Outcome constraints: whether each trial met them, as text.
    const constrained = (s.spec.objective.constraints?.length ?? 0) > 0;
    replace(thead, h('tr', null,
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Show curve')),
      header('Trial', 'seq'), header('State', 'state'), header(s.objective.metric, 'objective'),
      extra.map((m) => header(m, `m:${m}`)), params.map((p) => header(p, `p:${p}`)), constrained ? header('Feasible', 'feasible') : null, stops ? header('Stopped at', 'stopped') : null, header('Duration', 'duration'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions'))));
    const list = currentView();
    const pages = Math.max(1, Math.ceil(list.length / view.pageSize));
    view.page = Math.min(view.page, pages - 1);
    const rows = list.slice(view.page * view.pageSize, (view.page + 1) * view.pageSize);
    const bestName = s.best?.trial;
    replace(tbody, rows.map((t) => h('tr', { 'data-trial': t.name, class: t.name === bestName ? 'best' : t.feasible === false ? 'infeasible' : null },
      h('td', null, h('input', { type: 'checkbox', 'aria-label': `Show ${t.name} in the curves`, checked: selected.has(t.name), onchange: (e: Event) => {
        userSelected = true;
        if ((e.target as HTMLInputElement).checked) selected.add(t.name); else selected.delete(t.name);
        scheduleCurves();
      } })),
      h('th', { scope: 'row' }, h('a', { href: `/trials/${encodeURIComponent(t.name)}` }, t.name), t.name === bestName && front.size === 0 ? h('span', { class: 'star', title: 'best trial' }, ' ★') : null,
        front.has(t.name) ? h('span', { class: 'star front', title: 'on the Pareto front', 'data-front': '' }, ' ◆') : null),
      h('td', null, stateBadge(t.state, t.reason)),
      h('td', { class: 'num' }, fmtNumber(t.objectiveValue)),
      extra.map((m) => h('td', { class: 'num' }, fmtNumber(strategyValue(s, t, m)))),
      params.map((p) => h('td', { class: 'num' }, fmtValue(t.assignment[p]))),
      constrained ? h('td', { 'data-col': 'feasible' }, feasibilityText(t.feasible, t.violation)) : null,
      stops ? h('td', { class: 'num', 'data-col': 'stopped-at' }, t.stoppedAtStep === null ? '—' : `step ${t.stoppedAtStep}`) : null,
      h('td', { class: 'num' }, fmtDuration(duration(t))),
      h('td', null, ACTIVE_TRIAL_STATES.includes(t.state) ? confirmButton('Stop', 'Confirm', async () => {
        try {
          trials.set(t.name, await api<Trial>('POST', `/trials/${encodeURIComponent(t.name)}/stop`));
          dirtyTrials = true;
          notify(`Trial ${t.name} stopped.`);
          scheduleRender();
        } catch (err) {
          notify(`Could not stop ${t.name}: ${(err as Error).message}`, 'error');
        }
      }, { 'aria-label': `Stop ${t.name}`, class: 'danger small' }) : null))));
    tableCount.textContent = `(${list.length === trials.size ? list.length : `${list.length} of ${trials.size}`})`;
    filterHint.textContent = filterError;
    const go = (p: number) => () => { view.page = p; renderTable(); };
    const sizeSelect = h('select', { 'aria-label': 'Trials per page' }, [25, 50, 100, 200].map((n) => h('option', { value: n, selected: n === view.pageSize }, `${n} per page`)));
    sizeSelect.addEventListener('change', () => { view.pageSize = Number(sizeSelect.value); view.page = 0; renderTable(); });
    const pageInput = h('input', { type: 'number', min: 1, max: pages, value: view.page + 1, 'aria-label': 'Page', class: 'page-input' });
    pageInput.addEventListener('change', () => { const p = Number(pageInput.value); if (Number.isInteger(p) && p >= 1 && p <= pages) go(p - 1)(); });
    replace(pager,
      h('button', { type: 'button', disabled: view.page === 0, onclick: go(0), 'aria-label': 'First page' }, '«'),
      h('button', { type: 'button', disabled: view.page === 0, onclick: go(view.page - 1), id: 'page-prev' }, 'Previous'),
      h('span', null, ' Page ', pageInput, ` of ${pages} `),
      h('button', { type: 'button', disabled: view.page >= pages - 1, onclick: go(view.page + 1), id: 'page-next' }, 'Next'),
      h('button', { type: 'button', disabled: view.page >= pages - 1, onclick: go(pages - 1), 'aria-label': 'Last page' }, '»'),
      sizeSelect);
  };

  // ── charts ──
  let history: Chart | undefined;
  let pareto: Chart | undefined;
  let hypervolumeChart: Chart | undefined;
  let parallel: Chart | undefined;
  let curves: Chart | undefined;
  const slices = new Map<string, Chart>();

  /** Until the user ticks trials: the best one and the four latest; the table's ticks follow. */
  const defaultSelection = (done: readonly Trial[]) => {
    if (userSelected) return;
    const before = [...selected].join();
    selected.clear();
    if (study?.best) selected.add(study.best.trial);
    for (const t of done.slice(-4)) selected.add(t.name);
    if ([...selected].join() !== before) scheduleRender();
  };

  const renderCharts = (): Promise<void>[] => {
    if (!study) return [];
    const s = study;
    const done = completedInOrder(trials.values());
    const drawn: Promise<void>[] = [];
    history ??= mountChart('history', historyEl);
    drawn.push(draw(history, historyOption(s, done)));
    const objectives = s.objective.objectives;
    if (objectives.length > 1) {
      if (paretoSection.hidden) {
        paretoSection.hidden = false;
        const pairs = objectives.flatMap((_, i) => objectives.slice(i + 1).map((__, k) => [i, i + 1 + k] as [number, number]));
        replace(pairSelect, pairs.map(([i, j]) => h('option', { value: `${i},${j}` }, `${objectives[i]!.metric} vs ${objectives[j]!.metric}`)));
        pairSelect.addEventListener('change', () => { pair = pairSelect.value.split(',').map(Number) as [number, number]; scheduleRender(); });
      }
      pareto ??= mountChart('pareto', paretoEl);
      drawn.push(draw(pareto, paretoOption(s, done, pair)));
      hypervolumeChart ??= mountChart('hypervolume', hypervolumeEl);
      drawn.push(draw(hypervolumeChart, hypervolumeOption(s, done)));
    }
    parallel ??= mountChart('parallel', parallelEl);
    drawn.push(draw(parallel, parallelOption(s, done)));
    if (slices.size === 0) {
      for (const p of s.spec.parameters) {
        const el = h('div', { class: 'chart small', id: `chart-slice-${p.name}`, role: 'img', 'aria-label': `Objective against ${p.name}` });
        slicesEl.append(el);
        slices.set(p.name, mountChart(`slice:${p.name}`, el));
      }
    }
    for (const p of s.spec.parameters) drawn.push(draw(slices.get(p.name)!, sliceOption(s, p, done)));
    defaultSelection(done);
    drawn.push(renderCurves());
    if (done.length !== importanceFor) void loadImportance(done.length);
    return drawn;
  };

  // Importance is computed by the server (a forest fit): asked again only when more trials completed, one call at a time.
  let importance: Chart | undefined;
  let importanceFor = -1;
  let importanceLoading = false;
  const loadImportance = async (completed: number) => {
    if (importanceLoading) return;
    importanceLoading = true;
    importanceFor = completed;
    try {
      const r = await api<{ parameters: Importance[]; trials: number }>('GET', `/studies/${encodeURIComponent(name)}/importance`, undefined, signal);
      importance ??= mountChart('importance', importanceEl);
      await draw(importance, importanceOption(r.parameters));
      importanceNote.textContent = r.trials < 2 ? 'Shown once two trials have completed.' : `A random forest on ${r.trials} completed trials; each bar is the parameter's share of the explained variance.`;
    } catch {
      importanceFor = -1; // asked again with the next redraw
    } finally {
      importanceLoading = false;
    }
  };

  const renderCurves = (): Promise<void> => {
    curves ??= mountChart('curves', curvesEl);
    const lines: CurveLine[] = [];
    for (const t of selected) {
      const obs = observations.get(t);
      if (!obs) { void loadObservations(t); continue; }
      lines.push({ name: t, points: obs.filter((o) => o.metric === curveMetric), stoppedAt: trials.get(t)?.stoppedAtStep ?? null });
    }
    const partial = [...selected].filter((t) => partialObs.has(t));
    curvesNote.textContent = selected.size ? `Trials: ${[...selected].join(', ')} (tick trials in the table to change)` : 'Tick trials in the table to show their curves.';
    if (partial.length) curvesNote.textContent += ` · the first ${MAX_CHART_OBSERVATIONS.toLocaleString()} observations of ${partial.join(', ')}`;
    return draw(curves, curvesOption(lines, curveMetric));
  };

  const loadObservations = async (trial: string) => {
    if (loadingObs.has(trial)) return;
    loadingObs.add(trial);
    try {
      const r = await chartObservations(trial, signal);
      observations.set(trial, r.observations);
      if (r.complete) partialObs.delete(trial);
      else partialObs.add(trial);
      scheduleCurves();
    } catch {
      // shown as no line
    } finally {
      loadingObs.delete(trial);
    }
  };

  // Redraws wait at least 250 ms, and longer on large studies (three times the last redraw),
  // so a busy study never keeps the page drawing.
  let chartsPending = false;
  let chartsLast = 0;
  let chartsCost = 0;
  const scheduleCharts = () => {
    if (chartsPending) return;
    chartsPending = true;
    const wait = Math.max(0, chartsLast + Math.max(250, 3 * chartsCost) - performance.now());
    setTimeout(() => requestAnimationFrame(() => {
      chartsPending = false;
      const t0 = performance.now();
      renderCharts();
      chartsLast = performance.now();
      chartsCost = chartsLast - t0;
    }), wait);
  };
  const scheduleCurves = throttle(() => { void renderCurves(); }, 250);
  const scheduleRender = throttle(() => {
    renderHead();
    renderTable();
  }, 100);

  const apply = (e: StudyEvent) => {
    if (e.type === 'study') {
      study = e.study;
    } else {
      trials.set(e.trial.name, e.trial);
      dirtyTrials = true;
      if (selected.has(e.trial.name)) observations.delete(e.trial.name);
    }
    scheduleRender();
    scheduleCharts();
  };

  let opened = 0;
  followStudy(name, (e) => (ready ? apply(e) : buffered.push(e)), signal, () => {
    // After a reconnection, anything may have been missed: read the trials again.
    if (++opened > 1 && ready) void resync();
  });

  const resync = async () => {
    try {
      const list = await listStudyTrials<Trial>(name, trials.size, signal);
      for (const t of list) trials.set(t.name, t);
      dirtyTrials = true;
      study = await api<Study>('GET', `/studies/${encodeURIComponent(name)}`, undefined, signal);
      scheduleRender();
      scheduleCharts();
    } catch {
      // the next reconnection tries again
    }
  };

  const load = async () => {
    try {
      performance.mark('sibyl:load-start');
      study = await api<Study>('GET', `/studies/${encodeURIComponent(name)}`, undefined, signal);
      const list = await listStudyTrials<Trial>(name, Object.values(study.trials).reduce((a, b) => a + b, 0), signal);
      performance.mark('sibyl:data');
      for (const t of list) trials.set(t.name, t);
      ready = true;
      for (const e of buffered.splice(0)) {
        if (e.type === 'study') study = e.study;
        else trials.set(e.trial.name, e.trial);
      }
      status.remove();
      document.title = `${name} · Sibyl`;
      renderHead();
      renderBrief();
      renderTable();
      performance.mark('sibyl:table');
      const drawn = renderCharts();
      performance.mark('sibyl:charts-set');
      await Promise.all(drawn);
      performance.mark('sibyl:ready');
      markReady();
    } catch (err) {
      if (signal.aborted) return;
      showLoadError(status, err, 'study', name);
    }
  };
  void load();
  document.title = `${name} · Sibyl`;
  const tick = setInterval(() => { if (study && !TERMINAL_STUDY_STATES.includes(study.state)) scheduleRender(); }, 5000);

  return () => {
    clearInterval(tick);
    ctl.abort();
  };
}
