/**
 * The WGSL EPnP twin (src/kernels/epnp.wgsl, f32, one thread per problem, on real WebGPU: Dawn on
 * SwiftShader) against the float64 epnpInit (src/solver/epnp.ts) on the same LINEMOD-like problems.
 */
import { describe, expect, it } from 'vitest';
import { epnpInit } from '../../src/solver/epnp';
import { pointSpread } from '../../src/solver/epnpControlPoints';
import { createLmResult } from '../../src/solver/lm';
import { refineMultiStart } from '../../src/solver/multiStart';
import { kLinemodK, makeEpnpProblem, makeRng, relativeError, rotationAngle, type EpnpProblem } from '../helpers/epnpProblems';
import { kEpnpWgsl } from '../../src/kernels/epnpWgsl';
import { epnpInitGpu } from './epnpGpu';
import { harnessDevice } from './harness';

const kSizes = [4, 5, 6, 8, 9, 32, 256];

function summarise(label: string, problems: EpnpProblem[], gpu: { R: Float64Array; t: Float64Array; ok: boolean }[], tolR: number, tolT: number) {
  let agree = 0;
  const rest: string[] = [];
  let gtGood = 0;
  for (let k = 0; k < problems.length; k++) {
    const p = problems[k];
    const ref = epnpInit(p.xn, p.m, null, p.n);
    const g = gpu[k];
    const eR = rotationAngle(g.R, ref.R);
    const eT = relativeError(g.t, ref.t);
    if (g.ok && ref.ok && eR < tolR && eT < tolT) agree++;
    else rest.push(`#${k}: ok ${g.ok}/${ref.ok}, rot ${eR.toExponential(2)} rad, t ${eT.toExponential(2)}, gpu vs truth rot ${rotationAngle(g.R, p.rGt).toExponential(2)}`);
    if (g.ok && rotationAngle(g.R, p.rGt) < tolR && relativeError(g.t, p.tnGt) < tolT) gtGood++;
  }
  console.log(`[epnp wgsl] ${label}: agrees with f64 on ${agree}/${problems.length}, within tolerance of the truth ${gtGood}/${problems.length}` +
    (rest.length ? `; the rest (first 5): ${rest.slice(0, 5).join('; ')}` : ''));
  return { agree, rest };
}

describe('epnp.wgsl on WebGPU against the float64 epnpInit', () => {
  it('finds a WebGPU adapter (fails loudly, never skips)', async () => {
    const device = await harnessDevice();
    expect(device).toBeTruthy();
  });

  for (const planar of [false, true]) {
    for (const n of kSizes.filter((k) => k >= 5)) {
      it(`${planar ? 'planar' : 'general'} n=${n}, noise-free: R within 1e-3 rad, tn within 1e-3 relative on >= 99% of 500`, async () => {
        const rng = makeRng(31 * n + (planar ? 1 : 0));
        const problems = Array.from({ length: 500 }, () => makeEpnpProblem(rng, n, planar, 0));
        const gpu = await epnpInitGpu(problems.map((p) => ({ n, xn: p.xn, m: p.m, w: null })));
        const { agree } = summarise(`${planar ? 'planar' : 'general'} n=${n} noise-free`, problems, gpu, 1e-3, 1e-3);
        expect(agree / problems.length).toBeGreaterThanOrEqual(0.99);
      });
    }
    // At n = 4 the raw f32 EPnP pose is not held to 1e-3 of the f64 one: with four points EPnP's linear
    // systems are at their least determined and f32 loses about two digits to cancellation at large
    // depth / object radius (about 92% of general and 97% of planar problems agree to 1e-3; the rest are
    // 1e-3 to 1e-2 rad off, a few further). What the layer needs from EPnP is a start in the basin of the
    // optimum: the WGSL EPnP pose, refined in float64 by the forward's LM with its multi-start
    // (refineMultiStart), must reach the float64 optimum (the same refinement from the f64 EPnP pose).
    it(`${planar ? 'planar' : 'general'} n=4, noise-free: LM (with the multi-start) from the WGSL EPnP pose reaches the float64 optimum (1e-6 rad, 1e-6 relative) on >= 99% of 500`, async () => {
      const n = 4;
      const rng = makeRng(31 * n + (planar ? 1 : 0));
      const problems = Array.from({ length: 500 }, () => makeEpnpProblem(rng, n, planar, 0));
      const gpu = await epnpInitGpu(problems.map((p) => ({ n, xn: p.xn, m: p.m, w: null })));
      summarise(`${planar ? 'planar' : 'general'} n=4 noise-free (raw EPnP, not asserted)`, problems, gpu, 1e-3, 1e-3);
      const fromGpu = createLmResult(), fromF64 = createLmResult();
      let agree = 0;
      const rest: string[] = [];
      for (let k = 0; k < problems.length; k++) {
        const p = problems[k];
        const ref = epnpInit(p.xn, p.m, null, n);
        if (!gpu[k].ok || !ref.ok) {
          rest.push(`#${k}: ok ${gpu[k].ok}/${ref.ok}`);
          continue;
        }
        refineMultiStart(fromGpu, { xn: p.xn, pts2d: p.pts2dPx, K: kLinemodK, w: null, n }, gpu[k].R, gpu[k].t);
        refineMultiStart(fromF64, { xn: p.xn, pts2d: p.pts2dPx, K: kLinemodK, w: null, n }, ref.R, ref.t);
        const eR = rotationAngle(fromGpu.R, fromF64.R), eT = relativeError(fromGpu.tn, fromF64.tn);
        if (eR < 1e-6 && eT < 1e-6) agree++;
        else rest.push(`#${k}: rot ${eR.toExponential(2)} rad, t ${eT.toExponential(2)}, cost ${fromGpu.cost.toExponential(2)} vs ${fromF64.cost.toExponential(2)} px^2`);
      }
      console.log(`[epnp wgsl] ${planar ? 'planar' : 'general'} n=4 noise-free: LM from the WGSL EPnP reaches the f64 optimum on ${agree}/${problems.length}` +
        (rest.length ? `; the rest (first 5): ${rest.slice(0, 5).join('; ')}` : ''));
      expect(agree / problems.length).toBeGreaterThanOrEqual(0.99);
    });
  }

  it('where mtm_null_space4 gives up, Jacobi takes the 12x12 M^T M: general n=8 noise-free agrees with f64 on >= 99% of 500', async () => {
    // The fallback forced: the 4x4 route runs (and writes its columns), then its result is refused.
    const call = '!mtm_null_space4(mom, &vecs)';
    expect(kEpnpWgsl.split(call).length - 1, 'the call the test forces to fail').toBe(1);
    const forced = kEpnpWgsl.replace(call, `(${call} || true)`);
    const n = 8;
    const rng = makeRng(31 * n);
    const problems = Array.from({ length: 500 }, () => makeEpnpProblem(rng, n, false, 0));
    const gpu = await epnpInitGpu(problems.map((p) => ({ n, xn: p.xn, m: p.m, w: null })), forced);
    const { agree } = summarise('general n=8 noise-free, mtm_null_space4 refused (Jacobi fallback)', problems, gpu, 1e-3, 1e-3);
    expect(agree / problems.length).toBeGreaterThanOrEqual(0.99);
  });

  it('mtm_null_space4 alone (its Jacobi fallback removed): general n=6, 8, 32 noise-free agree with f64 on >= 99% of 500 each', async () => {
    // Without the fallback a refused or wrong 4x4 route shows: the kernel suite must see the route itself work.
    const call = '!mtm_null_space4(mom, &vecs)';
    expect(kEpnpWgsl.split(call).length - 1, 'the call the test isolates').toBe(1);
    const alone = kEpnpWgsl.replace(call, `(${call} && !use_null_space4)`);
    for (const n of [6, 8, 32]) {
      const rng = makeRng(31 * n + 7);
      const problems = Array.from({ length: 500 }, () => makeEpnpProblem(rng, n, false, 0));
      const gpu = await epnpInitGpu(problems.map((p) => ({ n, xn: p.xn, m: p.m, w: null })), alone);
      const { agree } = summarise(`general n=${n} noise-free, mtm_null_space4 alone`, problems, gpu, 1e-3, 1e-3);
      expect(agree / problems.length).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('where QCP gives up (a double top eigenvalue), Jacobi gives the quaternion: general and planar n=8 noise-free agree with f64 on >= 99% of 500 each', async () => {
    // The fallback forced: QCP's answer is refused as if it had reported no unique top eigenvector.
    const call = 'if (!top.ok) {';
    expect(kEpnpWgsl.split(call).length - 1, 'the branch the test forces').toBe(1);
    const forced = kEpnpWgsl.replace(call, 'if (!top.ok || true) {');
    for (const planar of [false, true]) {
      const rng = makeRng(31 * 8 + 5 + (planar ? 1 : 0));
      const problems = Array.from({ length: 500 }, () => makeEpnpProblem(rng, 8, planar, 0));
      const gpu = await epnpInitGpu(problems.map((p) => ({ n: 8, xn: p.xn, m: p.m, w: null })), forced);
      const { agree } = summarise(`${planar ? 'planar' : 'general'} n=8 noise-free, QCP refused (Jacobi fallback)`, problems, gpu, 1e-3, 1e-3);
      expect(agree / problems.length).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('nearly planar points (both the planar and the general solve run, the better kept): agree with f64 within 1e-4 on >= 99% of 300', async () => {
    // Thickness ratios (smallest over largest variance) of 1.5e-5 to 7e-5: inside both twins' band between
    // kEpnpNearPlanarRatio (1e-5 here, 1e-7 in float64) and kEpnpPlanarRatio (1e-4), away from its ends.
    // Measured: 300/300 agree (292/300 when f32 took the general null space from the 12x12 by QL); the
    // planar solve alone (the general one skipped in the band) 211/300, its pose off by the points' thickness.
    const rng = makeRng(4242);
    const problems: EpnpProblem[] = [];
    const c = new Float64Array(3), vars = new Float64Array(3), axes = new Float64Array(9);
    for (const n of [8, 32]) {
      let kept = 0;
      while (kept < 150) {
        const p = makeEpnpProblem(rng, n, true, 0, 0.0055);
        pointSpread(p.xn, null, n, c, vars, axes);
        const ratio = vars[0] / vars[2];
        if (ratio < 1.5e-5 || ratio > 7e-5) continue;
        problems.push(p);
        kept++;
      }
    }
    const gpu = await epnpInitGpu(problems.map((p) => ({ n: p.n, xn: p.xn, m: p.m, w: null })));
    const { agree } = summarise('nearly planar n=8 and 32 noise-free', problems, gpu, 1e-4, 1e-4);
    expect(agree / problems.length).toBeGreaterThanOrEqual(0.99);
  });

  it('2 px noise, general n=32: agrees with f64 within 1e-2 rad on >= 95% of 500', async () => {
    const rng = makeRng(77);
    const problems = Array.from({ length: 500 }, () => makeEpnpProblem(rng, 32, false, 2));
    const gpu = await epnpInitGpu(problems.map((p) => ({ n: 32, xn: p.xn, m: p.m, w: null })));
    const { agree } = summarise('general n=32, 2 px', problems, gpu, 1e-2, 1e-2);
    expect(agree / problems.length).toBeGreaterThanOrEqual(0.95);
  });

  it('weights: w = 0 points are ignored, and weighted problems match the float64 twin', async () => {
    const rng = makeRng(78);
    const problems: { n: number; xn: Float64Array; m: Float64Array; w: Float64Array }[] = [];
    const refs: ReturnType<typeof epnpInit>[] = [];
    for (let k = 0; k < 100; k++) {
      const p = makeEpnpProblem(rng, 20, k % 2 === 1, 1);
      const w = Float64Array.from({ length: 20 }, () => 0.2 + rng());
      w[3] = 0;
      p.m[6] += 0.3; // the ignored point is wrong
      problems.push({ n: 20, xn: p.xn, m: p.m, w });
      refs.push(epnpInit(p.xn, p.m, w, 20));
    }
    const gpu = await epnpInitGpu(problems);
    let agree = 0;
    for (let k = 0; k < problems.length; k++) {
      if (gpu[k].ok && rotationAngle(gpu[k].R, refs[k].R) < 1e-2 && relativeError(gpu[k].t, refs[k].t) < 1e-2) agree++;
    }
    console.log(`[epnp wgsl] weighted, 1 px: agrees with f64 on ${agree}/100`);
    expect(agree).toBeGreaterThanOrEqual(97);
  });

  it('degenerate problems give ok = false and a finite pose', async () => {
    const n = 6;
    const line = new Float64Array(3 * n);
    for (let i = 0; i < n; i++) line.set([i - 2.5, 2 * (i - 2.5), 0], 3 * i);
    const m = new Float64Array(2 * n).fill(0.1);
    const gpu = await epnpInitGpu([
      { n, xn: line, m, w: null },
      { n, xn: new Float64Array(3 * n), m, w: null },
      { n, xn: line.map((v, i) => v + (i % 3) * 0.7 + (i % 5)), m, w: new Float64Array(n) },
    ]);
    for (const g of gpu) {
      expect(g.ok).toBe(false);
      expect([...g.R, ...g.t].every(Number.isFinite)).toBe(true);
    }
  });
});
