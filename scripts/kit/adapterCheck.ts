/**
 * `node adapter-check.mjs` (a kit bundle; scripts/device-check.sh runs it before anything is measured): which WebGPU
 * adapter Dawn gives this process, in its own words, and whether it is a GPU. Exit 0 where the adapter is hardware
 * and tfjs's webgpu backend starts on it and computes a known sum; 1, saying why, where there is no adapter, where it
 * is a software one (SwiftShader, llvmpipe or lavapipe, or any adapter Dawn calls a fallback adapter: Vulkan run on
 * the CPU, whose figures are not a GPU's), or where the backend does not start. Both adapters are asked for: Dawn's
 * default (the one the benchmarks name in their results) and the high-performance one tfjs's webgpu backend takes.
 *
 * --allow-software is for tests alone (tests/scripts/deviceCheck.test.ts runs device-check.sh's steps on SwiftShader
 * with it): a software adapter is then named, labelled "SOFTWARE ADAPTER: not a GPU's figures", and passes if the
 * backend computes on it.
 */
import * as tf from '@tensorflow/tfjs';
import { runMain, parseFlags } from '../../src/cli/args';
import { nodeGpu, useNodeWebgpu } from '../../src/node/webgpu';

const kUsage = 'usage: node adapter-check.mjs [--allow-software]   (the kit\'s bundle; exit 0 only for a hardware WebGPU adapter that computes;\n' +
  '  --allow-software, for tests alone: a software adapter too, labelled as such)';

/** The label of a software adapter let through (device-check.sh puts the same words on every line of its logs). */
const kSoftwareLabel = 'SOFTWARE ADAPTER: not a GPU\'s figures';

/** Words that name a CPU implementation of Vulkan or WebGPU in an adapter's info. */
const kSoftwareWords = /swiftshader|llvmpipe|lavapipe|softpipe|software|\bcpu\b/i;

/** Why `info` is a software adapter, or undefined for hardware. */
function softwareAdapterWhy(info: GPUAdapterInfo): string | undefined {
  const fields = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
  const named = Object.entries(fields).find(([, v]) => kSoftwareWords.test(v ?? ''));
  const why = [
    ...(named ? [`its ${named[0]} is "${named[1]}"`] : []),
    // Dawn's own word that the adapter is not a GPU.
    ...(info.isFallbackAdapter === true ? ['Dawn calls it a fallback adapter (isFallbackAdapter true)'] : []),
  ];
  return why.length ? why.join('; ') : undefined;
}

function describe(info: GPUAdapterInfo): string {
  return `vendor "${info.vendor}", architecture "${info.architecture}", device "${info.device}", description "${info.description}"`;
}

async function main(argv: string[]): Promise<number> {
  const allowSoftware = parseFlags(argv, { 'allow-software': { type: 'boolean' } })['allow-software'] ?? false;
  const gpu = await nodeGpu();
  console.log(`Vulkan driver manifest: VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES ?? '(unset)'}`);
  const asked: [string, GPURequestAdapterOptions | undefined][] = [
    ['the default request', undefined],
    ['the high-performance request tfjs makes', { powerPreference: 'high-performance' }],
  ];
  let refused = false;
  let software = false;
  for (const [label, options] of asked) {
    const adapter = await gpu.requestAdapter(options);
    if (!adapter) {
      console.error(`REFUSED: no WebGPU adapter (${label}): Dawn found no Vulkan device it can use ` +
        '(is libvulkan.so.1 installed, and does VK_ICD_FILENAMES name a driver manifest whose library loads?)');
      return 1;
    }
    console.log(`adapter (${label}): ${describe(adapter.info)}`);
    const why = softwareAdapterWhy(adapter.info);
    software ||= why !== undefined;
    if (why && allowSoftware) {
      console.log(`${kSoftwareLabel} (${label}): ${why}; let through by --allow-software, which is for tests alone`);
    } else if (why) {
      console.error(`REFUSED: a software adapter (${label}): ${why}. WebGPU runs on this machine's CPU here; ` +
        'its figures are not a GPU\'s, so nothing is measured');
      refused = true;
    }
    if (options === undefined) {
      const l = adapter.limits;
      console.log(`limits: maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}, maxBufferSize ${l.maxBufferSize}, ` +
        `maxComputeWorkgroupsPerDimension ${l.maxComputeWorkgroupsPerDimension}, maxComputeInvocationsPerWorkgroup ${l.maxComputeInvocationsPerWorkgroup}`);
    }
  }
  if (refused) return 1;
  try {
    await useNodeWebgpu();
  } catch (e) {
    console.error(`REFUSED: tfjs's webgpu backend did not start: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  // 0 + 1 + ... + 4095 = 8,386,560: exact in float32, so any other answer is a broken device, not rounding.
  const sum = tf.tidy(() => tf.sum(tf.range(0, 4096, 1, 'float32')));
  const got = (await sum.data())[0];
  sum.dispose();
  if (got !== 8_386_560) {
    console.error(`REFUSED: tfjs on webgpu computed sum(0..4095) = ${got}, not 8386560`);
    return 1;
  }
  console.log(software
    ? `OK (--allow-software): ${kSoftwareLabel}; tfjs's ${tf.getBackend()} backend computes on it`
    : `OK: a hardware adapter; tfjs's ${tf.getBackend()} backend computes on it`);
  return 0;
}

runMain(() => main(process.argv.slice(2)), kUsage);
