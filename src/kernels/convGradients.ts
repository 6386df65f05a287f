/**
 * The gradients of a 2D convolution for the two backends PoseLab trains on without a GPU. Mainly
 * Conv2DBackpropFilter, the gradient with respect to the filter: dW [kh, kw, Ci, Co] from x [B, H, W, Ci] (NHWC) and
 * dy [B, Ho, Wo, Co],
 *
 *   dW[r, c, i, o] = sum_{b, yr, yc} x[b, yr*sh + r - padTop, yc*sw + c - padLeft, i] * dy[b, yr, yc, o]
 *
 * - cpu: tfjs's own kernel evaluates this with one TensorBuffer.get per term (a variadic call that
 *   rebuilds the flat index every time), about 90 times slower than the forward convolution of the same
 *   layer and 97% of a training step. conv2dBackpropFilterNhwc walks the output positions once and, for
 *   each input pixel under the filter, adds the outer product x[.., i] dy[.., :] into a flat float64
 *   accumulator: the memory order (and cost) of tfjs's forward convolution, contiguous inner loops over
 *   Co, input zeros (ReLU outputs are half zeros) skipped, float32 rounding once at the end.
 * - wasm: tfjs's wasm backend has no such kernel (tfjs issue 8474). The sum above is itself a
 *   convolution: with the batch as channels, x^T [Ci, H, W, B] convolved (stride 1, the same padding)
 *   with dy^T [Ho, Wo, B, Co] as the filter, dilated by the forward stride, gives [Ci, kh', kw', Co];
 *   its first kh x kw outputs, transposed, are dW. So it runs on the backend's own XNNPACK convolution.
 *   (Measured on 2 cores, x [8, 32, 32, 16], 3x3x16x16: tfjs cpu 2,500 ms, conv2dBackpropFilterNhwc
 *   45 ms, the same identity on the cpu backend's convolution 70 ms, on wasm 3 ms.)
 *
 * NCHW input, which PoseLab never produces, goes to tfjs's original cpu kernel.
 */
import * as tf from '@tensorflow/tfjs';

type TypedArray = Float32Array | Int32Array | Uint8Array;
interface CpuBackend {
  data: { get(id: tf.DataId): { values: TypedArray } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

/** The attributes tfjs's two convolution-gradient kernels share (tfjs-core's Conv2DBackprop*Attrs). */
interface ConvBackpropAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface Conv2DBackpropFilterAttrs extends ConvBackpropAttrs {
  filterShape: [number, number, number, number];
}

/**
 * dW for NHWC x and dy, from the shapes' convolution geometry (tfjs's computeConv2DInfo, dilation 1).
 * Pure: x, dy in, a new Float32Array [kh*kw*Ci*Co] out.
 */
export function conv2dBackpropFilterNhwc(x: ArrayLike<number>, xShape: readonly number[], dy: ArrayLike<number>,
  info: tf.backend_util.Conv2DInfo): Float32Array {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (xShape[0] !== B || xShape[1] !== H || xShape[2] !== W || xShape[3] !== Ci) {
    throw new Error(`conv2dBackpropFilterNhwc: x has shape [${xShape.join(', ')}], expected [${B}, ${H}, ${W}, ${Ci}]`);
  }
  const acc = new Float64Array(kh * kw * Ci * Co);
  for (let b = 0; b < B; b++) {
    for (let yr = 0; yr < Ho; yr++) {
      const xr0 = yr * sh - padTop;
      for (let yc = 0; yc < Wo; yc++) {
        const xc0 = yc * sw - padLeft;
        const dyOff = ((b * Ho + yr) * Wo + yc) * Co;
        for (let r = 0; r < kh; r++) {
          const xr = xr0 + r;
          if (xr < 0 || xr >= H) continue;
          for (let c = 0; c < kw; c++) {
            const xc = xc0 + c;
            if (xc < 0 || xc >= W) continue;
            const xOff = ((b * H + xr) * W + xc) * Ci;
            const wOff = (r * kw + c) * Ci * Co;
            for (let i = 0; i < Ci; i++) {
              const xv = x[xOff + i];
              if (xv === 0) continue;
              const w0 = wOff + i * Co;
              for (let o = 0; o < Co; o++) acc[w0 + o] += xv * dy[dyOff + o];
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
}

function convInfoOf(x: tf.TensorInfo, attrs: Conv2DBackpropFilterAttrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], attrs.filterShape,
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
}

/** Runs another kernel of the same backend on TensorInfos (how backends compose their kernels). */
function runKernel(backendName: string, name: string, backend: unknown, inputs: Record<string, tf.TensorInfo>,
  attrs: Record<string, unknown>): tf.TensorInfo {
  const k = tf.getKernel(name, backendName);
  if (!k) throw new Error(`Conv2DBackpropFilter on ${backendName}: the backend has no ${name} kernel`);
  return k.kernelFunc({ inputs, backend: backend as tf.KernelBackend, attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
}

/** dW through the backend's own forward convolution (the identity in the header), NHWC only. */
function conv2dBackpropFilterByConvolution(backendName: string, backend: tf.KernelBackend, x: tf.TensorInfo,
  dy: tf.TensorInfo, attrs: Conv2DBackpropFilterAttrs): tf.TensorInfo {
  const info = convInfoOf(x, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const run = (name: string, inputs: Record<string, tf.TensorInfo>, a: Record<string, unknown>) => runKernel(backendName, name, backend, inputs, a);
  const xT = run('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const conv = run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [info.strideHeight, info.strideWidth],
  });
  const cut = run('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [info.inChannels, info.filterHeight, info.filterWidth, info.outChannels] });
  const dW = run('Transpose', { x: cut }, { perm: [1, 2, 0, 3] });
  for (const t of [xT, dyT, conv, cut]) backend.disposeData(t.dataId);
  return dW;
}

interface Conv2DBackpropInputAttrs extends ConvBackpropAttrs {
  inputShape: [number, number, number, number];
}

/**
 * dx [B, H, W, Ci] through the backend's forward convolution: the transposed convolution written as a
 * stride-1 one. dy [B, Ho, Wo, Co] with s - 1 zeros inserted after each pixel in each direction (a stride-s
 * convolution's outputs sit s input pixels apart), convolved with the filter rotated by 180 degrees and its
 * channels swapped (W'[r, c, o, i] = W[kh-1-r, kw-1-c, i, o]), padded by kh-1-padTop above and by what
 * reaches row H-1 below (negative: rows of inserted zeros cut off), and likewise across:
 *
 *   dx[h] = sum_r u[h + padTop - r] W[r],   u[j] = dy[j / s] where s divides j, else 0.
 *
 * At stride 2 the zeros cost 4 times the multiplications, still several times faster than the wasm
 * backend's own loops. Returns null where the forward padding exceeds the filter (padTop > kh - 1), which
 * the caller leaves to the backend, as it does a dy whose shape does not match the convolution's.
 */
function conv2dBackpropInputByConvolution(backendName: string, backend: tf.KernelBackend, dy: tf.TensorInfo,
  filter: tf.TensorInfo, attrs: Conv2DBackpropInputAttrs): tf.TensorInfo | null {
  const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape as [number, number, number, number],
    attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  const { top, left } = info.padInfo;
  const { batchSize: B, inHeight: H, inWidth: W, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  // A dy that does not match the geometry (tf.conv2dTranspose checks channels only) goes to the backend, whose
  // handling is tfjs's own; reshaping it here would read its rows and columns wrongly.
  if (top > kh - 1 || left > kw - 1 || dy.shape[1] !== Ho || dy.shape[2] !== Wo) return null;
  const run = (name: string, inputs: Record<string, tf.TensorInfo>, a: Record<string, unknown>) => runKernel(backendName, name, backend, inputs, a);
  const temps: tf.TensorInfo[] = [];
  let u = dy;
  if (sh > 1 || sw > 1) {
    const r6 = run('Reshape', { x: dy }, { shape: [B, Ho, 1, Wo, 1, Co] });
    const p6 = run('PadV2', { x: r6 }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
    u = run('Reshape', { x: p6 }, { shape: [B, Ho * sh, Wo * sw, Co] });
    temps.push(r6, p6, u);
  }
  // Below and right: u's last row must reach dx's last, h = H - 1, at r = 0.
  const bottom = H + top - Ho * sh;
  const right = W + left - Wo * sw;
  if (bottom < 0 || right < 0) {
    // Past row H + padTop - 1 lie inserted zeros, or dy of windows wholly inside the bottom padding (an explicit
    // pad of kh or more, a 'ceil' rounding): neither reaches an input pixel.
    u = run('Slice', { x: u }, { begin: [0, 0, 0, 0], size: [B, Ho * sh + Math.min(0, bottom), Wo * sw + Math.min(0, right), Co] });
    temps.push(u);
  }
  const flipped = run('Reverse', { x: filter }, { dims: [0, 1] });
  const wT = run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  const dx = run('Conv2D', { x: u, filter: wT }, {
    strides: [1, 1], pad: [[0, 0], [kh - 1 - top, Math.max(0, bottom)], [kw - 1 - left, Math.max(0, right)], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1],
  });
  for (const t of [...temps, flipped, wT]) backend.disposeData(t.dataId);
  return dx;
}

const registered = new Set<string>();

function requireNhwc(kernel: string, dataFormat: 'NHWC' | 'NCHW'): void {
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error(`${kernel} on wasm: only NHWC (channelsLast) is supported, got ${dataFormat}`);
  }
}

/**
 * Replaces the convolution gradient kernels of `backendName` with the ones above, once per module
 * instance (later calls do nothing): on 'cpu' Conv2DBackpropFilter; on 'wasm' Conv2DBackpropFilter
 * (which it lacks) and Conv2DBackpropInput (its own is plain loops, several times slower than its XNNPACK
 * convolution: README, "Training without a GPU"). Backend setup (setup.ts) calls it for every host, so Node, the page's
 * Worker and the tests train on the same kernels.
 */
export function registerConvGradients(backendName: 'cpu' | 'wasm'): void {
  if (registered.has(backendName)) return;
  registered.add(backendName);
  if (backendName === 'wasm') {
    const ownInput = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
    if (!ownInput) throw new Error('registerConvGradients: the wasm backend has no Conv2DBackpropInput (is @tensorflow/tfjs-backend-wasm loaded?)');
    replaceKernel(tf.Conv2DBackpropFilter, 'wasm', (args) => {
      const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
      const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
      requireNhwc('Conv2DBackpropFilter', attrs.dataFormat);
      return conv2dBackpropFilterByConvolution('wasm', args.backend as tf.KernelBackend, x, dy, attrs);
    });
    // The backend binds its own kernel's WebAssembly function at start-up: keep that for paddings wider than the filter.
    replaceKernel(tf.Conv2DBackpropInput, 'wasm', (args) => {
      const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const attrs = args.attrs as unknown as Conv2DBackpropInputAttrs;
      requireNhwc('Conv2DBackpropInput', attrs.dataFormat);
      return conv2dBackpropInputByConvolution('wasm', args.backend as tf.KernelBackend, dy, filter, attrs) ?? ownInput.kernelFunc(args);
    }, ownInput.setupFunc);
    return;
  }
  const original = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
  if (!original) throw new Error('registerConvGradients: the cpu backend has no Conv2DBackpropFilter to replace (is @tensorflow/tfjs loaded?)');
  replaceKernel(tf.Conv2DBackpropFilter, 'cpu', (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as Conv2DBackpropFilterAttrs;
    if (tf.backend_util.convertConv2DDataFormat(attrs.dataFormat) !== 'channelsLast') return original.kernelFunc(args);
    const backend = args.backend as unknown as CpuBackend;
    const info = convInfoOf(x, attrs);
    const dW = conv2dBackpropFilterNhwc(backend.data.get(x.dataId).values, x.shape, backend.data.get(dy.dataId).values, info);
    return backend.makeTensorInfo(info.filterShape, 'float32', dW);
  });
}

/** Registers kernelFunc as the backend's kernel, in place of the one it has (if any). */
function replaceKernel(name: string, backendName: string, kernelFunc: tf.KernelFunc, setupFunc?: tf.KernelSetupFunc): void {
  if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  tf.registerKernel({ kernelName: name, backendName, kernelFunc, ...(setupFunc ? { setupFunc } : {}) });
}
