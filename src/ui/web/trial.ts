// The trial page: assignment, state and reason (for an early-stopped trial, the step and the
// policy's why), timing, metrics (min, max, latest and the strategy's value), the curves (the
// stop marked on the objective's) and the tail of its log. While the trial runs, its curves and
// log are read again every 2 s (one call at a time); its state comes from the study's events.
import { api, chartObservations, followStudy, MAX_CHART_OBSERVATIONS } from './api.js';
import { curvesOption, draw, mountChart, type Chart } from './charts.js';
import { confirmButton, fmtDuration, fmtNumber, fmtTime, fmtValue, h, markReady, notify, replace, showLoadError, stateBadge, throttle } from './dom.js';
import { ACTIVE_TRIAL_STATES, feasibilityText, type Observation, type Study, type Trial } from './types.js';

const POLL_MS = 2000;

export function trialPage(root: HTMLElement, name: string): () => void {
  const ctl = new AbortController();
  const signal = ctl.signal;
  let trial: Trial | undefined;
  let study: Study | undefined;
  let observations: Observation[] = [];
  /** Whether `observations` are all of the trial's (a chart draws at most MAX_CHART_OBSERVATIONS). */
  let allObservations = true;
  let log: { lines: string[]; size: number } = { lines: [], size: 0 };
  let tail = 200;

  const crumbs = h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '/' }, 'Studies'));
  const head = h('header', { class: 'page-head' });
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  const assignment = h('div', { class: 'card', id: 'assignment' });
  const timing = h('div', { class: 'card', id: 'timing' });
  const metrics = h('div', { class: 'card', id: 'metrics' });
  const curvesEl = h('div', { class: 'chart', id: 'chart-trial-curves', role: 'img', 'aria-label': 'Metric values by step' });
  const curvesCaption = h('figcaption', { id: 'trial-curves-caption' }, 'Curves');
  const logPre = h('pre', { class: 'log', id: 'trial-log', tabindex: 0, 'aria-label': 'Log tail' });
  const logInfo = h('span', { class: 'muted small' });
  const tailSelect = h('select', { 'aria-label': 'Lines of log' }, [100, 200, 1000, 5000].map((n) => h('option', { value: n, selected: n === tail }, `last ${n} lines`)));
  tailSelect.addEventListener('change', () => { tail = Number(tailSelect.value); void refreshLog(); });

  root.append(crumbs, head, status,
    h('div', { class: 'grid trial-facts' }, assignment, timing, metrics),
    h('figure', { class: 'card' }, curvesCaption, curvesEl),
    h('section', { class: 'card', 'aria-labelledby': 'log-h' }, h('h2', { id: 'log-h' }, 'Log ', tailSelect, ' ', logInfo), logPre));

  let curves: Chart | undefined;
  const active = () => !!trial && ACTIVE_TRIAL_STATES.includes(trial.state);

  const renderInfo = () => {
    if (!trial) return;
    const t = trial;
    replace(crumbs, h('a', { href: '/' }, 'Studies'), ' / ', h('a', { href: `/studies/${encodeURIComponent(t.study)}` }, t.study), ' / ', t.name);
    replace(head,
      h('h1', null, t.name),
      h('p', null, h('span', { id: 'trial-state', 'data-state': t.state }, stateBadge(t.state, t.reason)), t.reason ? ` ${t.reason}` : ''),
      t.stoppedAtStep === null ? null : h('p', { id: 'trial-early-stop' },
        t.state === 'EARLY_STOPPED' ? 'Early stopped at step ' : 'Being stopped early at step ', h('strong', null, String(t.stoppedAtStep)),
        study?.earlyStopping ? ` by ${study.earlyStopping.algorithm}` : ''),
      t.feasible === false ? h('p', { id: 'trial-infeasible', class: 'infeasible' },
        'Infeasible: it broke an outcome constraint ', h('strong', null, feasibilityText(t.feasible, t.violation)), ', so it is never the best trial') : null,
      t.message ? h('pre', { class: 'message', id: 'trial-message' }, t.message) : null,
      h('div', { class: 'actions' }, active() ? confirmButton('Stop trial', 'Press again to stop', async () => {
        try {
          trial = await api<Trial>('POST', `/trials/${encodeURIComponent(t.name)}/stop`);
          notify(`Trial ${t.name} stopped.`);
          render();
        } catch (err) {
          notify(`Could not stop the trial: ${(err as Error).message}`, 'error');
        }
      }, { id: 'stop-trial' }) : null));
    const params = study?.spec.parameters.map((p) => p.name) ?? Object.keys(t.assignment);
    replace(assignment, h('h2', null, 'Assignment'), h('table', { class: 'kv' }, h('tbody', null,
      params.map((p) => h('tr', null, h('th', { scope: 'row' }, p), h('td', null, fmtValue(t.assignment[p])))))));
    const end = t.completedAt ? Date.parse(t.completedAt) : Date.now();
    replace(timing, h('h2', null, 'Timing'), h('table', { class: 'kv' }, h('tbody', null,
      h('tr', null, h('th', { scope: 'row' }, 'Created'), h('td', null, fmtTime(t.createdAt))),
      h('tr', null, h('th', { scope: 'row' }, 'Started'), h('td', null, fmtTime(t.startedAt))),
      h('tr', null, h('th', { scope: 'row' }, 'Completed'), h('td', null, fmtTime(t.completedAt))),
      h('tr', null, h('th', { scope: 'row' }, t.completedAt ? 'Duration' : 'Running for'), h('td', null, t.startedAt ? fmtDuration(end - Date.parse(t.startedAt)) : '—')),
      t.clientId ? h('tr', null, h('th', { scope: 'row' }, 'Client'), h('td', null, t.clientId)) : null)));
    const strategies = new Map(study?.spec.objective.metricStrategies.map((m) => [m.name, m.value]) ?? []);
    replace(metrics, h('h2', null, 'Metrics'), t.metrics.length === 0 ? h('p', { class: 'muted' }, 'No metric reported yet.') :
      h('div', { class: 'table-wrap' }, h('table', { class: 'data compact', id: 'metrics-table' },
        h('thead', null, h('tr', null, ['Metric', 'Value', 'Min', 'Max', 'Latest', 'Count'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, t.metrics.map((m) => {
          const s = strategies.get(m.name) ?? 'latest';
          return h('tr', null, h('th', { scope: 'row' }, m.name, m.name === study?.objective.metric ? ' (objective)' : ''),
            h('td', { class: 'num' }, h('strong', null, fmtNumber(m[s])), ` (${s})`),
            h('td', { class: 'num' }, fmtNumber(m.min)), h('td', { class: 'num' }, fmtNumber(m.max)),
            h('td', { class: 'num' }, fmtNumber(m.latest)), h('td', { class: 'num' }, m.count));
        })))));
  };

  const renderCurves = (): Promise<void> => {
    curves ??= mountChart('trial-curves', curvesEl);
    const byMetric = new Map<string, Observation[]>();
    for (const o of observations) {
      const points = byMetric.get(o.metric);
      if (points) points.push(o);
      else byMetric.set(o.metric, [o]);
    }
    const reported = trial?.metrics.reduce((n, m) => n + m.count, 0) ?? observations.length;
    curvesCaption.textContent = allObservations ? 'Curves' : `Curves: the first ${MAX_CHART_OBSERVATIONS.toLocaleString()} of ${reported.toLocaleString()} observations`;
    // The stop is marked on the objective's curve: that is the curve its policy judged.
    const stoppedAt = (metric: string) => (metric === study?.objective.metric ? trial?.stoppedAtStep ?? null : null);
    return draw(curves, curvesOption([...byMetric].map(([metric, points]) => ({ name: metric, points, stoppedAt: stoppedAt(metric) })), 'value'));
  };

  const renderLog = () => {
    const atBottom = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
    logPre.textContent = log.lines.length ? log.lines.join('\n') : (log.size === 0 ? 'No log here (ask/tell trials and trials on other machines keep theirs).' : '');
    logInfo.textContent = log.size ? `${log.size.toLocaleString()} bytes${active() ? ' · live' : ''}` : '';
    if (atBottom) logPre.scrollTop = logPre.scrollHeight;
  };

  const render = throttle(() => { renderInfo(); void renderCurves(); renderLog(); }, 250);

  const refreshLog = async () => {
    try {
      log = await api('GET', `/trials/${encodeURIComponent(name)}/log?tail=${tail}`, undefined, signal);
      renderLog();
    } catch {
      // kept as it was
    }
  };
  const refreshData = async () => {
    const [obs, lg] = await Promise.all([
      chartObservations(name, signal),
      api<{ lines: string[]; size: number }>('GET', `/trials/${encodeURIComponent(name)}/log?tail=${tail}`, undefined, signal),
    ]);
    observations = obs.observations;
    allObservations = obs.complete;
    log = lg;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    if (signal.aborted) return;
    const wasActive = active();
    try {
      trial = await api<Trial>('GET', `/trials/${encodeURIComponent(name)}`, undefined, signal);
      await refreshData();
      render();
    } catch {
      // try again later
    }
    if (wasActive && !signal.aborted) timer = setTimeout(poll, POLL_MS);
  };

  const load = async () => {
    try {
      trial = await api<Trial>('GET', `/trials/${encodeURIComponent(name)}`, undefined, signal);
      const studyName = trial.study;
      [study] = await Promise.all([api<Study>('GET', `/studies/${encodeURIComponent(studyName)}`, undefined, signal), refreshData()]);
      status.remove();
      document.title = `${name} · Sibyl`;
      renderInfo();
      renderLog();
      const drawn = renderCurves();
      followStudy(studyName, (e) => {
        if (e.type === 'trial' && e.trial.name === name) {
          const was = active();
          trial = e.trial;
          render();
          // Ended: read the final curves and log once more.
          if (was && !active()) void refreshData().then(render, () => {});
        }
      }, signal);
      if (active()) timer = setTimeout(poll, POLL_MS);
      await drawn;
      markReady();
    } catch (err) {
      if (signal.aborted) return;
      showLoadError(status, err, 'trial', name);
    }
  };
  void load();

  return () => {
    clearTimeout(timer);
    ctl.abort();
  };
}
