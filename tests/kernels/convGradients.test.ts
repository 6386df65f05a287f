/**
 * The convolution gradients PoseLab registers for the cpu and wasm backends, against tfjs's own cpu
 * kernels (saved before they are replaced) and a float64 sum written out here, on strided, padded,
 * 1x1 and 3x3 cases; and no tensors left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';

// tfjs's own cpu kernels, captured before setup replaces the filter gradient.
const tfjsFilterGrad = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')!;
const tfjsInputGrad = tf.getKernel(tf.Conv2DBackpropInput, 'cpu')!;

type Pad = 'same' | 'valid';
interface Case { x: [number, number, number, number]; k: number; co: number; stride: number; pad: Pad }
const cases: Case[] = [
  { x: [2, 9, 7, 5], k: 3, co: 6, stride: 1, pad: 'same' },
  { x: [2, 9, 7, 5], k: 3, co: 6, stride: 2, pad: 'same' },
  { x: [2, 8, 8, 5], k: 3, co: 4, stride: 2, pad: 'same' },
  { x: [2, 9, 7, 5], k: 3, co: 6, stride: 1, pad: 'valid' },
  { x: [2, 9, 7, 5], k: 3, co: 6, stride: 2, pad: 'valid' },
  { x: [3, 6, 6, 8], k: 1, co: 5, stride: 1, pad: 'same' },
  { x: [3, 6, 6, 8], k: 1, co: 5, stride: 2, pad: 'valid' },
  { x: [1, 11, 10, 3], k: 5, co: 2, stride: 3, pad: 'same' },
  // Rows and columns past the last output's window (dx there is 0), and even filters at stride 2.
  { x: [2, 4, 5, 3], k: 1, co: 2, stride: 3, pad: 'valid' },
  { x: [2, 10, 9, 3], k: 3, co: 4, stride: 2, pad: 'valid' },
  { x: [2, 7, 6, 3], k: 2, co: 3, stride: 2, pad: 'same' },
  { x: [2, 9, 8, 4], k: 4, co: 3, stride: 2, pad: 'same' },
];

/** Seeded values in [-1, 1], a third of them 0 (like ReLU outputs: the cpu kernel skips zeros). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = u < 1 / 3 ? 0 : 2 * u - 1;
  }
  return out;
}

/** dW by its definition, in float64. */
function filterGradF64(x: Float32Array, c: Case, dy: Float32Array, info: tf.backend_util.Conv2DInfo): Float64Array {
  const [B, H, W, Ci] = c.x;
  const { outHeight: Ho, outWidth: Wo, outChannels: Co, filterHeight: kh, filterWidth: kw } = info;
  const dW = new Float64Array(kh * kw * Ci * Co);
  for (let r = 0; r < kh; r++) for (let q = 0; q < kw; q++) for (let i = 0; i < Ci; i++) for (let o = 0; o < Co; o++) {
    let s = 0;
    for (let b = 0; b < B; b++) for (let yr = 0; yr < Ho; yr++) for (let yc = 0; yc < Wo; yc++) {
      const xr = yr * info.strideHeight + r - info.padInfo.top;
      const xc = yc * info.strideWidth + q - info.padInfo.left;
      if (xr < 0 || xr >= H || xc < 0 || xc >= W) continue;
      s += x[((b * H + xr) * W + xc) * Ci + i] * dy[((b * Ho + yr) * Wo + yc) * Co + o];
    }
    dW[((r * kw + q) * Ci + i) * Co + o] = s;
  }
  return dW;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`convolution gradients on ${backend}`, () => {
    beforeAll(async () => {
      const { useCpuBackend } = await import('../../src/kernels/setup');
      await useCpuBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      // The replaced kernels are the ones tfjs now runs.
      expect(tf.getKernel(tf.Conv2DBackpropFilter, backend)?.kernelFunc).not.toBe(tfjsFilterGrad.kernelFunc);
    });

    it.each(cases)('x $x, $k x $k -> $co, stride $stride, $pad: dW and dx match tfjs cpu and float64', (c) => {
      const filterShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.co];
      const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.stride, 1, c.pad);
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.co];
      const xv = values(c.x.reduce((a, b) => a * b), 7);
      const wv = values(filterShape.reduce((a, b) => a * b), 11);
      const dyv = values(dyShape.reduce((a, b) => a * b), 13);
      const before = tf.memory().numTensors;
      const x = tf.tensor4d(xv, c.x);
      const w = tf.tensor4d(wv, filterShape);
      const dy = tf.tensor(dyv, dyShape);
      // Through the public gradient of conv2d, as training reaches the kernels.
      const [gx, gw] = tf.grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))([x, w], dy);
      const dW = gw.dataSync();
      const dX = gx.dataSync();
      tf.dispose([x, w, dy, gx, gw]);
      expect(tf.memory().numTensors).toBe(before);

      // tfjs's own cpu kernels on the same inputs.
      const refW = tfjsCpu(tfjsFilterGrad, { x: [xv, c.x], dy: [dyv, dyShape] }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape });
      const refX = tfjsCpu(tfjsInputGrad, { dy: [dyv, dyShape], filter: [wv, filterShape] }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
      expect(relErr(dW, refW)).toBeLessThan(1e-5);
      expect(relErr(dX, refX)).toBeLessThan(1e-5);
      expect(relErr(dW, filterGradF64(xv, c, dyv, info))).toBeLessThan(1e-5);
    });
  });
}

/** Runs one of tfjs's own cpu kernels on the cpu backend's storage directly; frees what it wrote. */
function tfjsCpu(kernel: tf.KernelConfig, inputs: Record<string, [Float32Array, number[]]>, attrs: Record<string, unknown>): Float32Array {
  const cpu = tf.findBackend('cpu')!;
  const infos: Record<string, tf.TensorInfo> = {};
  for (const [name, [v, shape]] of Object.entries(inputs)) infos[name] = { dataId: cpu.write(v, shape, 'float32'), shape, dtype: 'float32' };
  const out = kernel.kernelFunc({ inputs: infos, backend: cpu, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  const values = Float32Array.from(cpu.readSync(out.dataId) as Float32Array);
  for (const t of [...Object.values(infos), out]) cpu.disposeData(t.dataId);
  return values;
}
