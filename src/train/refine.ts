/**
 * Crop refinement. The localiser's box is coarse (centre and size off by several percent of the box), and
 * the keypoint network reads a crop best when it is cut as its training crops were, around the object's
 * own projected box. So a first pose, solved from the crop around the localiser's box, is projected to
 * place a second crop, and the keypoint network runs once more on it: the test-time zoom-in of CDPN (Li,
 * Wang, Ji, ICCV 2019) with the pose itself as the box. On the bundled test images it lifted ADD-0.1d by 4 to
 * 12 points in three of four runs and left the fourth even; a third pass added nothing (README, "Training").
 */
import { PnpStatus } from '../solver/status';
import { pointsBox } from '../data/samples';

/**
 * [x, y, w, h] image px: the box of outlineMm [e, 3] (model frame, mm) projected with R [9] row-major and
 * tMm [3] (model to camera) through kPx [9]; undefined when that pose cannot place a crop: not a
 * converged solve (status, PnpStatus), a point at or behind the camera, or a box that is not finite
 * with a positive side.
 */
export function refinedBoxPx(outlineMm: Float64Array, pose: { status: number; R: ArrayLike<number>; tMm: ArrayLike<number> },
  kPx: ArrayLike<number>): Float64Array | undefined {
  if (pose.status !== PnpStatus.Converged) return undefined;
  const { R, tMm } = pose;
  for (let i = 0; i < outlineMm.length; i += 3) {
    const z = R[6] * outlineMm[i] + R[7] * outlineMm[i + 1] + R[8] * outlineMm[i + 2] + tMm[2];
    if (!(z > 0)) return undefined;
  }
  const box = Float64Array.from(pointsBox(outlineMm, R, tMm, kPx));
  return box.every(Number.isFinite) && box[2] > 0 && box[3] > 0 ? box : undefined;
}
