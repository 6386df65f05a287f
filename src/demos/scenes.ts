/**
 * The synthetic worlds the three demos learn in: 3D structures, cameras looking at them, and their exact
 * float64 projections (the targets). Poses follow the project's convention: [rx, ry, rz, tx, ty, tz],
 * axis-angle, model to camera, Xc = R X + t; cameras are OpenCV's (x right, y down, z forward).
 */
import { Rng } from '../data/rng';
import { projectPoints as projectF64 } from '../solver/projection';
import { so3Log } from '../solver/so3';

/**
 * The demos' randomness for a seed: a generator started from the seed with a golden-ratio offset (which
 * keeps seed 0 from mulberry32's all-zero state), so a seed gives the same scene and initial parameters
 * on every backend: the cpu and webgpu runs of a demo start from identical numbers.
 */
export function demoRng(seed: number): Rng {
  return Rng.fromState(Math.trunc(seed) ^ 0x9e3779b9);
}

/** K [9] row-major from the four intrinsics (zero skew). */
export function intrinsicsMatrix(fx: number, fy: number, cx: number, cy: number): Float64Array {
  return Float64Array.of(fx, 0, cx, 0, fy, cy, 0, 0, 1);
}

/** The 8 corners of an axis-aligned cube of side `side` centred at the origin, [8,3]. */
export function cubeCorners(side: number): Float64Array {
  const h = side / 2;
  const out = new Float64Array(24);
  for (let i = 0; i < 8; i++) {
    out[3 * i] = i & 1 ? h : -h;
    out[3 * i + 1] = i & 2 ? h : -h;
    out[3 * i + 2] = i & 4 ? h : -h;
  }
  return out;
}

/**
 * n points along a trefoil knot of about `radius`, at seeded positions along the curve and jittered off
 * it by `jitter` of the radius: a shape one recognises at a glance in the 3D view, and one that is
 * far from planar, so every view's PnP is well posed. [n,3].
 */
export function trefoilPoints(n: number, radius: number, rng: Rng, jitter = 0.05): Float64Array {
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const u = (2 * Math.PI * (i + rng.uniform(0, 0.8))) / n;
    // The trefoil (sin u + 2 sin 2u, cos u - 2 cos 2u, -sin 3u) spans about 3 units.
    const x = Math.sin(u) + 2 * Math.sin(2 * u);
    const y = Math.cos(u) - 2 * Math.cos(2 * u);
    const z = -Math.sin(3 * u);
    out[3 * i] = (radius / 3) * x + jitter * radius * rng.normal();
    out[3 * i + 1] = (radius / 3) * y + jitter * radius * rng.normal();
    out[3 * i + 2] = (radius / 3) * z + jitter * radius * rng.normal();
  }
  return out;
}

/**
 * The pose [6] of a camera at `eye` (model frame) looking at `target`, its image's "up" as close to
 * `up` as the view direction allows. Rows of R are the camera axes in the model frame; t = -R eye.
 */
export function lookAtPose(eye: ArrayLike<number>, target: ArrayLike<number>, up: ArrayLike<number> = [0, 0, 1]): Float64Array {
  const z = [target[0] - eye[0], target[1] - eye[1], target[2] - eye[2]];
  const zn = Math.hypot(z[0], z[1], z[2]);
  z[0] /= zn; z[1] /= zn; z[2] /= zn;
  // x = down x z, so that y = z x x points down the image (OpenCV).
  const d = [-up[0], -up[1], -up[2]];
  let x = [d[1] * z[2] - d[2] * z[1], d[2] * z[0] - d[0] * z[2], d[0] * z[1] - d[1] * z[0]];
  let xn = Math.hypot(x[0], x[1], x[2]);
  if (xn < 1e-9) {
    // Looking along `up`: any image x axis will do.
    x = Math.abs(z[0]) < 0.9 ? [0, z[2], -z[1]] : [-z[2], 0, z[0]];
    xn = Math.hypot(x[0], x[1], x[2]);
  }
  x[0] /= xn; x[1] /= xn; x[2] /= xn;
  const y = [z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]];
  const R = Float64Array.of(x[0], x[1], x[2], y[0], y[1], y[2], z[0], z[1], z[2]);
  const pose = new Float64Array(6);
  so3Log(pose, R);
  for (let a = 0; a < 3; a++) pose[3 + a] = -(R[3 * a] * eye[0] + R[3 * a + 1] * eye[1] + R[3 * a + 2] * eye[2]);
  return pose;
}

/**
 * `count` cameras at `distance` from the origin looking at it, spread over the sphere by a Fibonacci
 * lattice (evenly, so the structure is seen from all sides) turned by a seeded angle and jittered.
 * [count,6].
 */
export function viewsAround(count: number, distance: number, rng: Rng): Float64Array {
  const poses = new Float64Array(6 * count);
  const turn = rng.uniform(0, 2 * Math.PI);
  const golden = Math.PI * (3 - Math.sqrt(5));
  for (let v = 0; v < count; v++) {
    const zc = 1 - (2 * (v + 0.5)) / count + rng.uniform(-0.1, 0.1) / count;
    const rc = Math.sqrt(Math.max(0, 1 - zc * zc));
    const phi = turn + golden * v;
    const eye = [distance * rc * Math.cos(phi), distance * rc * Math.sin(phi), distance * zc];
    // An up vector away from the view direction, so lookAt stays well conditioned at the poles.
    const up = Math.abs(zc) > 0.9 ? [1, 0, 0] : [0, 0, 1];
    poses.set(lookAtPose(eye, [0, 0, 0], up), 6 * v);
  }
  return poses;
}

/**
 * A camera at `distance` looking at the origin from a seeded direction within `maxTilt` rad of the -z
 * axis, rolled about its optical axis by a seeded angle within +-maxTilt. With no tilt and no roll this is
 * the identity rotation with t = (0, 0, distance), the natural first guess. [6]
 */
export function viewFrom(distance: number, maxTilt: number, rng: Rng): Float64Array {
  const tilt = maxTilt * Math.sqrt(rng.next());
  const azimuth = rng.uniform(0, 2 * Math.PI);
  const roll = rng.uniform(-maxTilt, maxTilt);
  const eye = [distance * Math.sin(tilt) * Math.cos(azimuth), distance * Math.sin(tilt) * Math.sin(azimuth), -distance * Math.cos(tilt)];
  // The image's up is model -y at zero roll (camera y down = model +y).
  return lookAtPose(eye, [0, 0, 0], [Math.sin(roll), -Math.cos(roll), 0]);
}

/** Exact float64 projections: out [B,n,2] px of pts3d [n,3] seen with poses [B,6] and one K [9]. */
export function projectExact(pts3d: Float64Array, poses: Float64Array, K: Float64Array): Float64Array {
  const n = pts3d.length / 3;
  const B = poses.length / 6;
  return projectF64(new Float64Array(2 * B * n), pts3d, poses, K, B, n, true, true);
}
