/**
 * The WGSL jacobi_eigen_sym4 (src/kernels/eigen.wgsl, f32, in registers, one matrix per thread, on real
 * WebGPU: Dawn on SwiftShader, through the test-only harness tests/kernels/eigenHarness.wgsl) against its
 * float64 twin jacobiEigenSym (src/solver/eigen.ts) at d = 4 on the same f32-rounded random symmetric
 * matrices: eigenvalues ascending, and eigenvectors (norm, orthogonality, residual, direction); the vector of
 * an eigenvalue near 0 beside O(1) ones; and the span of a double eigenvalue's vectors.
 */
import { describe, expect, it } from 'vitest';
import commonWgsl from '../../src/kernels/common.wgsl?raw';
import eigenWgsl from '../../src/kernels/eigen.wgsl?raw';
import { jacobiEigenSym } from '../../src/solver/eigen';
import { gaussian, makeRng } from '../helpers/epnpProblems';
import { harnessBuffer, harnessDevice, harnessPipeline, runHarness } from './harness';
import harnessWgsl from './eigenHarness.wgsl?raw';

const d = 4;
/** The least distance between consecutive eigenvalues (see randomSpectrum). */
const kGap = 0.05;
const kMatrices = 500;

// Tolerances, relative to |A|_F. Jacobi in f32 is backward stable: the computed eigenpairs are exact for
// A + E with |E| about c eps32 |A|_F (eps32 = 1.2e-7), which 1e-5 |A|_F covers with a margin of ten or more.
// By Weyl an eigenvalue moves by at most |E|, hence kTolValue; the residual of a computed pair is about |E|
// too, and the float64 residual of an f32 vector adds its own rounding, hence twice that. By Davis-Kahan's
// sin-theta theorem an eigenvector whose eigenvalue is `gap` away from the rest of the spectrum turns by
// sin(angle) <= |E| / gap, hence kTolAngle |A|_F / gap.
const kTolValue = 1e-5;
const kTolNorm = 1e-5;
const kTolOrtho = 1e-5;
const kTolResidual = 2e-5;
const kTolAngle = 1e-5;

/** One matrix's outputs from the harness: the eigenvalues [4] and vectors [16] (component i of vector j at 4i + j). */
interface EigenGpuResult {
  values: Float32Array;
  vectors: Float32Array;
}

/** jacobi_eigen_sym4 on every 4x4 of `mats` (f32, row-major). */
async function eigenGpu(mats: Float32Array[]): Promise<EigenGpuResult[]> {
  const device = await harnessDevice();
  const pipe = await harnessPipeline(device, 'EigenHarness', [commonWgsl, eigenWgsl, harnessWgsl].join('\n'));
  const B = mats.length;
  const input = new Float32Array(B * 16);
  mats.forEach((m, b) => input.set(m, b * 16));
  const res = await runHarness(device, pipe, 'EigenHarness', [
    harnessBuffer(device, 'EigenHarness.params', new Uint32Array([B, 0, 0, 0]), GPUBufferUsage.UNIFORM),
    harnessBuffer(device, 'EigenHarness.mats', input),
  ], 20 * B, B);
  return mats.map((_, b) => ({ values: res.slice(20 * b, 20 * b + 4), vectors: res.slice(20 * b + 4, 20 * b + 20) }));
}

/** A Haar-random orthogonal d x d matrix (row-major): Gram-Schmidt, done twice, on Gaussian columns. */
function randomOrthogonal(rng: () => number, d: number): Float64Array {
  const Q = Float64Array.from({ length: d * d }, () => gaussian(rng));
  for (let j = 0; j < d; j++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += Q[i * d + k] * Q[i * d + j];
        for (let i = 0; i < d; i++) Q[i * d + j] -= dot * Q[i * d + k];
      }
    }
    let nrm = 0;
    for (let i = 0; i < d; i++) nrm += Q[i * d + j] ** 2;
    nrm = Math.sqrt(nrm);
    for (let i = 0; i < d; i++) Q[i * d + j] /= nrm;
  }
  return Q;
}

/**
 * d eigenvalues uniform on [-1, 1], ascending, drawn again until they are at least kGap apart: then each
 * eigenvector is determined to about |E| / kGap.
 */
function randomSpectrum(rng: () => number, d: number): Float64Array {
  for (;;) {
    const lambda = Float64Array.from({ length: d }, () => 2 * rng() - 1).sort();
    let ok = true;
    for (let i = 0; i + 1 < d; i++) if (lambda[i + 1] - lambda[i] < kGap) ok = false;
    if (ok) return lambda;
  }
}

/** Q diag(lambda) Q^T (Q [d*d] row-major orthogonal), formed in float64 and then rounded to f32. */
function symmetricFrom(Q: Float64Array, lambda: Float64Array, d: number): Float32Array {
  const A = new Float32Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += Q[i * d + k] * lambda[k] * Q[j * d + k];
      // Mirrored before rounding, so that the f32 matrix is exactly symmetric.
      A[i * d + j] = s;
      A[j * d + i] = s;
    }
  }
  return A;
}

/** kMatrices random Q diag(lambda) Q^T with randomSpectrum's lambda. */
function randomSymmetric(seed: number): Float32Array[] {
  const rng = makeRng(seed);
  return Array.from({ length: kMatrices }, () => symmetricFrom(randomOrthogonal(rng, d), randomSpectrum(rng, d), d));
}

function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}


/** The float64 twin on the same f32 matrix. */
function reference(a: Float32Array) {
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  jacobiEigenSym(Float64Array.from(a), d, values, vectors);
  return { values, vectors };
}

interface Maxima {
  value: number;
  norm: number;
  ortho: number;
  residual: number;
  /** sin(angle) gap / |A|_F: held to kTolAngle */
  angle: number;
}

/** Checks one matrix's GPU outputs against float64; returns what failed and folds the errors into `max`. */
function checkOne(a: Float32Array, g: EigenGpuResult, max: Maxima): string[] {
  const bad: string[] = [];
  const frob = frobenius(a);
  const ref = reference(a);
  for (let i = 0; i < d; i++) {
    if (i + 1 < d && !(g.values[i] <= g.values[i + 1])) bad.push(`values not ascending at ${i}: ${g.values[i]} > ${g.values[i + 1]}`);
    const e = Math.abs(g.values[i] - ref.values[i]) / frob;
    max.value = Math.max(max.value, e);
    if (!(e <= kTolValue)) bad.push(`value ${i}: ${g.values[i]} vs ${ref.values[i]} (${e.toExponential(2)} |A|_F)`);
  }
  const col = (V: ArrayLike<number>, j: number) => Float64Array.from({ length: d }, (_, i) => V[i * d + j]);
  const dot = (u: Float64Array, v: Float64Array) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const vs = Array.from({ length: d }, (_, j) => col(g.vectors, j));
  for (let j = 0; j < d; j++) {
    const v = vs[j];
    const nv = Math.sqrt(dot(v, v));
    const en = Math.abs(nv - 1);
    max.norm = Math.max(max.norm, en);
    if (!(en <= kTolNorm)) bad.push(`vector ${j}: |v| - 1 = ${en.toExponential(2)}`);
    for (let k = j + 1; k < d; k++) {
      const eo = Math.abs(dot(v, vs[k]));
      max.ortho = Math.max(max.ortho, eo);
      if (!(eo <= kTolOrtho)) bad.push(`vectors ${j}, ${k}: v.w = ${eo.toExponential(2)}`);
    }
    // |A v - lambda v| in float64, with the GPU's own lambda and v.
    let r2 = 0;
    for (let i = 0; i < d; i++) {
      let s = -g.values[j] * v[i];
      for (let k = 0; k < d; k++) s += a[i * d + k] * v[k];
      r2 += s * s;
    }
    const er = Math.sqrt(r2) / frob;
    max.residual = Math.max(max.residual, er);
    if (!(er <= kTolResidual)) bad.push(`vector ${j}: |Av - lambda v| = ${er.toExponential(2)} |A|_F`);
    // The angle to the float64 eigenvector u (unit): sin = |v - (v.u) u| / |v|, either sign of v.
    const u = col(ref.vectors, j);
    const vu = dot(v, u);
    const sin = Math.sqrt(v.reduce((s, vi, i) => s + (vi - vu * u[i]) ** 2, 0)) / nv;
    let gap = Infinity;
    for (let k = 0; k < d; k++) if (k !== j) gap = Math.min(gap, Math.abs(ref.values[k] - ref.values[j]));
    const ea = (sin * gap) / frob;
    max.angle = Math.max(max.angle, ea);
    if (!(ea <= kTolAngle)) bad.push(`vector ${j}: sin(angle) ${sin.toExponential(2)} with gap ${gap.toFixed(3)} (${ea.toExponential(2)} |A|_F / gap)`);
  }
  return bad;
}

describe('jacobi_eigen_sym4 (eigen.wgsl) on WebGPU against the float64 jacobiEigenSym', () => {
  it('finds a WebGPU adapter (fails loudly, never skips)', async () => {
    expect(await harnessDevice()).toBeTruthy();
  });

  it(`${kMatrices} random symmetric 4x4: eigenvalues ascending and eigenvectors match float64`, async () => {
    const mats = randomSymmetric(4);
    const gpu = await eigenGpu(mats);
    const max: Maxima = { value: 0, norm: 0, ortho: 0, residual: 0, angle: 0 };
    const bad: string[] = [];
    mats.forEach((a, k) => bad.push(...checkOne(a, gpu[k], max).map((s) => `#${k}: ${s}`)));
    console.log(`[eigen wgsl] d=4: max |dlambda| ${max.value.toExponential(2)} |A|_F, ||v| - 1| ${max.norm.toExponential(2)}, ` +
      `|v.w| ${max.ortho.toExponential(2)}, |Av - lambda v| ${max.residual.toExponential(2)} |A|_F, sin(angle) ${max.angle.toExponential(2)} |A|_F / gap`);
    expect(bad.length, bad.slice(0, 5).join('\n')).toBe(0);
  });

  it('one eigenvalue of about 1e-6 beside three in [0.05, 1] (the null space of EPnP\'s S, scaled): its vector within 1e-5 rad of float64\'s', async () => {
    const rng = makeRng(5);
    const mats = Array.from({ length: kMatrices }, () =>
      symmetricFrom(randomOrthogonal(rng, d), Float64Array.from([1e-6 * rng(), 0.05 + 0.3 * rng(), 0.4 + 0.3 * rng(), 0.75 + 0.25 * rng()]), d));
    const gpu = await eigenGpu(mats);
    let worst = 0;
    mats.forEach((a, m) => {
      const ref = reference(a);
      const u = Float64Array.from({ length: d }, (_, i) => ref.vectors[i * d]);
      const v = Float64Array.from({ length: d }, (_, i) => gpu[m].vectors[i * d]);
      const vu = v.reduce((t, vi, i) => t + vi * u[i], 0);
      worst = Math.max(worst, Math.sqrt(v.reduce((t, vi, i) => t + (vi - vu * u[i]) ** 2, 0)));
    });
    console.log(`[eigen wgsl] d=4, a 1e-6 eigenvalue: its vector's sin(angle) to float64's up to ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-5);
  });

  it('a double eigenvalue: its two vectors span float64\'s, the other two match, all orthonormal', async () => {
    const rng = makeRng(6);
    const mats = Array.from({ length: kMatrices }, () => {
      const mid = 2 * rng() - 1;
      return symmetricFrom(randomOrthogonal(rng, d), Float64Array.from([mid - 1, mid, mid, mid + 1]), d);
    });
    const gpu = await eigenGpu(mats);
    let worstSpan = 0;
    let worstOther = 0;
    let worstOrtho = 0;
    mats.forEach((a, m) => {
      const ref = reference(a);
      const g = gpu[m];
      const col = (V: ArrayLike<number>, j: number) => Float64Array.from({ length: d }, (_, i) => V[i * d + j]);
      const dot = (x: Float64Array, y: Float64Array) => x.reduce((t, xi, i) => t + xi * y[i], 0);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) worstOrtho = Math.max(worstOrtho, Math.abs(dot(col(g.vectors, i), col(g.vectors, j)) - (i === j ? 1 : 0)));
      // Float64 vectors 1 and 2 must lie in the span of the GPU's vectors 1 and 2 (sin of the angle, unitless).
      for (const k of [1, 2]) {
        const u = col(ref.vectors, k);
        const r = u.slice();
        for (const j of [1, 2]) {
          const c = dot(col(g.vectors, j), u);
          for (let i = 0; i < d; i++) r[i] -= c * g.vectors[i * d + j];
        }
        worstSpan = Math.max(worstSpan, Math.hypot(...r));
      }
      // Vectors 0 and 3 (simple eigenvalues, 1 apart from the pair): the same direction as float64's.
      for (const k of [0, 3]) {
        const u = col(ref.vectors, k);
        const v = col(g.vectors, k);
        const vu = dot(v, u);
        worstOther = Math.max(worstOther, Math.sqrt(v.reduce((t, vi, i) => t + (vi - vu * u[i]) ** 2, 0)));
      }
    });
    console.log(`[eigen wgsl] d=4, a double eigenvalue: span sin(angle) ${worstSpan.toExponential(2)}, simple vectors sin(angle) ${worstOther.toExponential(2)}, orthonormality ${worstOrtho.toExponential(2)}`);
    expect(worstSpan).toBeLessThanOrEqual(1e-5);
    expect(worstOther).toBeLessThanOrEqual(1e-5);
    expect(worstOrtho).toBeLessThanOrEqual(kTolOrtho);
  });
});
