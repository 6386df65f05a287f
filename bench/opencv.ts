/**
 * OpenCV.js (the npm package @techstark/opencv-js, OpenCV 4.12 compiled to WebAssembly) as the outside
 * peer that PoseLab's PnP is checked against (tests/solver/opencv.test.ts) and timed against
 * (bench/pnp.ts). One problem per call, as the public BPnP code loops over cv2.solvePnP.
 */
import { createRequire } from 'node:module';

/** The few OpenCV.js members used here (the package's own typings do not cover the runtime object). */
export interface OpenCv {
  Mat: new () => CvMat;
  matFromArray(rows: number, cols: number, type: number, data: ArrayLike<number>): CvMat;
  solvePnP(obj: CvMat, img: CvMat, K: CvMat, dist: CvMat, rvec: CvMat, tvec: CvMat, useGuess: boolean, flags: number): boolean;
  CV_64F: number;
  SOLVEPNP_ITERATIVE: number;
  SOLVEPNP_SQPNP: number;
}

interface CvMat {
  data64F: Float64Array;
  delete(): void;
}

let loading: Promise<OpenCv> | null = null;

/**
 * Loads the WebAssembly runtime once. The module object is an Emscripten thenable that resolves to
 * itself, so it must never be awaited or returned from an async function: it is handed over only after
 * `then` is removed.
 */
export function loadOpenCv(): Promise<OpenCv> {
  loading ??= new Promise<OpenCv>((resolve, reject) => {
    const mod: OpenCv & { then?: unknown; onRuntimeInitialized?: () => void } = createRequire(import.meta.url)('@techstark/opencv-js');
    const done = () => {
      delete mod.then;
      resolve(mod);
    };
    if (typeof mod.Mat === 'function') done();
    else mod.onRuntimeInitialized = done;
    setTimeout(() => reject(new Error('OpenCV.js: the WebAssembly runtime did not initialise within 120 s')), 120_000).unref();
  });
  return loading;
}

export type OpenCvMethod = 'iterative' | 'sqpnp';

/** Scratch matrices reused across calls: allocation per problem would dominate the timing. */
interface Scratch {
  dist: CvMat;
  rvec: CvMat;
  tvec: CvMat;
}
const scratch = new WeakMap<OpenCv, Scratch>();

/**
 * cv.solvePnP on one problem: pts2d [n,2] px, pts3d [n,3], K [9] row-major, no distortion.
 * 'sqpnp' is SQPnP followed by OpenCV's own LM (SOLVEPNP_ITERATIVE from the SQPnP pose), because SQPnP
 * alone minimises an object-space error, not the reprojection error this project's optimum is of.
 * Returns the pose [rx, ry, rz, tx, ty, tz] or null where OpenCV reports failure or throws.
 */
export function solvePnpOpenCv(
  cv: OpenCv,
  method: OpenCvMethod,
  pts2d: ArrayLike<number>,
  pts3d: ArrayLike<number>,
  K: ArrayLike<number>,
  n: number,
): Float64Array | null {
  let s = scratch.get(cv);
  if (!s) {
    s = { dist: cv.matFromArray(1, 4, cv.CV_64F, [0, 0, 0, 0]), rvec: new cv.Mat(), tvec: new cv.Mat() };
    scratch.set(cv, s);
  }
  const img = cv.matFromArray(n, 2, cv.CV_64F, pts2d);
  const obj = cv.matFromArray(n, 3, cv.CV_64F, pts3d);
  const cam = cv.matFromArray(3, 3, cv.CV_64F, K);
  try {
    let ok: boolean;
    if (method === 'iterative') ok = cv.solvePnP(obj, img, cam, s.dist, s.rvec, s.tvec, false, cv.SOLVEPNP_ITERATIVE);
    else {
      ok = cv.solvePnP(obj, img, cam, s.dist, s.rvec, s.tvec, false, cv.SOLVEPNP_SQPNP);
      if (ok) ok = cv.solvePnP(obj, img, cam, s.dist, s.rvec, s.tvec, true, cv.SOLVEPNP_ITERATIVE);
    }
    if (!ok) return null;
    const pose = new Float64Array(6);
    pose.set(s.rvec.data64F.subarray(0, 3), 0);
    pose.set(s.tvec.data64F.subarray(0, 3), 3);
    return pose.every(Number.isFinite) ? pose : null;
  } catch {
    // OpenCV.js throws a bare number (a pointer to a cv::Exception) on bad input, e.g. too few points.
    return null;
  } finally {
    img.delete();
    obj.delete();
    cam.delete();
  }
}
