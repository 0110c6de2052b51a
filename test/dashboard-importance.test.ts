// The study page's parameter-importance chart in headless Chromium: its bars are the API's
// importances in the API's order (most important on top), and a hostile parameter name is text.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ARTIFACTS, useBrowser } from './support/browser.js';
import { startTestServer } from './support/server.js';

const chrome = useBrowser();

declare const window: any;
declare const document: any;

const HOSTILE = '<img src=x onerror=alert(1)>';

test('the importance bars follow the API\'s order and values; names are drawn as text', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    const spec = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'dash-imp' },
      spec: {
        objective: { type: 'minimize', objectiveMetricName: 'loss' },
        algorithm: { algorithmName: 'random', algorithmSettings: [{ name: 'random_state', value: '4' }] },
        parallelTrialCount: 1, maxTrialCount: 30,
        parameters: [
          { name: 'minor', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } },
          { name: HOSTILE, parameterType: 'categorical', feasibleSpace: { list: ['a', 'b'] } },
          { name: 'major', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } },
        ],
      },
    };
    assert.equal((await s.http('POST', '/api/v1/studies', { spec })).status, 201);
    for (let i = 0; i < 30; i++) {
      const t = (await s.http('POST', '/api/v1/studies/dash-imp/suggest', { count: 1, clientId: 'c' })).body.trials[0];
      const loss = 10 * Number(t.assignment.major) + 2 * Number(t.assignment.minor) + (t.assignment[HOSTILE] === 'a' ? 5 : 0);
      await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'loss', value: loss }] });
    }
    const api = (await s.http('GET', '/api/v1/studies/dash-imp/importance')).body as { parameters: { name: string; importance: number }[] };
    assert.equal(api.parameters[0]!.name, 'major');

    const page = await chrome.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    await page.goto(`${s.base}/studies/dash-imp`);
    await page.waitForFunction(() => window.__sibylCharts?.importance?.getOption().series[0].data.length === 3, undefined, { timeout: 30_000 });
    const drawn = await page.evaluate(() => {
      const o = window.__sibylCharts.importance.getOption();
      return { names: o.yAxis[0].data as string[], values: o.series[0].data as number[] };
    });
    // A category axis lists its entries bottom-up: top to bottom is the reverse.
    assert.deepEqual([...drawn.names].reverse(), api.parameters.map((p) => p.name));
    assert.deepEqual([...drawn.values].reverse(), api.parameters.map((p) => p.importance));
    assert.match(await page.locator('#importance-note').textContent() ?? '', /30 completed trials/);
    assert.equal(await page.evaluate(() => document.querySelectorAll('img[src="x"]').length), 0, 'the hostile name is no element');
    await page.locator('#chart-importance').scrollIntoViewIfNeeded();
    await page.locator('#chart-importance').screenshot({ path: join(ARTIFACTS, 'importance.png') });
    assert.deepEqual(dialogs, []);
    await page.close();
  } finally {
    await s.close();
  }
});
