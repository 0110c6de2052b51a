// The dashboard's multi-objective plots in a real browser (Debian's Chromium through
// playwright-core, as test/dashboard.test.ts): the Pareto plot draws exactly the API's front,
// the hypervolume history has one point per completed trial and never falls, and the table
// marks the front's trials. Screenshot: test-artifacts/pareto.png.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS, useBrowser } from './support/browser.js';
import { startTestServer } from './support/server.js';

const chrome = useBrowser();

declare const window: any;
declare const document: any;

const TRIALS = 20;

test('a multi-objective study: the Pareto plot draws the API\'s front, the hypervolume history, the front marked in the table', { timeout: 180_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on('pageerror', (e) => console.error('page error:', e.message));
  try {
    const spec = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'dash-pareto' },
      spec: {
        objective: { objectives: [{ type: 'minimize', objectiveMetricName: 'f1' }, { type: 'minimize', objectiveMetricName: 'f2' }] },
        algorithm: { algorithmName: 'random', algorithmSettings: [{ name: 'random_state', value: '5' }] },
        parallelTrialCount: 1, maxTrialCount: TRIALS,
        parameters: [
          { name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } },
          { name: 'y', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } },
        ],
      },
    };
    assert.equal((await s.http('POST', '/api/v1/studies', { spec, runtime: 'external' })).status, 201);
    for (let i = 0; i < TRIALS; i++) {
      const asked = await s.http('POST', '/api/v1/studies/dash-pareto/suggest', { count: 1, clientId: 'w' });
      const t = asked.body.trials[0];
      const { x, y } = t.assignment as { x: number; y: number };
      const done = await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'f1', value: x }, { metric: 'f2', value: (1 + y) * (1 - Math.sqrt(x)) }] });
      assert.equal(done.body.state, 'SUCCEEDED');
    }
    const api = await s.http('GET', '/api/v1/studies/dash-pareto/pareto');
    const expected = (api.body.trials as { name: string }[]).map((t) => t.name).sort();
    assert.ok(expected.length >= 2, `a front of ${expected.length}`);

    await page.goto(`${s.base}/studies/dash-pareto`);
    await page.waitForFunction(() => window.__sibylReady === true, undefined, { timeout: 30_000 });
    await page.waitForFunction((n: number) => window.__sibylCharts.hypervolume?.getOption().series[0].data.length === n, TRIALS, { timeout: 30_000 });
    const drawn = await page.evaluate(() => {
      const pareto = window.__sibylCharts.pareto.getOption();
      const byId = (id: string) => pareto.series.find((x: { id: string }) => x.id === id).data as [number, number, string][];
      return {
        front: byId('front'),
        others: byId('trials').length,
        hypervolume: (window.__sibylCharts.hypervolume.getOption().series[0].data as [number, number][]).map((p) => p[1]),
        pair: document.querySelector('#pareto-pair').value,
      };
    });

    assert.deepEqual(drawn.front.map((p) => p[2]).sort(), expected, 'the front drawn is the API\'s');
    assert.equal(drawn.front.length + drawn.others, TRIALS, 'every completed trial is drawn once');
    for (const [f1, f2, name] of drawn.front) {
      const t = api.body.trials.find((x: { name: string }) => x.name === name);
      assert.deepEqual([f1, f2], t.objectiveValues, `${name} at its values`);
    }
    assert.deepEqual(drawn.front.map((p) => p[0]), [...drawn.front.map((p) => p[0])].sort((a, b) => a - b), 'the front is joined in order of f1');
    assert.equal(drawn.pair, '0,1');
    assert.equal(drawn.hypervolume.length, TRIALS);
    for (let i = 1; i < drawn.hypervolume.length; i++) assert.ok(drawn.hypervolume[i]! >= drawn.hypervolume[i - 1]!, `hypervolume falls at trial ${i + 1}`);
    assert.ok(drawn.hypervolume.at(-1)! > drawn.hypervolume[0]!);

    const marked = await page.locator('#trials-table tbody tr:has([data-front]) th a').allInnerTexts();
    assert.deepEqual(marked.sort(), expected.filter((n) => n), 'the table marks the front (first page)');
    await page.screenshot({ path: join(ARTIFACTS, 'pareto.png'), fullPage: true });
  } finally {
    await page.close();
    await s.close();
  }
});
