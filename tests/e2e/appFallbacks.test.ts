/**
 * The web app's fallbacks end to end, in Debian's Chromium launched as it comes on Linux without a
 * supported GPU (tests/e2e/harness: no WebGPU flags, so navigator.gpu is there but offers no adapter):
 * the plain-language notice and a tiny training run on the cpu backend; the pause while the tab is in
 * the background (document.visibilityState, which headless Chromium never changes by itself, overridden
 * on the page) and the automatic resume when it is back; the BOP results CSV download, row for row what
 * `npm run eval` gives for the page's exported model. One server and one
 * browser for the file; the tests run in order on the bundled dataset and share the run. Screenshots go
 * to test-results/e2e-fallback-*.png.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseBopCsv } from '../../src/train/bopCsv';
import { type AppServer, kRepo, kResults, launchChromium, openPage, screenshot, startAppServer, stepCount, tid, waitForStep, type WatchedPage } from './harness';

let server: AppServer;
let browser: Browser;
let ctx: BrowserContext;
let wp: WatchedPage;
let page: Page;


/**
 * Sets document.visibilityState / document.hidden and fires 'visibilitychange', as the browser does when
 * the tab goes to the background or comes back. The getters are defined on the document itself, once,
 * and read a window field, so the state can be flipped back and forth.
 */
async function setVisibility(state: 'hidden' | 'visible'): Promise<void> {
  await page.evaluate((s) => {
    const w = window as Window & { e2eVisibility?: DocumentVisibilityState };
    if (w.e2eVisibility === undefined) {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => w.e2eVisibility });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => w.e2eVisibility === 'hidden' });
    }
    w.e2eVisibility = s;
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
}

beforeAll(async () => {
  server = await startAppServer();
  browser = await launchChromium({ webgpu: false });
  ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  wp = await openPage(ctx, server.url);
  page = wp.page;
});

afterEach(async (t) => {
  if (t.task.result?.state === 'fail' && page) {
    await screenshot(page, `e2e-fallback-failed-${t.task.name.slice(0, 24).replace(/\W+/g, '-')}`).catch(() => undefined);
    console.log('[e2e] page errors:', wp.errors);
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('PoseLab web app without WebGPU, in the background, and its BOP CSV', () => {
  it('says plainly that WebGPU is missing, and trains the tiny config on the fastest CPU path (wasm), the localiser in a worker of its own', async () => {
    // The browser itself: WebGPU's API is there, but no adapter (the realistic case, not a deleted navigator.gpu).
    expect(await page.evaluate(async () => ({ api: 'gpu' in navigator, adapter: await navigator.gpu?.requestAdapter() ?? null })))
      .toEqual({ api: true, adapter: null });
    await page.waitForSelector(tid('no-webgpu'), { timeout: 60_000 });
    expect(await page.textContent(tid('no-webgpu'))).toBe(
      'WebGPU is not available: no WebGPU adapter was offered. Training runs on the CPU through the wasm backend (WebAssembly), more slowly than on a GPU.');
    expect(await page.isVisible(tid('no-webgpu'))).toBe(true);
    expect(await page.textContent(tid('gpu-status'))).toBe('CPU · wasm (no WebGPU)');
    await page.waitForSelector(`${tid('dataset-report')} >> text=poselab-toy`, { timeout: 120_000 });
    expect(await page.textContent(tid('dataset-report'))).toMatch(/ready to train/);

    await page.click(tid('tab-train'));
    await page.selectOption(tid('preset'), 'tiny');
    // Enough steps that the run is still going through the background test; no evaluation or
    // checkpoint on the way (the CSV export evaluates the test split itself).
    await page.fill(tid('cfg-steps'), '2000');
    await page.fill(tid('cfg-batchSize'), '2');
    await page.fill(tid('cfg-evalEvery'), '0');
    await page.fill(tid('cfg-checkpointEvery'), '0');
    const t0 = Date.now();
    await page.click(tid('btn-start'));
    const first = await waitForStep(page, 1, 120_000);
    const tFirst = (Date.now() - t0) / 1000;
    const later = await waitForStep(page, first + 3, 60_000);
    console.log(`[e2e] wasm backend: step ${first} after ${tFirst.toFixed(1)} s, step ${later} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await page.textContent(tid('run-status'))).toBe('running');
    // With two cores the localiser trains in a nested worker of its own (no notice saying it could not).
    console.log(`[e2e] workers: ${page.workers().map((w) => w.url().split('/').pop()).join(', ')}`);
    expect(page.workers().some((w) => /localiser\.worker/.test(w.url()))).toBe(true);
    expect(await page.locator(tid('run-notice')).count()).toBe(0);
    await screenshot(page, 'e2e-fallback-01-cpu-training');
    expect(wp.errors).toEqual([]);
  });

  it('pauses while the tab is hidden, says so, and resumes when it is visible again', async () => {
    expect(await page.textContent(tid('run-status'))).toBe('running');
    await setVisibility('hidden');
    await page.waitForSelector(`${tid('run-status')} >> text=paused`, { timeout: 60_000 });
    const notice = page.locator(tid('background-notice'));
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toBe('Training is paused while this tab is in the background; it resumes when you come back.');
    const pausedAt = await stepCount(page);
    await page.waitForTimeout(3000);
    expect(await stepCount(page), 'no steps while the tab is hidden').toBe(pausedAt);
    expect(await page.textContent(tid('run-status'))).toBe('paused');
    expect(await page.textContent(tid('tab-train')), 'the tab\'s paused mark and step').toBe(`Train ‖ ${pausedAt}/2000`);
    await screenshot(page, 'e2e-fallback-02-background-paused');

    // Back in front: the app resumes on its own (no button to press) and the notice goes away.
    await setVisibility('visible');
    await page.waitForSelector(`${tid('run-status')} >> text=running`, { timeout: 60_000 });
    await page.waitForSelector(tid('background-notice'), { state: 'detached', timeout: 10_000 });
    await waitForStep(page, pausedAt + 2, 60_000);
    await screenshot(page, 'e2e-fallback-03-background-resumed');

    // A run the person paused stays paused when the tab comes and goes.
    await page.click(tid('btn-pause'));
    await page.waitForSelector(`${tid('run-status')} >> text=paused`, { timeout: 60_000 });
    await setVisibility('hidden');
    await setVisibility('visible');
    const heldAt = await stepCount(page);
    await page.waitForTimeout(1500);
    expect(await page.textContent(tid('run-status'))).toBe('paused');
    expect(await stepCount(page)).toBe(heldAt);
    expect(await page.locator(tid('background-notice')).count()).toBe(0);
    expect(wp.errors).toEqual([]);
  });

  it('downloads the test split\'s BOP results CSV: header, 9 R and 3 t numbers per line, the rows npm run eval gives for the page\'s model', async () => {
    const t0 = Date.now();
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 180_000 }), page.click(tid('btn-export-csv'))]);
    // BOP's naming, <method>_<dataset>-<split>.csv, as the toolkit's scripts parse it.
    expect(download.suggestedFilename()).toBe('poselab_poselab-toy-test.csv');
    const path = join(kResults, 'e2e-fallback-bop.csv');
    await download.saveAs(path);
    console.log(`[e2e] BOP CSV on the wasm backend in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('scene_id,im_id,obj_id,score,R,t,time');
    const rows = lines.slice(1);
    expect(rows.length, 'one estimate per test image of the bundled dataset (one object each)').toBe(100);
    const ims = new Set<string>();
    for (const line of rows) {
      const f = line.split(',');
      expect(f, line).toHaveLength(7);
      const [sceneId, imId, objId, score, time] = [f[0], f[1], f[2], f[3], f[6]].map(Number);
      expect([sceneId, objId], line).toEqual([1, 1]);
      expect(Number.isInteger(imId) && imId >= 0, line).toBe(true);
      ims.add(`${sceneId}/${imId}`);
      expect(Number.isFinite(score) && Number.isFinite(time) && time >= 0, line).toBe(true);
      const R = f[4].split(' ').map(Number);
      const t = f[5].split(' ').map(Number);
      expect(R, line).toHaveLength(9);
      expect(t, line).toHaveLength(3);
      expect([...R, ...t].every(Number.isFinite), line).toBe(true);
      // R is a rotation (row-major): R R^T = I, det R = +1, whatever the tiny model predicted.
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const dot = R[3 * i] * R[3 * j] + R[3 * i + 1] * R[3 * j + 1] + R[3 * i + 2] * R[3 * j + 2];
          expect(Math.abs(dot - (i === j ? 1 : 0)), `(R R^T)[${i}][${j}] on ${line}`).toBeLessThan(1e-4);
        }
      }
      const det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) + R[2] * (R[3] * R[7] - R[4] * R[6]);
      expect(det, line).toBeCloseTo(1, 4);
    }
    expect(ims.size, 'distinct images').toBe(100);
    await page.waitForSelector(`${tid('export-note')} >> text=BOP results saved: 100 estimates on the test split.`, { timeout: 10_000 });
    await screenshot(page, 'e2e-fallback-04-bop-csv');

    // The poses that produced it: the page's model, exported as a bundle and evaluated by `npm run eval`
    // (whose CSV is held against the dataset's ground truth and predict's JSON in tests/cli/predict.test.ts),
    // gives the same rows: ids, scores, R row-major and t in mm.
    const [bundleDl] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.click(tid('btn-export-bundle'))]);
    const bundle = join(kResults, 'e2e-fallback-bundle.zip');
    await bundleDl.saveAs(bundle);
    const cliCsv = join(kResults, 'e2e-fallback-bop-cli.csv');
    const e = spawnSync('npx', ['tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/eval.ts', '--model', bundle,
      '--dataset', join(kRepo, 'public', 'datasets', 'poselab-toy'), '--csv', cliCsv, '--backend', 'wasm'], { cwd: kRepo, encoding: 'utf8' });
    expect(e.status, e.stderr).toBe(0);
    const page_ = parseBopCsv(readFileSync(path, 'utf8'));
    const cli = parseBopCsv(readFileSync(cliCsv, 'utf8'));
    expect(page_.map((r) => [r.sceneId, r.imId, r.objId])).toEqual(cli.map((r) => [r.sceneId, r.imId, r.objId]));
    // Chromium decodes the JPEGs with its own decoder, Node with jpeg-js: a few grey levels apart, which an
    // untrained network turns into somewhat different keypoints. So the rows are compared by their median
    // difference, which a transposed R (median 0.27 to 0.44 here) or t in metres (about 1) could not meet. The
    // page's short run is seeded, but its weights move with every change to the training or the solver, and the
    // medians with them: R entries 8.7e-3 to 9.7e-3, t 1.8e-2 to 2.3e-2 relative, score 1.5e-4 to 1.7e-4 over
    // four runs of 2026-12-06, two of them on the same commit (5.6e-3, 6.5e-3 and 1.7e-4 when first measured);
    // the bounds are 2 to 3 times those.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const dR = page_.map((r, i) => Math.max(...Array.from(r.R, (v, k) => Math.abs(v - cli[i].R[k]))));
    const dRt = page_.map((r, i) => Math.max(...Array.from(r.R, (_, k) => Math.abs(r.R[[0, 3, 6, 1, 4, 7, 2, 5, 8][k]] - cli[i].R[k]))));
    const dt = page_.map((r, i) => Math.hypot(...Array.from(r.tMm, (v, k) => v - cli[i].tMm[k])) / Math.hypot(...Array.from(cli[i].tMm)));
    const dScore = page_.map((r, i) => Math.abs(r.score - cli[i].score));
    console.log(`[e2e] page CSV against npm run eval on the page's bundle, median differences: R ${median(dR).toExponential(1)} (transposed ${median(dRt).toExponential(1)}), t ${median(dt).toExponential(1)} relative, score ${median(dScore).toExponential(1)}`);
    expect(median(dR), 'R entries, page against command line, median over rows').toBeLessThan(2e-2);
    expect(median(dRt), 'the same with the page\'s R transposed: the check can tell').toBeGreaterThan(4e-2);
    expect(median(dt), 't, relative, page against command line, median over rows').toBeLessThan(6e-2);
    expect(median(dScore), 'scores, page against command line, median over rows').toBeLessThan(6e-4);
    expect(wp.errors).toEqual([]);
  });
});
