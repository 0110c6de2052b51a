// The studies page: every study with its state, progress and best value, live through the
// event streams of (up to four) unfinished studies and a slow refresh of the list.
import { api, followStudy, listAll } from './api.js';
import { age, fmtNumber, h, replace, stateBadge, throttle } from './dom.js';
import { ACTIVE_TRIAL_STATES, TERMINAL_STUDY_STATES, type Study } from './types.js';

const MAX_STREAMS = 4;
const REFRESH_MS = 10_000;

export function counts(s: Study): { completed: number; running: number; failed: number } {
  let completed = 0;
  let running = 0;
  for (const [state, n] of Object.entries(s.trials)) {
    if ((ACTIVE_TRIAL_STATES as readonly string[]).includes(state)) running += n;
    else completed += n;
  }
  return { completed, running, failed: (s.trials.FAILED ?? 0) + (s.trials.METRICS_UNAVAILABLE ?? 0) };
}

export function studiesPage(root: HTMLElement): () => void {
  const ctl = new AbortController();
  const studies = new Map<string, Study>();
  const streams = new Map<string, AbortController>();
  let loaded = false;
  let error = '';

  const body = h('tbody');
  const status = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  root.append(
    h('h1', null, 'Studies'),
    status,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'data', id: 'studies-table' },
        h('caption', { class: 'sr-only' }, 'Studies'),
        h('thead', null, h('tr', null, ...['Study', 'State', 'Algorithm', 'Progress', 'Running', 'Failed', 'Best', 'Age'].map((c) => h('th', { scope: 'col' }, c)))),
        body)),
  );

  const render = throttle(() => {
    if (error) status.textContent = error;
    else if (!loaded) status.textContent = 'Loading…';
    else status.textContent = studies.size === 0 ? 'No studies yet: create one with `sibyl submit <study.yaml> --server …`.' : `${studies.size} ${studies.size === 1 ? 'study' : 'studies'}`;
    const rows = [...studies.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1)).map((s) => {
      const c = counts(s);
      const max = s.maxTrialCount;
      return h('tr', { 'data-study': s.name },
        h('th', { scope: 'row' }, h('a', { href: `/studies/${encodeURIComponent(s.name)}` }, s.name)),
        h('td', null, stateBadge(s.state, s.message), s.reason ? h('span', { class: 'reason' }, ` ${s.reason}`) : null),
        h('td', null, s.algorithm),
        h('td', { class: 'progress-cell' },
          max ? h('progress', { max, value: Math.min(c.completed, max), 'aria-label': `${c.completed} of ${max} trials completed` }) : null,
          ` ${c.completed} / ${max ?? '∞'}`),
        h('td', { class: 'num' }, c.running),
        h('td', { class: 'num' }, c.failed),
        h('td', { class: 'num' }, s.best ? h('a', { href: `/trials/${encodeURIComponent(s.best.trial)}`, title: s.best.trial }, fmtNumber(s.best.value)) : '—'),
        h('td', null, age(s.createdAt)));
    });
    replace(body, rows);
  }, 250);

  const follow = () => {
    const active = [...studies.values()].filter((s) => !TERMINAL_STUDY_STATES.includes(s.state)).slice(0, MAX_STREAMS).map((s) => s.name);
    for (const [name, c] of streams) if (!active.includes(name)) { c.abort(); streams.delete(name); }
    for (const name of active) {
      if (streams.has(name)) continue;
      const c = new AbortController();
      ctl.signal.addEventListener('abort', () => c.abort());
      streams.set(name, c);
      followStudy(name, (e) => {
        if (e.type === 'study') {
          studies.set(e.study.name, e.study);
          if (TERMINAL_STUDY_STATES.includes(e.study.state)) follow();
          render();
        } else {
          // A trial changed: its study's counts and best changed too.
          refreshOne(name);
        }
      }, c.signal);
    }
  };

  const pendingOne = new Set<string>();
  const refreshOne = (name: string) => {
    if (pendingOne.has(name)) return;
    pendingOne.add(name);
    setTimeout(async () => {
      try {
        studies.set(name, await api<Study>('GET', `/studies/${encodeURIComponent(name)}`, undefined, ctl.signal));
        render();
      } catch {
        // the next refresh tries again
      } finally {
        pendingOne.delete(name);
      }
    }, 300);
  };

  const load = async () => {
    try {
      const list = await listAll<Study>('/studies', 'studies', ctl.signal);
      studies.clear();
      for (const s of list) studies.set(s.name, s);
      loaded = true;
      error = '';
      follow();
    } catch (e) {
      if (!ctl.signal.aborted) error = `Could not load the studies: ${(e as Error).message}`;
    }
    render();
  };
  void load();
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void load();
  }, REFRESH_MS);

  return () => {
    clearInterval(timer);
    ctl.abort();
  };
}
