/**
 * `npm run kit`: builds .kit/, what a machine with a GPU but without Node, npm or a network needs to run the
 * `default` training and the benchmarks from this repository (scripts/device-check.sh runs them there):
 *
 *   .kit/poselab-kit.tar.xz   bin/node: this machine's Node, stripped of its debugging symbols (it links only glibc
 *                             and libstdc++, checked here with ldd); app/: the bundles and what they load at run time
 *                             (scripts/kit/bundle.ts)
 *   .kit/libvulkan1_*.deb     Debian's Vulkan loader (`apt-get download libvulkan1`), for a machine with NVIDIA's
 *                             driver but no libvulkan.so.1
 *   .kit/manifest.json        what is in it: versions, sizes, the archive's sha256 (device-check.sh checks it), the commit,
 *                             and the digest of the sources the bundles were built from (scripts/kit/sources.ts)
 *   .kit/sources.sha256       those sources, one `<sha256>  <path>` line a file: device-check.sh recomputes the digest on
 *                             the tree it is carried with and refuses a stale kit before anything else
 *
 * Then it unpacks the archive into a temporary folder with no node_modules above it and runs the bundles there
 * with the stripped Node and a PATH without Node (--help, a tiny bench:pnp on the CPU rows, the adapter check on
 * SwiftShader, which must refuse it). It prints the kit's size and exits 1 if the kit exceeds 35 MB: the GPU
 * machine receives the tracked files and the kit, 64 MiB in all.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFlags, runMain } from '../src/cli/args';
import { bundleKit, listFiles, strip } from './kit/bundle';
import { changedSources, kitSources, kSourcePathspecs, sha256File } from './kit/sources';

const kRepo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const kKitDir = join(kRepo, '.kit');
const kArchiveName = 'poselab-kit.tar.xz';
/** The list of the kit's sources (scripts/kit/sources.ts); device-check.sh knows it by this name. */
const kSourcesName = 'sources.sha256';
/** The GPU machine takes 64 MiB of tracked files and carried paths; the tracked files leave about this much. */
const kMaxKitBytes = 35e6;
/** The only libraries the shipped Node may link: glibc's and the C++ runtime, which any Linux with PyTorch has. */
const kAllowedLibs = /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|\/lib64\/ld-linux-x86-64\.so\.2)$/;
const kSwiftShaderIcd = '/usr/lib/chromium/vk_swiftshader_icd.json';
const kUsage = 'usage: npm run kit   (builds .kit/ for scripts/device-check.sh; see the README, "A GPU machine without Node")';

/** Runs a command; throws naming it, with its exit status and stderr, unless it exits 0. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, ...opts });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr.trim()}\n${r.stdout.trim()}`);
  return r;
}

/** ldd's libraries of `binary`; throws naming any beyond kAllowedLibs (the GPU machine may not have it). */
function checkLinks(binary: string): string[] {
  const libs = run('ldd', [binary]).stdout.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
  const extra = libs.filter((l) => !kAllowedLibs.test(l));
  if (extra.length) throw new Error(`${binary} links ${extra.join(', ')} besides glibc and libstdc++: the GPU machine may not have them`);
  return libs;
}

/** The newest glibc and libstdc++ symbol versions `binary` asks for: the GPU machine's must be at least these. */
function symbolVersions(binary: string): { glibc: string; glibcxx: string } {
  const text = run('objdump', ['-T', binary]).stdout;
  const newest = (prefix: string) => [...new Set(text.match(new RegExp(`\\b${prefix}_[0-9.]+`, 'g')) ?? [])]
    .map((v) => v.slice(prefix.length + 1))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .pop() ?? 'none';
  return { glibc: newest('GLIBC'), glibcxx: newest('GLIBCXX') };
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The tracked files' bytes (what the GPU machine receives besides the kit). */
function trackedBytes(): number {
  const names = run('git', ['ls-files', '-z'], { cwd: kRepo }).stdout.split('\0').filter(Boolean);
  return names.reduce((s, f) => s + (existsSync(join(kRepo, f)) ? statSync(join(kRepo, f)).size : 0), 0);
}

/**
 * Runs the unpacked kit in `root` as the GPU machine will: its own Node, cwd outside any node_modules, a PATH with
 * no Node on it. Throws naming the command that failed.
 */
function selfCheck(root: string): void {
  for (let d = root; d !== dirname(d); d = dirname(d)) {
    if (existsSync(join(dirname(d), 'node_modules'))) throw new Error(`self-check: ${join(dirname(d), 'node_modules')} exists above ${root}; the check would not prove the kit stands alone`);
  }
  const emptyBin = join(root, 'empty-bin');
  mkdirSync(emptyBin);
  const env = { PATH: emptyBin, HOME: root, TMPDIR: tmpdir() };
  const node = join(root, 'bin', 'node');
  const app = (f: string) => join(root, 'app', f);
  for (const entry of ['train', 'eval', 'bench-pnp', 'bench-train']) {
    const r = run(node, [app(`${entry}.mjs`), '--help'], { cwd: root, env });
    if (!/^usage: /.test(r.stdout)) throw new Error(`self-check: ${entry}.mjs --help printed no usage:\n${r.stdout}`);
  }
  // tfjs's cpu backend, the float64 solver and OpenCV.js from the kit's own node_modules.
  run(node, [app('bench-pnp.mjs'), '--quick', '--B', '8', '--n', '8', '--impls', 'op-cpu,float64,opencv-sqpnp', '--out', join(root, 'results') + '/'], { cwd: root, env });
  console.log('self-check: --help of every entry and a tiny bench:pnp on the CPU rows ran from the unpacked kit');
  if (!existsSync(kSwiftShaderIcd)) {
    console.log(`self-check: ${kSwiftShaderIcd} is missing here, so the kit's Dawn was not started (install Debian's chromium to check it)`);
    return;
  }
  // Dawn from the kit loads and finds SwiftShader, which the adapter check must refuse.
  const a = spawnSync(node, [app('adapter-check.mjs')], { cwd: root, env: { ...env, VK_ICD_FILENAMES: kSwiftShaderIcd }, encoding: 'utf8' });
  if (a.status !== 1 || !/REFUSED: a software adapter/.test(a.stderr)) {
    throw new Error(`self-check: adapter-check.mjs on SwiftShader should refuse it (exit 1), got exit ${a.status}:\n${a.stdout}${a.stderr}`);
  }
  console.log('self-check: the kit\'s Dawn started and its adapter check refused SwiftShader, as it must');
}

async function main(argv: string[]): Promise<number> {
  parseFlags(argv, {});
  const node = process.execPath;
  const libs = checkLinks(node);
  console.log(`Node ${process.version} (${node}) links ${libs.join(', ')}`);
  rmSync(kKitDir, { recursive: true, force: true });
  // Read before the bundles and again after the archive: a file edited meanwhile may or may not be in the bundles.
  const sources = kitSources(kRepo);
  const stage = join(kKitDir, 'stage');
  mkdirSync(join(stage, 'bin'), { recursive: true });
  const bundles = await bundleKit(join(stage, 'app'));
  console.log(`bundles: ${bundles.files.size} files, ${mb([...bundles.files.values()].reduce((a, b) => a + b, 0))} in ${bundles.dir}`);
  const needs = { node: symbolVersions(node), 'dawn.node': symbolVersions(join(bundles.dir, 'node_modules', 'webgpu', 'dist', 'linux-x64', 'dawn.node')) };
  console.log(`the GPU machine needs glibc >= ${needs.node.glibc} and GLIBCXX_${needs.node.glibcxx} for Node, glibc >= ${needs['dawn.node'].glibc} and GLIBCXX_${needs['dawn.node'].glibcxx} for Dawn`);
  strip(node, join(stage, 'bin', 'node'), '--strip-all');
  // One xz stream for everything (the shared dictionary helps the bundles); -9e: Node alone goes from 86 MB to 22 MB.
  console.log('compressing (xz -9e, about a minute a core)...');
  const archive = join(kKitDir, kArchiveName);
  run('bash', ['-c', 'set -o pipefail; tar -C "$1" -cf - bin app | xz -9e -T1 > "$2"', 'kit', stage, archive]);
  rmSync(stage, { recursive: true, force: true });
  run('apt-get', ['download', 'libvulkan1'], { cwd: kKitDir });
  const deb = readdirSync(kKitDir).find((f) => /^libvulkan1_.*\.deb$/.test(f));
  if (!deb) throw new Error(`apt-get download libvulkan1 left no libvulkan1_*.deb in ${kKitDir}`);
  const changed = changedSources(sources.list, kitSources(kRepo).list);
  if (changed.length) {
    throw new Error(`${changed.join(', ')}: changed while the kit was built, so the bundles may hold either version; run npm run kit again`);
  }
  writeFileSync(join(kKitDir, kSourcesName), sources.list);
  const commit = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: kRepo, encoding: 'utf8' }).stdout.trim();
  const dirty = spawnSync('git', ['status', '--porcelain'], { cwd: kRepo, encoding: 'utf8' }).stdout.trim() !== '';
  writeFileSync(join(kKitDir, 'manifest.json'), `${JSON.stringify({
    built: new Date().toISOString(),
    commit: commit + (dirty ? ' (with uncommitted changes)' : ''),
    // device-check.sh reads sha256 from this block (sed, no JSON parser there): keep it an object of its own.
    sources: { list: kSourcesName, files: sources.files, sha256: sources.sha256, of: `git ls-files -- ${kSourcePathspecs.join(' ')}` },
    node: process.version,
    archive: { name: kArchiveName, bytes: statSync(archive).size, sha256: sha256File(archive) },
    libvulkan1: { name: deb, bytes: statSync(join(kKitDir, deb)).size, depends: run('dpkg-deb', ['-f', join(kKitDir, deb), 'Depends']).stdout.trim() },
    needs,
    app: Object.fromEntries(bundles.files),
  }, null, 2)}\n`);

  const check = mkdtempSync(join(tmpdir(), 'poselab-kit-check-'));
  try {
    run('bash', ['-c', 'xz -dc "$1" | tar -x -C "$2"', 'kit', archive, check]);
    selfCheck(check);
  } finally {
    rmSync(check, { recursive: true, force: true });
  }

  const files = listFiles(kKitDir);
  for (const [f, n] of files) console.log(`  .kit/${f}  ${mb(n)}`);
  const total = [...files.values()].reduce((a, b) => a + b, 0);
  const tracked = trackedBytes();
  console.log(`kit: ${mb(total)} (at most ${mb(kMaxKitBytes)}); with the tracked files (${mb(tracked)}): ${mb(total + tracked)} of the 64 MiB (${mb(64 * 2 ** 20)}) a GPU machine receives`);
  if (total > kMaxKitBytes) {
    console.error(`.kit/ is ${mb(total)}, over the ${mb(kMaxKitBytes)} the GPU machine leaves beside the tracked files`);
    return 1;
  }
  return 0;
}

runMain(() => main(process.argv.slice(2)), kUsage);
