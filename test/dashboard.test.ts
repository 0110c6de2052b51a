// The dashboard in a real browser: Debian's Chromium (scripts/ensure-chromium.sh installs it
// when missing) driven by playwright-core against a real server with the local runtime.
// Screenshots of every page go to test-artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ARTIFACTS, useBrowser } from './support/browser.js';
import { startTestServer, type TestServer } from './support/server.js';

const chrome = useBrowser();

function experiment(name: string, command: string, budget: Record<string, unknown>, algorithm = 'random') {
  return {
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { name },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'score', additionalMetricNames: ['loss'] },
      algorithm: { algorithmName: algorithm, algorithmSettings: [{ name: 'random_state', value: '7' }] },
      ...budget,
      parameters: [
        { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.001', max: '0.1', distribution: 'logUniform' } },
        { name: 'layers', parameterType: 'int', feasibleSpace: { min: '1', max: '4' } },
        { name: 'opt', parameterType: 'categorical', feasibleSpace: { list: ['adam', 'sgd'] } },
      ],
      trialTemplate: {
        trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'layers', reference: 'layers' }, { name: 'opt', reference: 'opt' }],
        command: ['sh', '-c', command],
      },
    },
  };
}

async function waitForStudy(s: TestServer, name: string, states: string[], timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await s.http('GET', `/api/v1/studies/${name}`);
    if (states.includes(r.body.state)) return r.body;
    if (Date.now() > deadline) throw new Error(`study ${name} is ${r.body.state}, not ${states.join('/')}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function newPage(width = 1280, height = 800): Promise<Page> {
  const page = await chrome.browser.newPage({ viewport: { width, height } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return page;
}

const ready = (page: Page) => page.waitForFunction(() => window.__sibylReady === true, undefined, { timeout: 30_000 });
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const rowCount = (page: Page) => page.locator('#trials-table tbody tr').count();

// The page's globals, inside page.evaluate/waitForFunction callbacks (this project compiles without the DOM lib).
declare const window: any;
declare const document: any;

test('a finished study: every trial in the table and the plots, the trial page with its curve and log', { timeout: 180_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  const page = await newPage();
  try {
    const command = 'echo "epoch=1 score=0.5 loss=2"; echo "epoch=2 score=${trialParameters.layers} loss=1"; echo "trained with ${trialParameters.opt} at ${trialParameters.lr}"';
    const created = await s.http('POST', '/api/v1/studies', { spec: experiment('dash-done', command, { parallelTrialCount: 3, maxTrialCount: 6 }), runtime: 'local' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const study = await waitForStudy(s, 'dash-done', ['SUCCEEDED']);
    assert.equal(study.trials.SUCCEEDED, 6);

    // The routes the page uses.
    const obs = await s.http('GET', '/api/v1/trials/dash-done-0001/observations');
    assert.equal(obs.status, 200);
    assert.deepEqual(obs.body.observations.map((o: { metric: string; step: number }) => `${o.metric}@${o.step}`).sort(), ['loss@1', 'loss@2', 'score@1', 'score@2']);
    const log = await s.http('GET', '/api/v1/trials/dash-done-0001/log?tail=1');
    assert.equal(log.status, 200);
    assert.equal(log.body.lines.length, 1);
    assert.match(log.body.lines[0], /^trained with (adam|sgd) at /);
    assert.equal((await s.http('GET', '/api/v1/trials/dash-done-0001/log?tail=0')).status, 400);
    assert.equal((await s.http('GET', '/api/v1/trials/nope-0001/log')).status, 404);

    // The studies page.
    await page.goto(`${s.base}/`);
    await page.locator('#studies-table tbody tr[data-study="dash-done"]').waitFor();
    assert.match(await page.locator('#studies-table tbody tr[data-study="dash-done"]').innerText(), /SUCCEEDED[\s\S]*random[\s\S]*6 \/ 6/);
    await shot(page, 'studies');

    // The study page: the table and the plots have one entry per trial.
    await page.locator('a[href="/studies/dash-done"]').first().click();
    await page.waitForURL('**/studies/dash-done');
    await ready(page);
    assert.equal(await rowCount(page), 6);
    // The curves of the default selection (the best trial and the latest ones) load after the page.
    await page.waitForFunction(() => window.__sibylCharts.curves.getOption().series.length >= 1, undefined, { timeout: 10_000 });
    const charts = await page.evaluate(() => {
      const c = window.__sibylCharts;
      const history = c.history!.getOption();
      const parallel = c.parallel!.getOption();
      return {
        history: history.series[0].data.length,
        best: history.series[1].data.length,
        parallel: parallel.series[0].data.length,
        axes: parallel.parallelAxis.map((a: { name: string; type: string }) => `${a.name}:${a.type}`),
        slices: Object.keys(c).filter((k) => k.startsWith('slice:')).map((k) => c[k]!.getOption().series[0].data.length),
        curves: c.curves!.getOption().series.length,
      };
    });
    assert.equal(charts.history, 6);
    assert.equal(charts.best, 6);
    assert.equal(charts.parallel, 6);
    assert.deepEqual(charts.axes, ['lr:log', 'layers:value', 'opt:category', 'score:value']);
    assert.deepEqual(charts.slices, [6, 6, 6]);
    assert.ok(charts.curves >= 1, 'the best trial\'s curve is shown');
    assert.match(await page.locator('#study-state').innerText(), /SUCCEEDED/);
    // Sorting and filtering the table.
    await page.locator('button[data-sort="objective"]').click();
    const first = await page.locator('#trials-table tbody tr').first().getAttribute('data-trial');
    assert.equal(first, study.best.trial);
    await page.locator('#trial-filter').fill('opt=adam');
    await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length !== 6 || document.querySelector('#trial-count')?.textContent?.includes('of'));
    const adam = Object.values(await (await s.http('GET', '/api/v1/studies/dash-done/trials')).body.trials).filter((t: any) => t.assignment.opt === 'adam').length;
    assert.equal(await rowCount(page), adam);
    await page.locator('#trial-filter').fill('');
    await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length === 6);
    await shot(page, 'study-finished');

    // The trial page, from the table.
    await page.locator('#trials-table a[href="/trials/dash-done-0002"]').click();
    await page.waitForURL('**/trials/dash-done-0002');
    await ready(page);
    assert.match(await page.locator('#trial-log').innerText(), /trained with (adam|sgd)/);
    const series = await page.evaluate(() => window.__sibylCharts['trial-curves']!.getOption().series.map((x: { name: string; data: unknown[] }) => `${x.name}:${x.data.length}`));
    assert.deepEqual(series.sort(), ['loss:2', 'score:2']);
    assert.match(await page.locator('#metrics-table').innerText(), /score \(objective\)/);
    await shot(page, 'trial');

    // A narrow (phone) width: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${s.base}/studies/dash-done`);
    await ready(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 376, `the page is ${overflow}px wide at 375px`);
    await shot(page, 'study-narrow');
    // Keyboard: the first control reached by Tab is the skip link, then the links and buttons.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  } finally {
    await page.close();
    await s.close();
  }
});

test('a running study: new trials appear without a reload; stop study ends it', { timeout: 180_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  const page = await newPage();
  try {
    const command = 'echo "epoch=1 score=0.1 loss=3 (${trialParameters.opt}, ${trialParameters.lr})"; sleep 0.7; echo "epoch=2 score=${trialParameters.layers} loss=1"';
    const created = await s.http('POST', '/api/v1/studies', { spec: experiment('dash-live', command, { parallelTrialCount: 2, maxTrialCount: 200 }), runtime: 'local' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await waitForStudy(s, 'dash-live', ['RUNNING']);
    await page.goto(`${s.base}/studies/dash-live`);
    await ready(page);
    const before = await rowCount(page);
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    await page.waitForFunction((n) => document.querySelectorAll('#trials-table tbody tr').length >= n + 2, before, { timeout: 30_000 });
    assert.equal(navigations, 0, 'no reload');
    await page.waitForFunction(() => window.__sibylCharts.history!.getOption().series[0].data.length >= 1, undefined, { timeout: 30_000 });
    await shot(page, 'study-running');

    // The budget form reaches the API.
    await page.locator('#budget-parallel').fill('3');
    await page.locator('#budget-form button[type=submit]').click();
    await page.waitForFunction(() => document.querySelector('#study-head, .study-head')?.textContent?.includes('parallel 3'), undefined, { timeout: 10_000 });
    assert.equal((await s.http('GET', '/api/v1/studies/dash-live')).body.parallelTrialCount, 3);

    // Stop study: two presses (the first arms the button).
    await page.locator('#stop-study').click();
    await page.locator('#stop-study').click();
    await page.locator('#study-state[data-state="STOPPED"]').waitFor({ timeout: 30_000 });
    assert.equal((await s.http('GET', '/api/v1/studies/dash-live')).body.state, 'STOPPED');
    await page.waitForFunction(() => ![...document.querySelectorAll('#trials-table tbody tr [data-state]')].some((b) => ['RUNNING', 'CREATED'].includes(b.getAttribute('data-state')!)), undefined, { timeout: 30_000 });
    await shot(page, 'study-stopped');
  } finally {
    await page.close();
    await s.close();
  }
});

test('#3 (hardening) hostile strings in every user-controlled field render as text on every page, tooltips included, under a CSP that is never violated', { timeout: 180_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  const page = await newPage();
  // Each string runs a script if it is ever parsed as HTML; `window.__xss` records which did.
  const evil = (n: number) => `<img src=x onerror="window.__xss=(window.__xss||[]).concat(${n})">`;
  const P = `p${evil(1)}`;
  const CAT = [`"><script>window.__xss=[2]</script>`, evil(3), '{a|b} &amp; <b>bold</b>'];
  const METRIC = `m${evil(4)}`;
  const EXTRA = `loss<svg onload="window.__xss=[5]">`;
  const REASON = `infeasible ${evil(6)}`;
  const CLIENT = `client${evil(7)}`;
  const LOG = `<script>window.__xss=[8]</script>${evil(9)}`;
  try {
    await page.addInitScript(() => {
      (window as any).__csp = [];
      document.addEventListener('securitypolicyviolation', (e: any) => (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    // An ask/tell study whose parameter, values, metrics, reason and client are all hostile.
    const doc = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'hostile' },
      spec: {
        objective: { type: 'maximize', objectiveMetricName: METRIC, additionalMetricNames: [EXTRA] },
        algorithm: { algorithmName: 'random', algorithmSettings: [{ name: 'random_state', value: '1' }] },
        maxTrialCount: 6, parallelTrialCount: 3,
        parameters: [{ name: P, parameterType: 'categorical', feasibleSpace: { list: CAT } }, { name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } }],
      },
    };
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: doc, runtime: 'external' })).status, 201);
    const trials = (await s.http('POST', '/api/v1/studies/hostile/suggest', { clientId: CLIENT, count: 3 })).body.trials;
    for (const [i, t] of trials.entries()) {
      await s.http('POST', `/api/v1/trials/${t.name}/observations`, { observations: [{ metric: METRIC, value: 0.1 * i, step: 1 }, { metric: EXTRA, value: 1, step: 1 }] });
      const outcome = i === 2 ? { infeasible: true, reason: REASON } : { metrics: [{ metric: METRIC, value: 0.5 + i, step: 2 }] };
      assert.equal((await s.http('POST', `/api/v1/trials/${t.name}/complete`, outcome)).status, 200);
    }
    // A local study whose trial prints hostile log lines.
    const logDoc = experiment('hostile-log', `echo '${LOG}'; echo "score=1 loss=1 \${trialParameters.lr} \${trialParameters.layers} \${trialParameters.opt}"`, { parallelTrialCount: 1, maxTrialCount: 1 });
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: logDoc, runtime: 'local' })).status, 201);
    await waitForStudy(s, 'hostile-log', ['SUCCEEDED']);

    const text = () => page.evaluate(() => document.body.innerText as string);
    const noScriptRan = async (where: string) => {
      assert.equal(await page.evaluate(() => window.__xss), undefined, `${where}: an injected script ran`);
      assert.deepEqual(await page.evaluate(() => window.__csp), [], `${where}: the CSP was violated`);
    };
    // The studies page.
    await page.goto(`${s.base}/`);
    await page.locator('#studies-table tbody tr[data-study="hostile"]').waitFor();
    await noScriptRan('studies');
    // The study page: the search space, the table, the spec as YAML, every chart's tooltip.
    await page.goto(`${s.base}/studies/hostile`);
    await ready(page);
    await page.locator('details summary#yaml-h').click();
    const studyText = await text();
    for (const str of [P, ...CAT, METRIC, EXTRA]) assert.ok(studyText.includes(str), `the study page shows ${str} as text`);
    const tooltips: string[] = [];
    for (const id of await page.evaluate(() => Object.keys(window.__sibylCharts))) {
      tooltips.push(await page.evaluate(async (chartId: string) => {
        const chart = window.__sibylCharts[chartId];
        const option = chart.getOption();
        if (!option.series?.[0]?.data?.length) return ''; // nothing to point at
        if (option.series[0].type === 'parallel') {
          // ECharts cannot point its tooltip at a parallel line from code: the markup the formatter builds must be inert.
          const markup = String(option.tooltip[0].formatter({ data: option.series[0].data[0] }));
          const probe = document.createElement('div');
          probe.innerHTML = markup; // what ECharts does with it
          return probe.querySelector('img, script, svg') ? 'UNESCAPED' : probe.textContent;
        }
        chart.dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
        await new Promise((r) => setTimeout(r, 300));
        const tip = [...chart.getDom().querySelectorAll('div')].find((d: any) => d.style.pointerEvents === 'none' && d.textContent);
        return tip ? tip.textContent : '';
      }, id));
    }
    assert.ok(!tooltips.includes('UNESCAPED'), `the parallel chart's tooltip markup holds elements: ${JSON.stringify(tooltips)}`);
    assert.ok(tooltips.some((t) => t.includes(METRIC)), `a tooltip shows the metric name as text: ${JSON.stringify(tooltips)}`);
    assert.ok(tooltips.some((t) => CAT.some((c) => t.includes(c))), `the slice tooltip shows the categorical value as text: ${JSON.stringify(tooltips)}`);
    await shot(page, 'study-hostile');
    await noScriptRan('study');
    // The trial pages: assignment, metrics, reason, client, log.
    await page.goto(`${s.base}/trials/${trials[2].name}`);
    await ready(page);
    const trialText = await text();
    for (const str of [P, REASON, CLIENT, METRIC, EXTRA]) assert.ok(trialText.includes(str), `the trial page shows ${str} as text`);
    await page.evaluate(() => {
      const chart = window.__sibylCharts['trial-curves'];
      chart.dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
    });
    await new Promise((r) => setTimeout(r, 300));
    await noScriptRan('trial');
    await page.goto(`${s.base}/trials/hostile-log-0001`);
    await ready(page);
    await page.waitForFunction((line: string) => document.querySelector('#trial-log')?.textContent?.includes(line), LOG, { timeout: 10_000 });
    await shot(page, 'trial-hostile');
    await noScriptRan('trial log');
    // The page of a study or trial that does not exist names it, as text, in an alert.
    const missing = `missing${evil(10)}`;
    for (const [kind, path] of [['study', 'studies'], ['trial', 'trials']] as const) {
      await page.goto(`${s.base}/${path}/${encodeURIComponent(missing)}`);
      const alert = page.locator('p[role=alert]');
      await alert.waitFor({ timeout: 10_000 });
      assert.equal(await alert.textContent(), `There is no ${kind} named "${missing}".`);
      await noScriptRan(`missing ${kind}`);
    }
    // The page is served under the policy that makes all of this hold.
    const headers = (await s.http('GET', '/studies/hostile')).headers;
    assert.match(headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(headers.get('content-security-policy') ?? '', /default-src 'none'/);
  } finally {
    await page.close();
    await s.close();
  }
});

/** An ask/tell study with medianstop: after three trials, a trial below their median by step 4 is stopped there. */
function earlyStoppingDoc(name: string, metric: string, qualities: readonly string[]) {
  return {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: metric },
      algorithm: { algorithmName: 'grid' },
      earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }] },
      parallelTrialCount: 1, maxTrialCount: qualities.length,
      parameters: [{ name: 'q', parameterType: 'categorical', feasibleSpace: { list: qualities } }],
    },
  };
}

/**
 * Runs an ask/tell study one trial at a time: each reports the curve q · (1 − e^(−step/2)) step by
 * step, asks should-stop after each report, and sends one more report once told to stop (which
 * ends it EARLY_STOPPED, as a client that obeys does); the others run all steps and complete.
 */
async function runCurves(s: TestServer, study: string, metric: string, steps: number) {
  for (;;) {
    const asked = await s.http('POST', `/api/v1/studies/${study}/suggest`, { count: 1, clientId: 'notebook' });
    if (asked.status === 409 || asked.body.trials.length === 0) return;
    const [trial] = asked.body.trials;
    let told = false;
    for (let step = 1; step <= steps; step++) {
      const report = await s.http('POST', `/api/v1/trials/${trial.name}/observations`, { observations: [{ metric, value: Number(trial.assignment.q) * (1 - Math.exp(-step / 2)), step }] });
      assert.equal(report.status, 200, JSON.stringify(report.body));
      if (told) break;
      told = (await s.http('GET', `/api/v1/trials/${trial.name}/should-stop`)).body.shouldStop;
    }
    if (!told) assert.equal((await s.http('POST', `/api/v1/trials/${trial.name}/complete`, {})).status, 200);
  }
}

/** The text of the tooltip a chart shows for one of its points (ECharts draws it as a div). */
async function tooltipOf(page: Page, chartId: string, seriesId: string, dataIndex = 0): Promise<string> {
  return page.evaluate(async ([id, sid, i]: [string, string, number]) => {
    const chart = window.__sibylCharts[id];
    const seriesIndex = chart.getOption().series.findIndex((x: { id: string }) => x.id === sid);
    chart.dispatchAction({ type: 'showTip', seriesIndex, dataIndex: i });
    await new Promise((r) => setTimeout(r, 300));
    const tip = [...chart.getDom().querySelectorAll('div')].find((d: any) => d.style.pointerEvents === 'none' && d.textContent);
    return tip ? tip.textContent : '';
  }, [chartId, seriesId, dataIndex] as [string, string, number]);
}

test('an early-stopped study: the badge, the step, the steps saved, the stop marked in every chart and on the trial page; a hostile metric name stays text', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  const page = await newPage();
  try {
    await page.addInitScript(() => {
      (window as any).__csp = [];
      document.addEventListener('securitypolicyviolation', (e: any) => (window as any).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    // 0.2 and 0.1 fall below the median of the first three by step 4 and stop there; 0.85 does not.
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: earlyStoppingDoc('dash-es', 'accuracy', ['0.9', '0.8', '0.7', '0.2', '0.85', '0.1']), runtime: 'external' })).status, 201);
    await runCurves(s, 'dash-es', 'accuracy', 8);
    const study = (await s.http('GET', '/api/v1/studies/dash-es')).body;
    assert.equal(study.state, 'SUCCEEDED');
    const stopped: { name: string; stoppedAtStep: number; message: string }[] = (await s.http('GET', '/api/v1/studies/dash-es/trials?state=EARLY_STOPPED')).body.trials;
    assert.equal(stopped.length, 2);
    assert.deepEqual(stopped.map((t) => t.stoppedAtStep), [4, 4]);
    const es = study.earlyStopping;
    assert.deepEqual([es.algorithm, es.trialsStopped], ['medianstop', 2]);
    const share = Math.round((100 * es.stepsSaved) / (es.stepsRun + es.stepsSaved));

    // The study page: the summary with the API's numbers, the badge and the step in the table.
    await page.goto(`${s.base}/studies/dash-es`);
    await ready(page);
    assert.equal(await page.locator('#early-stopping-summary').innerText(),
      `Early stopping (medianstop): 2 trials stopped · ${es.stepsRun} steps run · ${es.stepsSaved} steps saved (${share}% of the budget)`);
    assert.match(await page.locator('#study-progress').innerText(), /· 2 early stopped$/);
    assert.match(await page.locator('#early-stopping-spec').innerText(), /medianstop \(min_trials_required=3, start_step=4\)/);
    assert.equal(await rowCount(page), 6);
    for (const t of stopped) {
      const row = page.locator(`#trials-table tr[data-trial="${t.name}"]`);
      assert.equal(await row.locator('[data-state="EARLY_STOPPED"]').innerText(), 'EARLY_STOPPED');
      assert.equal(await row.locator('[data-col="stopped-at"]').innerText(), 'step 4');
    }
    const stepsShown = await page.locator('#trials-table [data-col="stopped-at"]').allInnerTexts();
    assert.equal(stepsShown.filter((x) => x === '—').length, 4, 'the trials that ran to the end show no step');
    // The state filter.
    await page.locator('#state-filter').selectOption('EARLY_STOPPED');
    await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length === 2);
    assert.deepEqual((await page.locator('#trials-table tbody tr').evaluateAll((rows) => rows.map((r: any) => r.dataset.trial))).sort(), stopped.map((t) => t.name).sort());
    await page.locator('#state-filter').selectOption('');
    await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length === 6);

    // The history, parallel and slice charts keep the stopped trials in a series of their own, named in the legend.
    const charts = await page.evaluate(() => {
      const c = window.__sibylCharts;
      const of = (id: string) => {
        const o = c[id].getOption();
        const byId = Object.fromEntries(o.series.map((x: { id: string; data: unknown[] }) => [x.id, x.data.length]));
        const legend = (o.legend?.[0]?.data ?? o.series).map((x: string | { name: string }) => (typeof x === 'string' ? x : x.name)) as string[];
        return { byId, legend, stopped: o.series.find((x: { id: string }) => x.id === 'early-stopped')?.data as unknown[][] };
      };
      return { history: of('history'), parallel: of('parallel'), slice: of('slice:q') };
    });
    assert.deepEqual(charts.history.byId, { objective: 4, best: 6, 'early-stopped': 2 });
    assert.ok(charts.history.legend.includes('early stopped'), JSON.stringify(charts.history));
    assert.deepEqual(charts.parallel.byId, { trials: 4, 'early-stopped': 2 });
    assert.deepEqual(charts.parallel.legend, ['early stopped']);
    assert.deepEqual(charts.slice.byId, { trials: 4, 'early-stopped': 2 });
    const names = stopped.map((t) => t.name).sort();
    assert.deepEqual(charts.history.stopped.map((d) => `${d[2]}@${d[3]}`).sort(), names.map((n) => `${n}@4`), 'history: [order, value, trial, stop step]');
    assert.deepEqual(charts.parallel.stopped.map((d) => `${d.at(-2)}@${d.at(-1)}`).sort(), names.map((n) => `${n}@4`), 'parallel: [q, value, trial, stop step]');
    assert.deepEqual(charts.slice.stopped.map((d) => `${d[2]}@${d[3]}`).sort(), names.map((n) => `${n}@4`), 'slice: [q, value, trial, stop step]');
    assert.match(await tooltipOf(page, 'slice:q', 'early-stopped'), /dash-es-000\d.*early stopped at step 4/);
    assert.match(await tooltipOf(page, 'history', 'early-stopped'), /dash-es-000\d.*early stopped at step 4/);

    // The curves: a cross at each selected stopped trial's stop step, with its tooltip.
    for (const t of stopped) await page.locator(`#trials-table tr[data-trial="${t.name}"] input[type=checkbox]`).check();
    await page.waitForFunction((n: number) => window.__sibylCharts.curves.getOption().series.find((x: { id: string }) => x.id === 'early-stopped')?.data.length === n, stopped.length, { timeout: 10_000 });
    const marks = await page.evaluate(() => window.__sibylCharts.curves.getOption().series.find((x: { id: string }) => x.id === 'early-stopped').data);
    const obs = (await s.http('GET', `/api/v1/trials/${stopped[0]!.name}/observations`)).body.observations;
    const atStop = obs.find((o: { step: number }) => o.step === 4).value;
    assert.deepEqual(marks.find((m: unknown[]) => m[2] === stopped[0]!.name), [4, atStop, stopped[0]!.name]);
    const tip = await tooltipOf(page, 'curves', 'early-stopped');
    assert.match(tip, /^step 4/);
    assert.match(tip, /dash-es-000\d: early stopped at step 4/);
    await shot(page, 'study-early-stopping');

    // The trial page: the step, the policy, the reason, and the cross on the objective's curve.
    await page.locator(`#trials-table a[href="/trials/${stopped[0]!.name}"]`).click();
    await page.waitForURL(`**/trials/${stopped[0]!.name}`);
    await ready(page);
    assert.equal(await page.locator('#trial-state').getAttribute('data-state'), 'EARLY_STOPPED');
    assert.equal(await page.locator('#trial-early-stop').innerText(), 'Early stopped at step 4 by medianstop');
    assert.equal(await page.locator('#trial-message').innerText(), stopped[0]!.message);
    assert.match(stopped[0]!.message, /^stopped at step 4: best value .* worse than the median/);
    const trialMarks = await page.evaluate(() => window.__sibylCharts['trial-curves'].getOption().series.find((x: { id: string }) => x.id === 'early-stopped').data);
    assert.deepEqual(trialMarks, [[4, atStop, 'accuracy']]);
    assert.match(await tooltipOf(page, 'trial-curves', 'early-stopped'), /accuracy: early stopped at step 4/);
    await shot(page, 'trial-early-stopped');

    // A hostile objective name: it names the marker on the trial page and fills every tooltip, as text.
    const METRIC = `acc<img src=x onerror="window.__xss=(window.__xss||[]).concat(1)">`;
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: earlyStoppingDoc('dash-es-hostile', METRIC, ['0.9', '0.8', '0.7', '0.2']), runtime: 'external' })).status, 201);
    await runCurves(s, 'dash-es-hostile', METRIC, 6);
    const [victim] = (await s.http('GET', '/api/v1/studies/dash-es-hostile/trials?state=EARLY_STOPPED')).body.trials;
    assert.ok(victim, 'a trial was stopped');
    await page.goto(`${s.base}/studies/dash-es-hostile`);
    await ready(page);
    await page.waitForFunction(() => window.__sibylCharts.curves.getOption().series.some((x: { id: string }) => x.id === 'early-stopped'), undefined, { timeout: 10_000 });
    assert.ok((await page.evaluate(() => document.body.innerText as string)).includes(METRIC));
    assert.ok((await tooltipOf(page, 'history', 'early-stopped')).includes(`${METRIC} = `));
    assert.match(await tooltipOf(page, 'curves', 'early-stopped'), /early stopped at step 4/);
    const parallelTip = await page.evaluate(() => {
      const o = window.__sibylCharts.parallel.getOption();
      const markup = String(o.tooltip[0].formatter({ seriesId: 'early-stopped', data: o.series[1].data[0] }));
      const probe = document.createElement('div');
      probe.innerHTML = markup;
      return probe.querySelector('img, script, svg') ? 'UNESCAPED' : probe.textContent;
    });
    assert.match(parallelTip, /^dash-es-hostile-000\dearly stopped at step 4$/);
    await page.goto(`${s.base}/trials/${victim.name}`);
    await ready(page);
    assert.ok((await tooltipOf(page, 'trial-curves', 'early-stopped')).includes(`${METRIC}: early stopped at step 4`), 'the marker\'s tooltip names the metric as text');
    assert.ok((await page.evaluate(() => document.body.innerText as string)).includes(METRIC));
    await shot(page, 'trial-early-stopped-hostile');
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'an injected script ran');
    assert.deepEqual(await page.evaluate(() => window.__csp), [], 'the CSP was violated');
  } finally {
    await page.close();
    await s.close();
  }
});

test('a trial with more observations than a chart draws: the trial and study pages show the first 50,000 and say so', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  const page = await newPage();
  try {
    const created = await s.http('POST', '/api/v1/studies', { spec: experiment('dash-long', 'echo ${trialParameters.lr} ${trialParameters.layers} ${trialParameters.opt}', { parallelTrialCount: 1, maxTrialCount: 1 }), runtime: 'external' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const asked = await s.http('POST', '/api/v1/studies/dash-long/suggest', { count: 1, clientId: 'w' });
    const name: string = asked.body.trials[0].name;
    const n = 50_005;
    for (let from = 0; from < n; from += 10_000) {
      const batch = Array.from({ length: Math.min(10_000, n - from) }, (_, i) => ({ metric: 'score', value: Math.sin((from + i) / 500), step: from + i + 1 }));
      assert.equal((await s.http('POST', `/api/v1/trials/${name}/observations`, { observations: batch })).status, 200);
    }
    const drawn = (chart: string) => page.evaluate((id: string) => window.__sibylCharts[id].getOption().series.find((x: { id: string }) => x.id === 'line:score' || x.id.startsWith('line:'))?.data.length, chart);

    await page.goto(`${s.base}/trials/${name}`);
    await ready(page);
    await page.waitForFunction(() => window.__sibylCharts['trial-curves']?.getOption().series.length > 0, undefined, { timeout: 20_000 });
    assert.equal(await drawn('trial-curves'), 50_000);
    assert.equal(await page.locator('#trial-curves-caption').innerText(), `Curves: the first ${(50_000).toLocaleString('en-US')} of ${n.toLocaleString('en-US')} observations`);

    await page.goto(`${s.base}/studies/dash-long`);
    await ready(page);
    await page.locator(`#trials-table tr[data-trial="${name}"] input[type=checkbox]`).check();
    await page.waitForFunction(() => window.__sibylCharts.curves.getOption().series.length > 0, undefined, { timeout: 20_000 });
    assert.equal(await drawn('curves'), 50_000);
    await page.waitForFunction((t: string) => document.querySelector('#curves-note')?.textContent.includes(`the first 50,000 observations of ${t}`), name, { timeout: 10_000 });
    await shot(page, 'study-long-curve');
  } finally {
    await page.close();
    await s.close();
  }
});

test('with a token: the page loads without one, the API asks for it, and the page signs in for a session no script can read', { timeout: 60_000 }, async () => {
  const s = await startTestServer({ runtime: 'external', token: 'sesame' });
  const page = await newPage();
  try {
    assert.equal((await s.http('GET', '/')).status, 200);
    assert.equal((await s.http('GET', '/studies/x')).status, 200);
    assert.equal((await s.http('GET', '/api/v1/studies')).status, 401);
    const index = await s.http('GET', '/');
    const asset = String(index.body).match(/\/assets\/app\.js\?v=\w+/)![0];
    const js = await fetch(`${s.base}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control')!, /immutable/);
    assert.doesNotMatch(String(index.body), /(src|href)="(https?:)?\/\//, 'every asset comes from the server');
    await page.goto(`${s.base}/`);
    await page.locator('#token-dialog[open]').waitFor();
    await page.locator('#token-input').fill('sesame');
    await page.locator('#token-dialog button[value="save"]').click();
    await page.locator('#studies-table').waitFor();
    await page.waitForFunction(() => document.querySelector('[role=status]')?.textContent?.includes('No studies yet'));
    await shot(page, 'studies-token');
    // The browser holds an HttpOnly session cookie: no script sees it or the token, and it is no bearer token.
    assert.equal(await page.evaluate(() => document.cookie), '');
    assert.equal(await page.evaluate(() => JSON.stringify({ ...window.localStorage }) + JSON.stringify({ ...window.sessionStorage })), '{}{}');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'sibyl_session');
    assert.ok(session, 'the session cookie is set');
    assert.deepEqual([session.httpOnly, session.sameSite], [true, 'Strict']);
    assert.notEqual(session.value, 'sesame');
    assert.equal((await s.http('GET', '/api/v1/studies', undefined, { authorization: `Bearer ${session.value}` })).status, 401);
    assert.equal((await s.http('GET', '/api/v1/studies', undefined, { cookie: `sibyl_session=${session.value}` })).status, 200);
    assert.equal((await s.http('GET', '/api/v1/studies', undefined, { cookie: 'sibyl_session=forged' })).status, 401);
    // A wrong token is refused, and signing out ends the session.
    assert.equal((await s.http('POST', '/api/v1/session', { token: 'wrong' })).status, 401);
    await page.locator('#token-button').click();
    await page.locator('#token-clear').click();
    await page.waitForFunction(() => document.querySelector('#token-button')?.textContent === 'Token');
    assert.equal((await page.context().cookies()).find((c) => c.name === 'sibyl_session'), undefined);
  } finally {
    await page.close();
    await s.close();
  }
});
