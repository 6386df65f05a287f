/**
 * OpenCV cameras in three.js. A pose is model-to-camera in OpenCV's frame (x right, y down, z forward,
 * X_cam = R X + t, mm); three.js cameras look down -z with y up. So the camera stays at the origin,
 * the object's matrix is F [R t; 0 1] with F = diag(1, -1, -1), and the projection matrix is built
 * from K so that a point lands on the pixel K says, pixel centres at integer coordinates (pixel edges
 * at -0.5 and W - 0.5, as in src/data/crop.ts).
 *
 * Derivation (OpenGL clip space, w_clip = -z_gl = z_cv):
 *   x_ndc = 2 (u + 0.5) / W - 1 with u = (fx x + s y) / z + cx, and (x, y, z)_cv = (x, -y, -z)_gl
 *   => row 0 = [2 fx / W, -2 s / W, 1 - 2 (cx + 0.5) / W, 0]
 *   y_ndc = 1 - 2 (v + 0.5) / H with v = fy y / z + cy
 *   => row 1 = [0, 2 fy / H, 2 (cy + 0.5) / H - 1, 0]
 *   rows 2, 3: the usual perspective depth for near, far (mm).
 */
import { Matrix4 } from 'three';

/** Row-major K [9] px, image W x H px -> three.js projection matrix (written into out). */
export function projectionFromK(kPx: ArrayLike<number>, widthPx: number, heightPx: number, nearMm: number, farMm: number, out = new Matrix4()): Matrix4 {
  const [fx, s, cx, , fy, cy] = [kPx[0], kPx[1], kPx[2], kPx[3], kPx[4], kPx[5]];
  const a = -(farMm + nearMm) / (farMm - nearMm);
  const b = (-2 * farMm * nearMm) / (farMm - nearMm);
  return out.set(
    (2 * fx) / widthPx, (-2 * s) / widthPx, 1 - (2 * (cx + 0.5)) / widthPx, 0,
    0, (2 * fy) / heightPx, (2 * (cy + 0.5)) / heightPx - 1, 0,
    0, 0, a, b,
    0, 0, -1, 0,
  );
}

/** Row-major R [9] and t [3] mm (model to OpenCV camera) -> the object's three.js matrix F [R t]. */
export function poseMatrix(R: ArrayLike<number>, tMm: ArrayLike<number>, out = new Matrix4()): Matrix4 {
  return out.set(
    R[0], R[1], R[2], tMm[0],
    -R[3], -R[4], -R[5], -tMm[1],
    -R[6], -R[7], -R[8], -tMm[2],
    0, 0, 0, 1,
  );
}
