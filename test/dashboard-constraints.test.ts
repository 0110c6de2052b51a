// The dashboard with outcome constraints, in a real browser (Debian's Chromium via
// playwright-core, installed by scripts/ensure-chromium.sh when missing): the Feasible column
// as text, infeasible rows apart, infeasible trials in their own series of the optimisation
// history and out of its best-so-far line, and the trial page saying why. Screenshot in test-artifacts/.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS, useBrowser } from './support/browser.js';
import { startTestServer } from './support/server.js';

const chrome = useBrowser();

declare const window: any;
declare const document: any;

const STUDY = {
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name: 'dash-bound' },
  spec: {
    objective: { type: 'minimize', objectiveMetricName: 'loss', additionalMetricNames: ['latency'], constraints: [{ metricName: 'latency', max: 20 }] },
    algorithm: { algorithmName: 'random', algorithmSettings: [{ name: 'random_state', value: '5' }] },
    parallelTrialCount: 1,
    maxTrialCount: 4,
    parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } }],
  },
};

test('outcome constraints: the Feasible column, infeasible trials drawn apart and never in the best-so-far line, the trial page saying so', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: STUDY, runtime: 'external' })).status, 201);
    // In completion order: feasible 3, infeasible 1 (10 past the bound), feasible 2, infeasible 0.5 (latency never came).
    const outcomes = [[3, 10], [1, 30], [2, 20], [0.5, undefined]] as const;
    const names: string[] = [];
    for (const [loss, latency] of outcomes) {
      const asked = await s.http('POST', '/api/v1/studies/dash-bound/suggest', { count: 1, clientId: 'w' });
      const name = asked.body.trials[0].name as string;
      names.push(name);
      const metrics = [{ metric: 'loss', value: loss }, ...(latency === undefined ? [] : [{ metric: 'latency', value: latency }])];
      assert.equal((await s.http('POST', `/api/v1/trials/${name}/complete`, { metrics })).status, 200);
    }
    const study = (await s.http('GET', '/api/v1/studies/dash-bound')).body;
    assert.equal(study.state, 'SUCCEEDED');
    assert.equal(study.best.trial, names[2], 'the best feasible trial, not the lower infeasible ones');

    await page.goto(`${s.base}/studies/dash-bound`);
    await page.waitForFunction(() => window.__sibylReady === true, undefined, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('#trials-table tbody tr').length === 4, undefined, { timeout: 10_000 });
    assert.equal(await page.locator('#study-constraints').innerText(), 'Constraints: latency <= 20');
    const headers = await page.locator('#trials-table thead th').allInnerTexts();
    assert.ok(headers.some((h) => h.includes('Feasible')), headers.join(' | '));
    const cell = (name: string) => page.locator(`#trials-table tr[data-trial="${name}"] [data-col="feasible"]`);
    assert.deepEqual(await Promise.all(names.map((n) => cell(n).innerText())), ['yes', 'no (+10)', 'yes', 'no (metric missing)']);
    assert.equal(await cell(names[1]!).evaluate((e: any) => e.children.length), 0, 'the cell is text, no markup');
    const classes = await Promise.all(names.map((n) => page.locator(`#trials-table tr[data-trial="${n}"]`).getAttribute('class')));
    assert.deepEqual(classes, [null, 'infeasible', 'best', 'infeasible']);

    const history = await page.evaluate(() => {
      const o = window.__sibylCharts.history.getOption();
      const of = (id: string) => o.series.find((x: { id: string }) => x.id === id);
      return { objective: of('objective').data, infeasible: of('infeasible').data, symbol: of('infeasible').symbol, best: of('best').data };
    });
    assert.deepEqual(history.objective.map((p: unknown[]) => p[1]), [3, 2]);
    assert.deepEqual(history.infeasible.map((p: unknown[]) => [p[1], p[2]]), [[1, names[1]], [0.5, names[3]]]);
    assert.equal(history.symbol, 'emptyCircle');
    assert.deepEqual(history.best.map((p: number[]) => p[1]), [3, 2], 'the best-so-far line skips infeasible trials');
    const tip = await page.evaluate(async () => {
      const chart = window.__sibylCharts.history;
      const seriesIndex = chart.getOption().series.findIndex((x: { id: string }) => x.id === 'infeasible');
      chart.dispatchAction({ type: 'showTip', seriesIndex, dataIndex: 0 });
      await new Promise((r) => setTimeout(r, 300));
      const el = [...chart.getDom().querySelectorAll('div')].find((d: any) => d.style.pointerEvents === 'none' && d.textContent);
      return el ? el.textContent : '';
    });
    assert.match(tip, /infeasible: broke a constraint/);
    await page.screenshot({ path: join(ARTIFACTS, 'study-constraints.png'), fullPage: true });

    await page.goto(`${s.base}/trials/${names[1]}`);
    await page.waitForSelector('#trial-infeasible', { timeout: 30_000 });
    assert.equal(await page.locator('#trial-infeasible').innerText(), 'Infeasible: it broke an outcome constraint no (+10), so it is never the best trial');
    await page.goto(`${s.base}/trials/${names[0]}`);
    await page.waitForSelector('#trial-state', { timeout: 30_000 });
    assert.equal(await page.locator('#trial-infeasible').count(), 0);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await s.close();
  }
});
