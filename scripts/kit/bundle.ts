/**
 * The kit's bundles (`npm run kit`, scripts/kit.ts; tests/scripts/kit.test.ts builds them alone): the command-line
 * entries a GPU machine without Node's packages runs, bundled by esbuild, with what they load at run time beside
 * them, so that the folder runs with nothing but a Node binary and no node_modules above it:
 *
 *   train.mjs, eval.mjs, bench-pnp.mjs, bench-train.mjs, adapter-check.mjs   the entries (kKitEntries)
 *   localiser-thread.mjs   the localiser's worker thread, which train and bench:train start on a CPU backend
 *   chunk-*.mjs            the code the entries share (tfjs once rather than six times)
 *   tfjs-backend-wasm*.wasm   the wasm backend's binaries: Emscripten looks for them beside the code that loads them
 *   train_torch.py         bench:train's PyTorch peer, which bench/train.ts finds beside itself
 *   node_modules/webgpu    Dawn for Node: index.js, package.json and dist/linux-x64/dawn.node alone (stripped of its
 *                          debugging symbols), a native addon no bundler can inline, loaded by `import('webgpu')`
 *   node_modules/@techstark/opencv-js   package.json and dist/opencv.js: bench:pnp's OpenCV peer, which bench/opencv.ts
 *                          loads with require() at run time (an Emscripten module is a thenable: never imported, never awaited)
 *
 * `.wgsl?raw` imports become text, as scripts/raw-loader.mjs makes them under tsx and vite makes them in the page.
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const kRepo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Bundle name (without .mjs) -> entry, from the repository root. */
export const kKitEntries: Readonly<Record<string, string>> = {
  train: 'src/cli/train.ts',
  eval: 'src/cli/eval.ts',
  'bench-pnp': 'bench/pnp.ts',
  'bench-train': 'bench/train.ts',
  'adapter-check': 'scripts/kit/adapterCheck.ts',
  // Started by src/node/localiserThread.ts as a file of its own; the define below tells it this name.
  'localiser-thread': 'src/node/localiserThread.worker.ts',
  // Started by src/node/batchThread.ts likewise.
  'batch-thread': 'src/node/batchThread.worker.ts',
};

/** The packages left to Node's resolver at run time, each copied into the bundle folder's node_modules (kRuntimeFiles). */
const kExternal = ['webgpu', '@techstark/opencv-js'];

/** Files of node_modules the bundles load at run time: package folder -> the files of it that are copied. */
const kRuntimeFiles: Readonly<Record<string, readonly string[]>> = {
  webgpu: ['package.json', 'index.js', 'LICENSE.md', 'dist/linux-x64/dawn.node'],
  '@techstark/opencv-js': ['package.json', 'LICENSE', 'dist/opencv.js'],
};

/**
 * CommonJS code inside an ES module bundle still reads `require`, `__filename` and `__dirname` (tfjs's node builds,
 * Emscripten's loader of the wasm backend, which finds its .wasm from __dirname); each output file defines them
 * for itself, from its own URL.
 */
const kBanner = [
  "import { createRequire as __poselabCreateRequire } from 'node:module';",
  "import { dirname as __poselabDirname } from 'node:path';",
  "import { fileURLToPath as __poselabFileUrlToPath } from 'node:url';",
  'const require = __poselabCreateRequire(import.meta.url);',
  'const __filename = __poselabFileUrlToPath(import.meta.url);',
  'const __dirname = __poselabDirname(__filename);',
].join('\n');

/** `import src from './x.wgsl?raw'`: the file's text, as scripts/raw-loader.mjs gives it under tsx. */
const rawText: Plugin = {
  name: 'poselab-raw-text',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: resolve(args.resolveDir, args.path.slice(0, -'?raw'.length)), namespace: 'poselab-raw' }));
    b.onLoad({ filter: /.*/, namespace: 'poselab-raw' }, async (args) => ({ contents: await readFile(args.path, 'utf8'), loader: 'text' }));
  },
};

export interface KitBundles {
  /** The folder written. */
  dir: string;
  /** Every file in it, relative path -> bytes. */
  files: Map<string, number>;
}

/**
 * Writes the bundles and their run-time files into `outDir` (emptied first). Throws naming what is missing: an
 * entry that does not build, a run-time file absent from node_modules, or `strip` (binutils) not installed.
 */
export async function bundleKit(outDir: string): Promise<KitBundles> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    absWorkingDir: kRepo,
    entryPoints: Object.fromEntries(Object.entries(kKitEntries).map(([name, path]) => [name, join(kRepo, path)])),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: kExternal,
    // jsonc-parser's main build is a UMD factory that requires its own modules at run time, which a bundle
    // cannot follow; its ES module build is the same code as static imports.
    alias: { 'jsonc-parser': 'jsonc-parser/lib/esm/main.js' },
    define: {
      __POSELAB_LOCALISER_THREAD_BUNDLE__: JSON.stringify('localiser-thread.mjs'),
      __POSELAB_BATCH_THREAD_BUNDLE__: JSON.stringify('batch-thread.mjs'),
    },
    banner: { js: kBanner },
    plugins: [rawText],
    // Whitespace and syntax only: names stay, so that a stack trace from the GPU machine still reads.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
  });
  const wasmDir = join(kRepo, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  for (const f of readdirSync(wasmDir).filter((x) => x.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(outDir, f));
  copyFileSync(join(kRepo, 'bench', 'train_torch.py'), join(outDir, 'train_torch.py'));
  for (const [pkg, files] of Object.entries(kRuntimeFiles)) {
    for (const f of files) {
      const from = join(kRepo, 'node_modules', pkg, f);
      const to = join(outDir, 'node_modules', pkg, f);
      mkdirSync(dirname(to), { recursive: true });
      if (f.endsWith('.node')) strip(from, to);
      else copyFileSync(from, to);
    }
  }
  return { dir: outDir, files: listFiles(outDir) };
}

/** Copies a native library without its debugging symbols (dawn.node: 21.5 MB to 17.5 MB; the dynamic symbols it links by stay). */
export function strip(from: string, to: string, mode: '--strip-unneeded' | '--strip-all' = '--strip-unneeded'): void {
  const r = spawnSync('strip', [mode, '-o', to, from], { encoding: 'utf8' });
  if (r.error) throw new Error(`strip ${from}: ${r.error.message} (install binutils)`);
  if (r.status !== 0) throw new Error(`strip ${from}: exit ${r.status}: ${r.stderr.trim()}`);
}

/** Every file under `dir`, relative path (with /) -> size in bytes, sorted by path. */
export function listFiles(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (sub: string): void => {
    for (const e of readdirSync(join(dir, sub), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else out.set(rel, statSync(join(dir, rel)).size);
    }
  };
  walk('');
  return out;
}
