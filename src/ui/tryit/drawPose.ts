/**
 * One Try-it frame composed on a 2D canvas: the frame, the object's mesh, 3D box and axes at the
 * estimated pose drawn by three.js through the frame's K (the shared overlay, src/ui/three/overlay.ts),
 * then the localiser's box and the network's keypoints in 2D, as the worker found them.
 */
import type { TryPose } from '../../worker/protocol';
import { engine } from '../workerClient';
import { sharedOverlay } from '../three/overlay';

export const kEstimateColour = '#ff9f1c';
const kShow = { mesh: 'translucent', bbox: true, axes: true, keypoints: false } as const;

/**
 * Draws bitmap and, when there is one, its pose; the canvas takes the frame's size. Resolves when the
 * canvas holds the composition (the overlay is rendered off the canvas first, so no half-drawn frame shows).
 */
export async function drawPose(canvas: HTMLCanvasElement, bitmap: ImageBitmap, kPx: ArrayLike<number> | undefined, pose: TryPose | undefined, objId: number | undefined): Promise<void> {
  const W = bitmap.width, H = bitmap.height;
  let overlay: ImageBitmap | undefined;
  if (pose && kPx && objId !== undefined && pose.detected) {
    const ov = sharedOverlay();
    // Objects without a mesh in the loaded dataset (a bundle for another dataset) get the 2D drawing only.
    if (await ov.ensureGeometry(objId, (id) => engine().objectGeometry(id))) {
      overlay = await ov.snapshot({
        kPx, widthPx: W, heightPx: H, outWidth: W, outHeight: H,
        poses: [{ objId, R: pose.R, tMm: pose.tMm, colour: kEstimateColour }], show: kShow,
      });
    }
  }
  if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
  const ctx = canvas.getContext('2d')!;
  ctx.drawImage(bitmap, 0, 0);
  if (overlay) { ctx.drawImage(overlay, 0, 0); overlay.close(); }
  if (!pose) return;
  const lw = Math.max(1.5, W / 320);
  const [x, y, w, h] = pose.boxPx;
  ctx.lineWidth = lw;
  // A miss (score below the threshold) keeps its box, dashed, so one sees where the localiser looked.
  ctx.setLineDash(pose.detected ? [] : [6 * lw, 4 * lw]);
  ctx.strokeStyle = '#4cc9f0';
  ctx.strokeRect(x, y, w, h);
  ctx.setLineDash([]);
  if (pose.detected) {
    ctx.fillStyle = '#fff3b0';
    ctx.strokeStyle = '#000';
    for (let i = 0; i < pose.keypointsPx.length / 2; i++) {
      ctx.beginPath();
      ctx.arc(pose.keypointsPx[2 * i], pose.keypointsPx[2 * i + 1], 1.6 * lw, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
  }
  const label = `${pose.detected ? '' : 'miss · '}score ${pose.score.toFixed(2)}`;
  ctx.font = `${Math.round(7 * lw)}px ui-monospace, monospace`;
  const ty = y > 10 * lw ? y - 3 * lw : y + h + 8 * lw;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.6)';
  ctx.fillRect(x, ty - 7 * lw, ctx.measureText(label).width + 4 * lw, 9 * lw);
  ctx.fillStyle = '#4cc9f0';
  ctx.fillText(label, x + 2 * lw, ty);
}
