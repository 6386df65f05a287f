/**
 * The WGSL tridiagonal_ql_eigen_sym (src/kernels/eigen.wgsl, f32, one matrix per thread, on real WebGPU:
 * Dawn on SwiftShader, through the test-only harness tests/kernels/eigenHarness.wgsl) against its float64
 * twin tridiagonalQlEigenSym (src/solver/eigen.ts) on the same f32-rounded random symmetric matrices:
 * eigenvalues, the smallest eigenvectors (norm, orthogonality, residual, direction), the columns it must
 * leave alone, and the -1 of the rotation-record overflow and of non-finite input.
 */
import { describe, expect, it } from 'vitest';
import commonWgsl from '../../src/kernels/common.wgsl?raw';
import eigenWgsl from '../../src/kernels/eigen.wgsl?raw';
import { jacobiEigenSym, tridiagonalQlEigenSym } from '../../src/solver/eigen';
import { gaussian, makeRng } from '../helpers/epnpProblems';
import { harnessBuffer, harnessDevice, harnessPipeline, runHarness } from './harness';
import harnessWgsl from './eigenHarness.wgsl?raw';

/** What the harness fills `vectors` with before the call (kSentinel in eigenHarness.wgsl). */
const kSentinel = 7;
/** The least distance between consecutive eigenvalues among the five smallest (see randomSpectrum). */
const kGap = 0.05;
const kMatrices = 200;

// Tolerances, relative to |A|_F. f32 Householder + QL is backward stable: the computed eigenpairs are exact
// for A + E with |E| about c d eps32 |A|_F (eps32 = 1.2e-7, d <= 12), which 1e-5 |A|_F covers with a
// margin of ten or more. By Weyl an eigenvalue moves by at most |E|, hence kTolValue; the residual of a
// computed pair is about |E| too, and the float64 residual of an f32 vector adds its own rounding, hence
// twice that. By Davis-Kahan's sin-theta theorem an eigenvector whose eigenvalue is `gap` away from the rest
// of the spectrum turns by sin(angle) <= |E| / gap, hence kTolAngle |A|_F / gap (the float64 reference is
// exact to 1e-15 here).
const kTolValue = 1e-5;
const kTolNorm = 1e-5;
const kTolOrtho = 1e-5;
const kTolResidual = 2e-5;
const kTolAngle = 1e-5;

/** One matrix's outputs from the harness. */
interface EigenGpuResult {
  /** tridiagonal_ql_eigen_sym's return value: the QL iterations, or -1 */
  ret: number;
  /** [d] the eigenvalues as written */
  values: Float32Array;
  /** [d*d] all of `vectors` after the call: component i of vector j at i*d + j */
  vectors: Float32Array;
}

function eigenPipeline(device: GPUDevice, eigenSource: string): Promise<GPUComputePipeline> {
  return harnessPipeline(device, 'EigenHarness', [commonWgsl, eigenSource, harnessWgsl].join('\n'));
}

/** tridiagonal_ql_eigen_sym on every d x d matrix of `mats` (f32, row-major), `count` eigenvectors wanted. */
async function eigenGpu(mats: Float32Array[], d: number, count: number, eigenSource = eigenWgsl): Promise<EigenGpuResult[]> {
  const device = await harnessDevice();
  const pipe = await eigenPipeline(device, eigenSource);
  const B = mats.length;
  const input = new Float32Array(B * d * d);
  mats.forEach((m, b) => input.set(m, b * d * d));
  const stride = 1 + d + d * d;
  const res = await runHarness(device, pipe, 'EigenHarness', [
    harnessBuffer(device, 'EigenHarness.params', new Uint32Array([B, d, count, 0]), GPUBufferUsage.UNIFORM),
    harnessBuffer(device, 'EigenHarness.mats', input),
  ], stride * B, B);
  return mats.map((_, b) => {
    const o = b * stride;
    return { ret: res[o], values: res.slice(o + 1, o + 1 + d), vectors: res.slice(o + 1 + d, o + stride) };
  });
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
 * d eigenvalues uniform on [-1, 1], ascending, drawn again until the five smallest are at least kGap apart:
 * then each of the four smallest eigenvectors (what EPnP takes) is determined to about |E| / kGap.
 */
function randomSpectrum(rng: () => number, d: number): Float64Array {
  for (;;) {
    const lambda = Float64Array.from({ length: d }, () => 2 * rng() - 1).sort();
    let ok = true;
    for (let i = 0; i < 4; i++) if (lambda[i + 1] - lambda[i] < kGap) ok = false;
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

/** kMatrices random Q diag(lambda) Q^T with randomSpectrum's lambda (seeded by d). */
function randomSymmetric(d: number): Float32Array[] {
  const rng = makeRng(1000 + d);
  return Array.from({ length: kMatrices }, () => symmetricFrom(randomOrthogonal(rng, d), randomSpectrum(rng, d), d));
}

function frobenius(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** The float64 decomposition of the same f32 matrix: every eigenvalue and eigenvector. */
function reference(a: Float32Array, d: number) {
  const values = new Float64Array(d);
  const vectors = new Float64Array(d * d);
  const ret = tridiagonalQlEigenSym(Float64Array.from(a), d, values, vectors, d);
  return { ret, values, vectors };
}

interface Maxima {
  value: number;
  norm: number;
  ortho: number;
  residual: number;
  /** sin(angle) gap / |A|_F: held to kTolAngle */
  angle: number;
}

/**
 * Checks one matrix's GPU outputs against the float64 reference; returns what failed (empty when all
 * holds) and folds the errors into `max`.
 */
function checkOne(a: Float32Array, d: number, count: number, g: EigenGpuResult, max: Maxima): string[] {
  const bad: string[] = [];
  const frob = frobenius(a);
  const ref = reference(a, d);
  if (!(ref.ret >= 0)) bad.push(`float64 reference returned ${ref.ret}`);
  // The reference itself, against Jacobi (a different method): it is the yardstick of everything below.
  const jv = new Float64Array(d), jV = new Float64Array(d * d);
  jacobiEigenSym(Float64Array.from(a), d, jv, jV);
  for (let i = 0; i < d; i++) {
    if (!(Math.abs(jv[i] - ref.values[i]) <= 1e-12 * frob)) bad.push(`float64 QL and Jacobi disagree on value ${i}`);
  }
  if (!(g.ret >= 0)) bad.push(`returned ${g.ret}`);
  for (let i = 0; i < d; i++) {
    if (i + 1 < d && !(g.values[i] <= g.values[i + 1])) bad.push(`values not ascending at ${i}: ${g.values[i]} > ${g.values[i + 1]}`);
    const e = Math.abs(g.values[i] - ref.values[i]) / frob;
    max.value = Math.max(max.value, e);
    if (!(e <= kTolValue)) bad.push(`value ${i}: ${g.values[i]} vs ${ref.values[i]} (${e.toExponential(2)} |A|_F)`);
  }
  const col = (V: ArrayLike<number>, j: number) => Float64Array.from({ length: d }, (_, i) => V[i * d + j]);
  const dot = (u: Float64Array, v: Float64Array) => u.reduce((s, ui, i) => s + ui * v[i], 0);
  const vs = Array.from({ length: count }, (_, j) => col(g.vectors, j));
  for (let j = 0; j < count; j++) {
    const v = vs[j];
    const nv = Math.sqrt(dot(v, v));
    const en = Math.abs(nv - 1);
    max.norm = Math.max(max.norm, en);
    if (!(en <= kTolNorm)) bad.push(`vector ${j}: |v| - 1 = ${en.toExponential(2)}`);
    for (let k = j + 1; k < count; k++) {
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
  // The columns count .. d must be left as they were.
  for (let i = 0; i < d; i++) {
    for (let j = count; j < d; j++) {
      if (g.vectors[i * d + j] !== kSentinel) bad.push(`vectors[${i}][${j}] = ${g.vectors[i * d + j]}, written though j >= count`);
    }
  }
  return bad;
}

/** Checks a batch, prints the one-line summary, and returns the failures (each prefixed by its matrix). */
function checkBatch(label: string, mats: Float32Array[], d: number, count: number, gpu: EigenGpuResult[]): string[] {
  const max: Maxima = { value: 0, norm: 0, ortho: 0, residual: 0, angle: 0 };
  const bad: string[] = [];
  let pass = 0;
  mats.forEach((a, k) => {
    const b = checkOne(a, d, count, gpu[k], max);
    if (b.length === 0) pass++;
    bad.push(...b.map((s) => `#${k}: ${s}`));
  });
  const its = gpu.map((g) => g.ret);
  console.log(`[eigen wgsl] ${label}: ${pass}/${mats.length} pass; max |dlambda| ${max.value.toExponential(2)} |A|_F, ` +
    `||v| - 1| ${max.norm.toExponential(2)}, |v.w| ${max.ortho.toExponential(2)}, |Av - lambda v| ${max.residual.toExponential(2)} |A|_F, ` +
    `sin(angle) ${max.angle.toExponential(2)} |A|_F / gap; QL iterations ${Math.min(...its)}..${Math.max(...its)}` +
    (bad.length ? `; failures (first 5): ${bad.slice(0, 5).join('; ')}` : ''));
  return bad;
}

describe('tridiagonal_ql_eigen_sym (eigen.wgsl) on WebGPU against the float64 tridiagonalQlEigenSym', () => {
  it('finds a WebGPU adapter (fails loudly, never skips)', async () => {
    const device = await harnessDevice();
    expect(device).toBeTruthy();
  });

  for (const d of [12, 10, 9]) {
    it(`d=${d}, count=4, ${kMatrices} random symmetric matrices: eigenvalues and the four smallest eigenvectors match float64`, async () => {
      const mats = randomSymmetric(d);
      const gpu = await eigenGpu(mats, d, 4);
      const bad = checkBatch(`d=${d}, count=4`, mats, d, 4, gpu);
      expect(bad.length, bad.slice(0, 5).join('\n')).toBe(0);
    });
  }

  it(`d=9, count=3 (the float64 EPnP's planar case; the f32 one keeps Jacobi there): three eigenvectors match float64, columns 3.. untouched`, async () => {
    const mats = randomSymmetric(9);
    const gpu = await eigenGpu(mats, 9, 3);
    const bad = checkBatch('d=9, count=3', mats, 9, 3, gpu);
    expect(bad.length, bad.slice(0, 5).join('\n')).toBe(0);
  });

  it('d=12, a near null space (M^T M-like: four eigenvalues within 1e-6 of 0, the rest in [0.05, 1]): the four vectors span float64\'s', async () => {
    const d = 12;
    const rng = makeRng(2024);
    const mats = Array.from({ length: kMatrices }, () => {
      const Q = randomOrthogonal(rng, d);
      return symmetricFrom(Q, Float64Array.from({ length: d }, (_, k) => (k < 4 ? 1e-6 * rng() : 0.05 + 0.95 * rng())).sort(), d);
    });
    const gpu = await eigenGpu(mats, d, 4);
    const bad: string[] = [];
    let worstSpan = 0;
    let worstValue = 0;
    mats.forEach((a, m) => {
      const frob = frobenius(a);
      const ref = reference(a, d);
      const g = gpu[m];
      if (!(g.ret >= 0)) bad.push(`#${m}: returned ${g.ret}`);
      for (let i = 0; i < d; i++) worstValue = Math.max(worstValue, Math.abs(g.values[i] - ref.values[i]) / frob);
      // Within the cluster the vectors are not determined, their span is: each float64 cluster vector u must lie
      // in the span of the four returned (sin = |u - V V^T u|), to |E| / gap by Davis-Kahan, gap = lambda_5 - lambda_4.
      const gap = ref.values[4] - ref.values[3];
      for (let k = 0; k < 4; k++) {
        const u = Float64Array.from({ length: d }, (_, i) => ref.vectors[i * d + k]);
        const r = u.slice();
        for (let j = 0; j < 4; j++) {
          let c = 0;
          for (let i = 0; i < d; i++) c += g.vectors[i * d + j] * u[i];
          for (let i = 0; i < d; i++) r[i] -= c * g.vectors[i * d + j];
        }
        const sin = Math.hypot(...r);
        worstSpan = Math.max(worstSpan, (sin * gap) / frob);
        if (!(sin <= (kTolAngle * frob) / gap)) bad.push(`#${m}: float64 vector ${k} is ${sin.toExponential(2)} out of the span (gap ${gap.toFixed(3)})`);
      }
    });
    console.log(`[eigen wgsl] d=12, near null space of 4: max |dlambda| ${worstValue.toExponential(2)} |A|_F, span sin(angle) ${worstSpan.toExponential(2)} |A|_F / gap` +
      (bad.length ? `; failures (first 5): ${bad.slice(0, 5).join('; ')}` : ''));
    expect(worstValue).toBeLessThanOrEqual(kTolValue);
    expect(bad.length, bad.slice(0, 5).join('\n')).toBe(0);
  });

  it('rotation record overflow (kQlMaxRotations = 4): returns -1 and still writes the eigenvalues', async () => {
    const d = 12;
    const original = 'const kQlMaxRotations: u32 = 320u;';
    // Fails here, not silently later, if the constant is renamed or its value changed.
    expect(eigenWgsl.split(original).length - 1).toBe(1);
    const overflowSource = eigenWgsl.replace(original, 'const kQlMaxRotations: u32 = 4u;');
    const mats = randomSymmetric(d);
    // The control: the kernel as it is converges on these (every QL iteration but a split records at least
    // one rotation, so 5 or more iterations need more than 4).
    const normal = await eigenGpu(mats, d, 4);
    const overflow = await eigenGpu(mats, d, 4, overflowSource);
    const bad: string[] = [];
    let maxValue = 0;
    mats.forEach((a, k) => {
      const frob = frobenius(a);
      const ref = reference(a, d);
      if (!(normal[k].ret >= 5)) bad.push(`#${k}: unmodified kernel returned ${normal[k].ret}, not >= 5`);
      const g = overflow[k];
      if (g.ret !== -1) bad.push(`#${k}: returned ${g.ret}, not -1`);
      for (let i = 0; i < d; i++) {
        if (i + 1 < d && !(g.values[i] <= g.values[i + 1])) bad.push(`#${k}: values not ascending at ${i}`);
        const e = Math.abs(g.values[i] - ref.values[i]) / frob;
        maxValue = Math.max(maxValue, e);
        if (!(e <= kTolValue)) bad.push(`#${k}: value ${i}: ${g.values[i]} vs ${ref.values[i]} (${e.toExponential(2)} |A|_F)`);
      }
    });
    const its = normal.map((g) => g.ret);
    console.log(`[eigen wgsl] d=12, kQlMaxRotations = 4: ${overflow.filter((g) => g.ret === -1).length}/${mats.length} return -1 ` +
      `(unmodified: QL iterations ${Math.min(...its)}..${Math.max(...its)}); max |dlambda| ${maxValue.toExponential(2)} |A|_F` +
      (bad.length ? `; failures (first 5): ${bad.slice(0, 5).join('; ')}` : ''));
    expect(bad.length, bad.slice(0, 5).join('\n')).toBe(0);
  });

  // The finite matrix the non-finite cases are spoiled from: the first of randomSymmetric(d).
  const spoilt = (d: number, entries: [number, number][], v: number) => {
    const a = randomSymmetric(d)[0];
    for (const [i, j] of entries) {
      a[i * d + j] = v;
      a[j * d + i] = v;
    }
    return { what: `${v} at ${entries.map(([i, j]) => `(${i},${j})`).join(' ')}`, a };
  };

  /** Runs the spoilt matrices and the finite one beside them; returns what did not return -1. */
  async function nonFinite(label: string, cases: (d: number) => { what: string; a: Float32Array }[]): Promise<string[]> {
    const bad: string[] = [];
    const lines: string[] = [];
    for (const d of [12, 9]) {
      const cs = cases(d);
      const gpu = await eigenGpu([...cs.map((c) => c.a), randomSymmetric(d)[0]], d, 4);
      cs.forEach((c, k) => {
        const f64 = tridiagonalQlEigenSym(Float64Array.from(c.a), d, new Float64Array(d), new Float64Array(d * d), d);
        if (gpu[k].ret !== -1) bad.push(`d=${d}, ${c.what}: returned ${gpu[k].ret}`);
        if (f64 !== -1) bad.push(`d=${d}, ${c.what}: the float64 twin returned ${f64}`);
      });
      // One thread per matrix: the finite one must not notice its neighbours.
      if (!(gpu[cs.length].ret >= 0)) bad.push(`d=${d}: the finite matrix returned ${gpu[cs.length].ret}`);
      lines.push(`d=${d}: ${gpu.slice(0, cs.length).filter((g) => g.ret === -1).length}/${cs.length} return -1, the finite one ${gpu[cs.length].ret}`);
    }
    console.log(`[eigen wgsl] ${label}: ${lines.join('; ')}` + (bad.length ? `; not -1: ${bad.join('; ')}` : ''));
    return bad;
  }

  it('non-finite input (a NaN or infinite entry) returns -1, as the float64 twin does; a finite matrix beside it does not', async () => {
    // The subdiagonal of the first column, the diagonal (QL's first use of it), the trailing block (spread
    // by the first reflector), the last row (past every reflector), and infinities.
    const bad = await nonFinite('non-finite input', (d) => [
      spoilt(d, [[0, 0]], NaN),
      spoilt(d, [[1, 0]], NaN),
      spoilt(d, [[4, 4]], NaN),
      spoilt(d, [[2, 5]], NaN),
      spoilt(d, [[d - 1, d - 2]], NaN),
      spoilt(d, [[d - 1, d - 1]], NaN),
      spoilt(d, [[0, 3]], Infinity),
      spoilt(d, [[d - 1, d - 1]], -Infinity),
    ]);
    expect(bad).toEqual([]);
  });

  // A NaN in the first column below the subdiagonal, (i, 0) with i >= 2, makes the first reflector's norm NaN;
  // the guard for a column already reduced (`!(norm2 - x0 * x0 > 0)`) used to skip it, dropping the NaN and
  // returning the eigenvalues of another, finite matrix.
  it('a NaN at (i, 0), i >= 2, where the first reflector is formed, returns -1 too', async () => {
    const bad = await nonFinite('NaN at (i, 0), i >= 2', (d) => [
      spoilt(d, [[3, 0]], NaN),
      spoilt(d, [[d - 1, 0]], NaN),
    ]);
    expect(bad).toEqual([]);
  });
});
