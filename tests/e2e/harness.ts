/**
 * End-to-end harness: the app served on a free port (started in-process) and Debian's Chromium
 * with WebGPU on SwiftShader's Vulkan (and WebGL on SwiftShader through ANGLE, for three.js), driven by
 * playwright-core. Console errors and page errors are collected per page so tests can assert none.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build, createServer, preview, type ViteDevServer } from 'vite';

export const kRepo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const kResults = join(kRepo, 'test-results');

/** WebGPU on SwiftShader's Vulkan: without these, Chromium on Linux offers navigator.gpu but no adapter. */
export const kWebGpuArgs = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'];

export const kChromiumArgs = [
  '--no-sandbox', ...kWebGpuArgs,
  '--disable-background-networking', '--disable-component-update', '--no-first-run',
  // WebGL (three.js overlays) on SwiftShader too, so nothing needs a GPU.
  '--use-gl=angle', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface AppServer {
  url: string;
  close(): Promise<void>;
}

/**
 * 'preview' (the default): a production build served by vite preview, so the page measured is the one
 * shipped (React's production build, the bundled worker). 'dev' (POSELAB_E2E_SERVER=dev): the dev
 * server, quicker to start while working on the tests.
 */
export async function startAppServer(mode = process.env.POSELAB_E2E_SERVER === 'dev' ? 'dev' : 'preview'): Promise<AppServer> {
  const port = await freePort();
  const configFile = join(kRepo, 'vite.config.ts');
  if (mode === 'preview') {
    // One build folder per test process: the e2e files run in parallel, and each build empties its folder.
    const outDir = join(kResults, `e2e-dist-${process.pid}`);
    // Vite takes React's build (and its JSX runtime) from NODE_ENV when it is set, and vitest sets it to
    // 'test': without this the page measured would run React's development build, several times slower.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ root: kRepo, configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 4096 } });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    const server = await preview({ root: kRepo, configFile, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port, strictPort: true } });
    return {
      url: `http://127.0.0.1:${port}/`,
      close: () => new Promise<void>((res) => server.httpServer.close(() => res())).then(() => rmSync(outDir, { recursive: true, force: true })),
    };
  }
  const server: ViteDevServer = await createServer({
    root: kRepo,
    configFile,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port, strictPort: true, hmr: false },
    // The worker's dependencies are pre-bundled up front: found late, they would reload the page.
    optimizeDeps: { entries: ['index.html', 'src/worker/engine.worker.ts'] },
  });
  await server.listen();
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}

/**
 * `webgpu: false` launches Chromium as it comes on Linux without a supported GPU: navigator.gpu is there
 * (page and workers) but requestAdapter() answers null, so the app falls back to the cpu backend.
 */
export async function launchChromium({ webgpu = true }: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: webgpu ? kChromiumArgs : kChromiumArgs.filter((a) => !kWebGpuArgs.includes(a)),
    env: { ...process.env, VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json' },
  });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught page errors so far. */
  errors: string[];
}

export async function openPage(ctx: BrowserContext, url: string): Promise<WatchedPage> {
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push(`worker console: ${m.text()}`); }));
  await page.goto(url);
  return { page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(kResults, { recursive: true });
  const path = join(kResults, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The selector of an element by its data-testid. */
export const tid = (id: string) => `[data-testid="${id}"]`;

/** The training step shown by the step counter ("step N / M"). */
export async function stepCount(page: Page): Promise<number> {
  const t = await page.textContent(tid('step-counter'));
  return Number(/step\s+(\d+)/.exec(t ?? '')?.[1] ?? NaN);
}

/** Waits until the step counter shows at least `atLeast`; returns the step shown then. */
export async function waitForStep(page: Page, atLeast: number, timeoutMs: number): Promise<number> {
  await page.waitForFunction((n) => {
    const t = document.querySelector('[data-testid="step-counter"]')?.textContent ?? '';
    return Number(/step\s+(\d+)/.exec(t)?.[1] ?? -1) >= n;
  }, atLeast, { timeout: timeoutMs });
  return stepCount(page);
}
