/**
 * The Demos tab end to end in Chromium (tests/e2e/harness): each of the three demos started on the page's
 * cpu backend and on WebGPU (SwiftShader), its steps drawn while the page stays responsive, stopped, and
 * no console or page errors. Screenshots go to test-results/e2e-demo-*.png.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppServer, launchChromium, openPage, screenshot, startAppServer, tid, type WatchedPage } from './harness';

let server: AppServer;
let browser: Browser;
let ctx: BrowserContext;
let wp: WatchedPage;
let page: Page;


/** The summary line's iteration (0 before the first step) and error (its last number). */
async function shown(): Promise<{ iteration: number; error: number }> {
  const parts = ((await page.locator(tid('demo-summary')).textContent()) ?? '').split(' · ');
  return { iteration: Number(/iteration (\d+)/.exec(parts[0])?.[1] ?? 0), error: Number(parts[2]?.split(' ').pop()) };
}

async function waitForIteration(n: number, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    ([sel, k]) => Number(/iteration (\d+)/.exec(document.querySelector(sel as string)?.textContent ?? '')?.[1] ?? 0) >= (k as number),
    [tid('demo-summary'), n] as const, { timeout: timeoutMs, polling: 250 });
}

/** Starts a demo, lets it run `steps` steps, stops it; returns the error shown early and at the end. */
async function runFor(kind: 'pose' | 'sfm' | 'calib', backend: 'cpu' | 'webgpu', steps: number, timeoutMs: number): Promise<[number, number]> {
  await page.click(tid(`demo-pick-${kind}`));
  await page.selectOption(tid('demo-backend-pick'), backend);
  await page.fill(tid('demo-seed'), '1');
  await page.click(tid('demo-start'));
  await waitForIteration(2, timeoutMs);
  const early = (await shown()).error;
  await waitForIteration(steps, timeoutMs);
  // The page answers while the demo runs: a frame is drawn within a second.
  const frameMs = await page.evaluate(() => new Promise<number>((resolve) => {
    const t0 = performance.now();
    requestAnimationFrame(() => resolve(performance.now() - t0));
  }));
  expect(frameMs, 'ms until the next animation frame while the demo runs').toBeLessThan(1000);
  await page.click(tid('demo-stop'));
  await expect.poll(() => page.locator(tid('demo-status')).textContent()).toBe('stopped');
  expect(await page.locator(tid('demo-backend')).textContent()).toContain(backend);
  return [early, (await shown()).error];
}

describe('Demos tab', () => {
  beforeAll(async () => {
    server = await startAppServer();
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    wp = await openPage(ctx, server.url);
    page = wp.page;
    await page.click(tid('tab-demos'));
    await page.waitForSelector(tid('demos-view'));
  });
  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await server?.close();
  });

  for (const kind of ['pose', 'sfm', 'calib'] as const) {
    it(`runs the ${kind} demo on the cpu backend, its error falling, and stops it`, async () => {
      const [early, late] = await runFor(kind, 'cpu', 40, 120_000);
      await screenshot(page, `e2e-demo-${kind}-cpu`);
      expect(Number.isFinite(early) && Number.isFinite(late), `errors shown: ${early}, ${late}`).toBe(true);
      expect(late).toBeLessThan(early);
      expect(wp.errors).toEqual([]);
    });
  }

  it('runs the pose demo on WebGPU (SwiftShader) and stops it', async () => {
    await runFor('pose', 'webgpu', 5, 240_000);
    await screenshot(page, 'e2e-demo-pose-webgpu');
    expect(wp.errors).toEqual([]);
  });
});
