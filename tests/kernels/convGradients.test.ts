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
      const dataIds = backendDataIds();
      const x = tf.tensor4d(xv, c.x);
      const w = tf.tensor4d(wv, filterShape);
      const dy = tf.tensor(dyv, dyShape);
      // Through the public gradient of conv2d, as training reaches the kernels.
      const [gx, gw] = tf.grads((a, b) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad))([x, w], dy);
      const dW = gw.dataSync();
      const dX = gx.dataSync();
      tf.dispose([x, w, dy, gx, gw]);
      expect(tf.memory().numTensors).toBe(before);
      // The kernels' own temporaries (reshapes share data, so a missed or double free shows only here).
      expect(backendDataIds()).toBe(dataIds);

      // tfjs's own cpu kernels on the same inputs.
      const refW = tfjsCpu(tfjsFilterGrad, { x: [xv, c.x], dy: [dyv, dyShape] }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape });
      const refX = tfjsCpu(tfjsInputGrad, { dy: [dyv, dyShape], filter: [wv, filterShape] }, { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
      expect(relErr(dW, refW)).toBeLessThan(1e-5);
      expect(relErr(dX, refX)).toBeLessThan(1e-5);
      expect(relErr(dW, filterGradF64(xv, c, dyv, info))).toBeLessThan(1e-5);
    });

    if (backend === 'wasm') {
      it.each(inputGradCases)('Conv2DBackpropInput, $name: matches tfjs cpu, on the path expected', (c) => {
        const [B, H, W, Ci] = c.x;
        const filterShape: [number, number, number, number] = [c.k[0], c.k[1], Ci, c.co];
        const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.strides, 1, c.pad, c.rounding);
        const dyShape = [B, info.outHeight, info.outWidth, c.co];
        const wv = values(filterShape.reduce((a, b) => a * b), 17);
        const dyv = values(dyShape.reduce((a, b) => a * b), 19);
        const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.rounding, inputShape: [B, H, W, Ci] };
        const dataIds = backendDataIds();
        const dy = tf.tensor(dyv, dyShape);
        const w = tf.tensor4d(wv, filterShape);
        const convs = countingConv2D(() => {
          const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
          expect(dx.shape).toEqual([B, H, W, Ci]);
          const refX = tfjsCpu(tfjsInputGrad, { dy: [dyv, dyShape], filter: [wv, filterShape] }, attrs);
          expect(relErr(dx.dataSync(), refX)).toBeLessThan(1e-5);
          dx.dispose();
        });
        // One forward convolution where the transposed one is rewritten, none where the backend's own kernel runs.
        expect(convs).toBe(c.replaced ? 1 : 0);
        // The inputs are intact and every temporary freed.
        expect(dy.dataSync()).toEqual(Float32Array.from(dyv));
        tf.dispose([dy, w]);
        expect(backendDataIds()).toBe(dataIds);
      });
    }
  });
}

type PadAttr = number | 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface InputGradCase {
  name: string;
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  strides: [number, number];
  pad: PadAttr;
  rounding?: 'floor' | 'round' | 'ceil';
  /** Rewritten as a forward convolution (else the backend's own kernel). */
  replaced: boolean;
}
const inputGradCases: InputGradCase[] = [
  { name: 'number pad 1, floor', x: [2, 9, 8, 3], k: [3, 3], co: 2, strides: [2, 2], pad: 1, rounding: 'floor', replaced: true },
  // ceil rounding adds an output whose window lies in the bottom padding: its dy is cut off with the zeros.
  { name: 'number pad 2, ceil (dy rows past the input)', x: [1, 7, 7, 2], k: [3, 3], co: 2, strides: [3, 3], pad: 2, rounding: 'ceil', replaced: true },
  { name: 'explicit pads wider below than the filter', x: [1, 6, 7, 2], k: [2, 3], co: 2, strides: [2, 1], pad: [[0, 0], [1, 4], [1, 1], [0, 0]], replaced: true },
  { name: 'mixed strides, a 3 x 1 filter', x: [2, 8, 9, 3], k: [3, 1], co: 3, strides: [1, 3], pad: 'same', replaced: true },
  { name: 'valid, 1 x 2 filter, strides 3 and 2', x: [2, 4, 7, 2], k: [1, 2], co: 2, strides: [3, 2], pad: 'valid', replaced: true },
  { name: 'top pad wider than the filter (backend kernel)', x: [1, 6, 6, 2], k: [3, 3], co: 2, strides: [2, 2], pad: [[0, 0], [3, 0], [0, 0], [0, 0]], replaced: false },
];

/** The wasm backend's count of live data (tf.memory() counts tensors, not a kernel's own temporaries). */
function backendDataIds(): number {
  return tf.engine().backend.numDataIds();
}

/** Runs f with tfjs's wasm Conv2D kernel wrapped to count its calls; restores it after. */
function countingConv2D(f: () => void): number {
  const original = tf.getKernel(tf.Conv2D, 'wasm')!;
  let calls = 0;
  tf.unregisterKernel(tf.Conv2D, 'wasm');
  tf.registerKernel({ ...original, kernelFunc: (args) => { calls++; return original.kernelFunc(args); } });
  try {
    f();
  } finally {
    tf.unregisterKernel(tf.Conv2D, 'wasm');
    tf.registerKernel(original);
  }
  return calls;
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
