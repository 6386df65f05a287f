/**
 * The Try-it view end to end, in Debian's Chromium without WebGPU (the wasm backend trains fastest on
 * this CPU-only machine) and with a fake webcam playing a Y4M file made here from
 * the bundled object's test renders: the notice before anything is trained; after a short run of the
 * small preset (its 128 px localiser's box overlaps the object; the tiny preset's 32 px view barely finds
 * it), dropped test photos get the overlay in the detected box (pixels change inside it, far fewer
 * outside), with score and time, and their poses download as the JSON `npm run predict` writes; the
 * run's bundle imported into the view drives the webcam, whose frames get the overlay and a frame rate.
 * Screenshots: test-results/e2e-tryit-*.png.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import type { RgbaImage } from '../../src/data/image';
import { withExifOrientation } from '../helpers/exif';
import { type AppServer, kChromiumArgs, kRepo, kResults, kWebGpuArgs, openPage, screenshot, startAppServer, tid, waitForStep, type WatchedPage } from './harness';

const kRgb = join(kRepo, 'public', 'datasets', 'poselab-toy', 'test', '000001', 'rgb');
const kPhotos = ['000000.jpg', '000001.jpg', '000002.jpg'];
/** The first photo as a phone stores a portrait: the same pixels, EXIF orientation 6 (shown turned a quarter clockwise). */
const kTurned = join(kResults, 'turned-000000.jpg');
/** Renders played by the fake webcam, each held for several frames. */
const kWebcamRenders = ['000003.jpg', '000004.jpg'];
const kY4m = join(kResults, 'e2e-tryit-webcam.y4m');

let server: AppServer;
let browser: Browser;
let ctx: BrowserContext;
let wp: WatchedPage;
let page: Page;

/**
 * RGB -> I420 with JPEG's full-range BT.601 (the 'C420jpeg' colour space), chroma averaged over 2x2 blocks;
 * returns the frame as the browser will show it back (the same conversion inverted), for comparisons.
 */
function toI420(im: RgbaImage): { planes: Uint8Array; seen: RgbaImage } {
  const W = im.widthPx, H = im.heightPx, p = im.rgba;
  const y = new Uint8Array(W * H), u = new Uint8Array((W / 2) * (H / 2)), v = new Uint8Array((W / 2) * (H / 2));
  const clamp = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  for (let i = 0; i < W * H; i++) y[i] = clamp(0.299 * p[4 * i] + 0.587 * p[4 * i + 1] + 0.114 * p[4 * i + 2]);
  for (let by = 0; by < H / 2; by++) {
    for (let bx = 0; bx < W / 2; bx++) {
      let cb = 0, cr = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
        const i = 4 * ((2 * by + dy) * W + 2 * bx + dx);
        cb += 128 - 0.168736 * p[i] - 0.331264 * p[i + 1] + 0.5 * p[i + 2];
        cr += 128 + 0.5 * p[i] - 0.418688 * p[i + 1] - 0.081312 * p[i + 2];
      }
      u[by * (W / 2) + bx] = clamp(cb / 4);
      v[by * (W / 2) + bx] = clamp(cr / 4);
    }
  }
  const seen = new Uint8Array(W * H * 4);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) {
      const Y = y[r * W + c], Cb = u[(r >> 1) * (W / 2) + (c >> 1)] - 128, Cr = v[(r >> 1) * (W / 2) + (c >> 1)] - 128;
      const i = 4 * (r * W + c);
      seen[i] = clamp(Y + 1.402 * Cr);
      seen[i + 1] = clamp(Y - 0.344136 * Cb - 0.714136 * Cr);
      seen[i + 2] = clamp(Y + 1.772 * Cb);
      seen[i + 3] = 255;
    }
  }
  const planes = new Uint8Array(W * H * 1.5);
  planes.set(y, 0);
  planes.set(u, W * H);
  planes.set(v, W * H * 1.25);
  return { planes, seen: { widthPx: W, heightPx: H, rgba: seen } };
}

/** A Y4M file (the format Chromium's fake capture device plays, looping): header, then 'FRAME' + planar I420 per frame. */
function writeY4m(path: string, frames: Uint8Array[], W: number, H: number): void {
  const parts: Uint8Array[] = [Buffer.from(`YUV4MPEG2 W${W} H${H} F5:1 Ip A1:1 C420jpeg\n`)];
  for (const f of frames) parts.push(Buffer.from('FRAME\n'), f);
  writeFileSync(path, Buffer.concat(parts));
}

/** A canvas's pixels (read back as PNG) and its data-box, read together (the webcam's canvas changes with every frame). */
async function canvasPixels(selector: string): Promise<{ image: RgbaImage; box: number[] }> {
  const { url, box } = await page.$eval(selector, (c) => ({ url: (c as HTMLCanvasElement).toDataURL('image/png'), box: (c as HTMLCanvasElement).dataset.box ?? '[]' }));
  return { image: await decodePure(Buffer.from(url.slice(url.indexOf(',') + 1), 'base64'), 'png'), box: JSON.parse(box) as number[] };
}

/** Fractions of pixels changed (any channel by more than 40 of 255) inside box [x, y, w, h] and outside it. */
function changed(a: RgbaImage, b: RgbaImage, box: number[]): { inside: number; outside: number; total: number } {
  expect([a.widthPx, a.heightPx]).toEqual([b.widthPx, b.heightPx]);
  const [x0, y0, x1, y1] = [box[0], box[1], box[0] + box[2], box[1] + box[3]];
  let nIn = 0, cIn = 0, nOut = 0, cOut = 0;
  for (let r = 0; r < a.heightPx; r++) {
    for (let c = 0; c < a.widthPx; c++) {
      const i = 4 * (r * a.widthPx + c);
      const d = Math.max(Math.abs(a.rgba[i] - b.rgba[i]), Math.abs(a.rgba[i + 1] - b.rgba[i + 1]), Math.abs(a.rgba[i + 2] - b.rgba[i + 2]));
      const inside = c >= x0 && c < x1 && r >= y0 && r < y1;
      if (inside) { nIn++; if (d > 40) cIn++; } else { nOut++; if (d > 40) cOut++; }
    }
  }
  return { inside: cIn / Math.max(1, nIn), outside: cOut / Math.max(1, nOut), total: (cIn + cOut) / (nIn + nOut) };
}

beforeAll(async () => {
  mkdirSync(kResults, { recursive: true });
  const renders = await Promise.all(kWebcamRenders.map(async (f) => toI420(await decodePure(readFileSync(join(kRgb, f)), 'jpeg'))));
  const { widthPx: W, heightPx: H } = renders[0].seen;
  // Each render held for 5 frames (a second at 5 frames/s), so most grabs see one of them whole.
  writeY4m(kY4m, renders.flatMap((r) => Array<Uint8Array>(5).fill(r.planes)), W, H);
  server = await startAppServer();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      ...kChromiumArgs.filter((a) => !kWebGpuArgs.includes(a)),
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${kY4m}`,
    ],
  });
  ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  await ctx.grantPermissions(['camera'], { origin: server.url });
  wp = await openPage(ctx, server.url);
  page = wp.page;
  await page.waitForSelector(`${tid('dataset-report')} >> text=poselab-toy`, { timeout: 120_000 });
});

afterEach(async (t) => {
  if (t.task.result?.state === 'fail' && page) {
    await screenshot(page, `e2e-tryit-failed-${t.task.name.slice(0, 24).replace(/\W+/g, '-')}`).catch(() => undefined);
    console.log('[e2e] page errors:', wp.errors);
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Try it: photos and a webcam through the trained model', () => {
  it('says plainly that nothing is trained yet, and that no bundle is imported', async () => {
    await page.click(tid('tab-tryit'));
    await page.waitForSelector(`${tid('try-notice')} >> text=Nothing is trained yet`, { timeout: 30_000 });
    await page.check(tid('try-source-bundle'));
    await page.waitForSelector(`${tid('try-notice')} >> text=No bundle is imported`, { timeout: 30_000 });
    await page.check(tid('try-source-training'));
    // Photos dropped with no model: each says why it has no pose, nothing breaks.
    await page.setInputFiles(tid('try-photos-input'), [join(kRgb, kPhotos[0])]);
    await page.waitForSelector(`${tid('try-photo-0')} >> text=Nothing is trained yet`, { timeout: 30_000 });
    await screenshot(page, 'e2e-tryit-01-no-model');
    expect(wp.errors).toEqual([]);
  });

  it('after a short small run, draws the pose on dropped photos with score and time, and downloads their poses', async () => {
    await page.click(tid('tab-train'));
    await page.selectOption(tid('preset'), 'small');
    await page.fill(tid('cfg-steps'), '150');
    await page.fill(tid('cfg-evalEvery'), '0');
    await page.fill(tid('cfg-checkpointEvery'), '0');
    const t0 = Date.now();
    await page.click(tid('btn-start'));
    await waitForStep(page, 150, 150_000);
    await page.waitForSelector(`${tid('run-status')} >> text=done`, { timeout: 60_000 });
    console.log(`[e2e] small run of 150 steps in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    await page.click(tid('tab-tryit'));
    await page.waitForSelector(`${tid('try-model')} >> text=step 150`, { timeout: 30_000 });
    writeFileSync(kTurned, withExifOrientation(readFileSync(join(kRgb, kPhotos[0])), 6));
    await page.setInputFiles(tid('try-photos-input'), [...kPhotos.map((f) => join(kRgb, f)), kTurned]);
    for (let i = 0; i < kPhotos.length; i++) {
      await page.waitForSelector(`${tid(`try-canvas-${i}`)}[data-drawn="pose"]`, { timeout: 60_000 });
      const info = await page.textContent(tid(`try-info-${i}`));
      expect(info, `photo ${i}'s caption`).toMatch(/score \d\.\d\d · \d+ ms · /);
    }
    await page.locator(tid('try-photo-0')).scrollIntoViewIfNeeded();
    await screenshot(page, 'e2e-tryit-02-photos');
    for (let i = 0; i < kPhotos.length; i++) {
      const { image: drawn, box } = await canvasPixels(tid(`try-canvas-${i}`));
      const photo = await decodePure(readFileSync(join(kRgb, kPhotos[i])), 'jpeg');
      const c = changed(drawn, photo, box);
      console.log(`[e2e] photo ${kPhotos[i]}: box ${box.map((v) => v.toFixed(0)).join(',')}, changed inside ${(100 * c.inside).toFixed(1)}%, outside ${(100 * c.outside).toFixed(1)}%`);
      expect(c.inside, `${kPhotos[i]}: the overlay inside the detected box`).toBeGreaterThan(0.05);
      expect(c.outside, `${kPhotos[i]}: little drawn outside it`).toBeLessThan(c.inside / 3);
    }
    // The page shows the portrait upright, as decodePure (and so `npm run predict`) reads it: 480 x 640,
    // the same pixels outside any overlay.
    await page.waitForSelector(`${tid('try-canvas-3')}[data-drawn]`, { timeout: 60_000 });
    const turned = await canvasPixels(tid('try-canvas-3'));
    const turnedDecoded = await decodePure(readFileSync(kTurned), 'jpeg');
    expect([turnedDecoded.widthPx, turnedDecoded.heightPx]).toEqual([480, 640]);
    expect(changed(turned.image, turnedDecoded, turned.box.length === 4 ? turned.box : [0, 0, 0, 0]).outside, 'the turned photo: the page and decodePure agree').toBeLessThan(0.02);

    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click(tid('try-download'))]);
    expect(download.suggestedFilename()).toBe('poses.json');
    const path = join(kResults, 'e2e-tryit-poses.json');
    await download.saveAs(path);
    const doc = JSON.parse(readFileSync(path, 'utf8')) as {
      model: { obj_id: number; name: string; step: number }; camera: { K: number[]; source: string };
      images: { file: string; width: number; height: number; ms: number; detections: { obj_id: number; score: number; box_xywh_px: number[]; R: number[]; t_mm: number[]; keypoints_px: number[][]; status: string }[] }[];
      skipped: unknown[];
    };
    expect(Object.keys(doc)).toEqual(['model', 'camera', 'images', 'skipped']);
    expect(doc.model).toEqual({ obj_id: 1, name: 'obj_000001', step: 150 });
    expect(doc.camera.K).toEqual([572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1]);
    expect(doc.images.map((im) => [im.file, im.width, im.height])).toEqual([...kPhotos.map((f) => [f, 640, 480]), ['turned-000000.jpg', 480, 640]]);
    for (const im of doc.images) {
      expect(im.ms).toBeGreaterThan(0);
      for (const d of im.detections) {
        expect(Object.keys(d)).toEqual(['obj_id', 'score', 'box_xywh_px', 'R', 't_mm', 'keypoints_px', 'status', 'refined']);
        expect([d.R.length, d.t_mm.length, d.box_xywh_px.length, d.keypoints_px[0].length]).toEqual([9, 3, 4, 2]);
      }
    }
    expect(doc.images.some((im) => im.detections.length === 1), 'at least one photo with a detection').toBe(true);
    expect(wp.errors).toEqual([]);
  });

  it('runs the run\'s bundle, imported, on a fake webcam: the overlay on the object and the frame rate', async () => {
    await page.click(tid('tab-train'));
    const [bundle] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click(tid('btn-export-bundle'))]);
    const bundlePath = join(kResults, 'e2e-tryit-bundle.zip');
    await bundle.saveAs(bundlePath);
    await page.click(tid('tab-tryit'));
    await page.setInputFiles(tid('try-bundle-input'), bundlePath);
    await page.waitForSelector(`${tid('try-source-bundle')}:checked`, { timeout: 30_000 });
    await page.waitForSelector(`${tid('try-model')} >> text=step 150`, { timeout: 30_000 });

    await page.click(tid('try-webcam-toggle'));
    await page.waitForFunction(() => /([1-9]\d*|0)\.\d frames\/s/.test(document.querySelector('[data-testid="try-webcam-fps"]')?.textContent ?? '')
      && Number(/([\d.]+) frames/.exec(document.querySelector('[data-testid="try-webcam-fps"]')!.textContent!)![1]) > 0, undefined, { timeout: 60_000 });
    const fps = await page.textContent(tid('try-webcam-fps'));
    const info = await page.textContent(tid('try-webcam-info'));
    console.log(`[e2e] webcam: ${fps}; ${info}`);
    expect(info).toMatch(/score \d\.\d\d · \d+ ms · /);
    await page.locator(tid('try-webcam')).scrollIntoViewIfNeeded();
    await screenshot(page, 'e2e-tryit-03-webcam');

    // The frame shown is one of the renders played (as the browser decodes the Y4M): compare against the closest.
    const seen = kWebcamRenders.map(async (f) => toI420(await decodePure(readFileSync(join(kRgb, f)), 'jpeg')).seen);
    const { image: drawn, box } = await canvasPixels(tid('try-webcam-canvas'));
    const cs = (await Promise.all(seen)).map((s) => changed(drawn, s, box)).sort((a, b) => a.total - b.total);
    console.log(`[e2e] webcam frame: box ${box.map((v) => v.toFixed(0)).join(',')}, changed inside ${(100 * cs[0].inside).toFixed(1)}%, outside ${(100 * cs[0].outside).toFixed(1)}%`);
    expect(cs[0].inside, 'the overlay inside the detected box').toBeGreaterThan(0.05);
    expect(cs[0].outside, 'little drawn outside it').toBeLessThan(cs[0].inside / 3);
    await page.click(tid('try-webcam-toggle'));
    expect(wp.errors).toEqual([]);
  });
});
