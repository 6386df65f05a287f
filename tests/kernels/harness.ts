/**
 * What the test-only WGSL harnesses (epnpHarness.wgsl, eigenHarness.wgsl) share: the Dawn device, a pipeline
 * compiled with its errors reported, input buffers, and one dispatch of one thread per item whose last
 * binding is read back.
 */
import { nodeGpu } from '../../src/node/webgpu';

export const kHarnessWorkgroupSize = 64;
let devicePromise: Promise<GPUDevice> | null = null;

/** The Dawn device; throws (never skips) when WebGPU has no adapter. */
export function harnessDevice(): Promise<GPUDevice> {
  devicePromise ??= (async () => {
    const gpu = await nodeGpu();
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      throw new Error('WebGPU: no adapter found; set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader)');
    }
    return adapter.requestDevice();
  })();
  return devicePromise;
}

// One pipeline per WGSL text: tests compile variants of a library beside it.
const pipelines = new Map<string, Promise<GPUComputePipeline>>();

/** The pipeline of `code`'s entry point main, compiled once per text; a WGSL or validation error throws, naming `label`. */
export function harnessPipeline(device: GPUDevice, label: string, code: string): Promise<GPUComputePipeline> {
  let pipe = pipelines.get(code);
  if (!pipe) {
    pipe = compilePipeline(device, label, code);
    pipelines.set(code, pipe);
  }
  return pipe;
}

async function compilePipeline(device: GPUDevice, label: string, code: string): Promise<GPUComputePipeline> {
  const module = device.createShaderModule({ label: `${label}.module`, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((msg) => msg.type === 'error');
  if (errors.length) {
    throw new Error(`${label} WGSL: ${errors.map((e) => `line ${e.lineNum}:${e.linePos} ${e.message}`).join('\n')}`);
  }
  device.pushErrorScope('validation');
  const pipeline = await device.createComputePipelineAsync({
    label: `${label}.pipeline`,
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants: { kWorkgroupSize: kHarnessWorkgroupSize } },
  });
  const err = await device.popErrorScope();
  if (err) throw new Error(`${label} pipeline: ${err.message}`);
  return pipeline;
}

/** A buffer holding `data`, at least 16 bytes, of `usage` (STORAGE unless given) plus COPY_DST. */
export function harnessBuffer(device: GPUDevice, label: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage = GPUBufferUsage.STORAGE): GPUBuffer {
  const buf = device.createBuffer({ label, size: Math.max(16, data.byteLength), usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/**
 * Binds `inputs` at 0, 1, ... and an output of `outFloats` f32 after them, runs ceil(items / 64) workgroups,
 * and returns the output. Every buffer, the inputs included, is destroyed afterwards.
 */
export async function runHarness(device: GPUDevice, pipeline: GPUComputePipeline, label: string, inputs: GPUBuffer[], outFloats: number, items: number): Promise<Float32Array> {
  const outSize = 4 * outFloats;
  device.pushErrorScope('validation');
  const out = device.createBuffer({ label: `${label}.out`, size: outSize, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const read = device.createBuffer({ label: `${label}.read`, size: outSize, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const bindGroup = device.createBindGroup({
    label: `${label}.bindGroup`,
    layout: pipeline.getBindGroupLayout(0),
    entries: [...inputs, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder({ label: `${label}.encoder` });
  const pass = enc.beginComputePass({ label: `${label}.pass` });
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(items / kHarnessWorkgroupSize));
  pass.end();
  enc.copyBufferToBuffer(out, 0, read, 0, outSize);
  device.queue.submit([enc.finish()]);
  const err = await device.popErrorScope();
  if (err) throw new Error(`${label} dispatch: ${err.message}`);
  await read.mapAsync(GPUMapMode.READ);
  const res = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const b of [...inputs, out, read]) b.destroy();
  return res;
}
