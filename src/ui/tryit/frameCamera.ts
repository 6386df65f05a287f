/**
 * Each Try-it frame's K from the chosen preset, at the frame's own size (photos of several sizes,
 * webcams that pick their resolution): the dataset's camera scaled to it, a typical phone's or laptop
 * webcam's field of view, the slider's, or a dropped camera.json.
 */
import { cameraMismatch, kFromHorizontalFov, scaleK } from '../../data/camera';
import type { TryItStatus } from '../../worker/protocol';
import type { TryCamera } from '../state/tryItSlice';

/** Horizontal fields of view, degrees: a phone's main camera (about 26 mm equivalent) and a laptop webcam. */
export const kPhoneHfovDeg = 70;
export const kLaptopHfovDeg = 60;

export type FrameK = { ok: true; kPx: number[]; source: string } | { ok: false; reason: string };

export function frameK(c: TryCamera, status: TryItStatus | undefined, widthPx: number, heightPx: number): FrameK {
  switch (c.preset) {
    case 'dataset': {
      const d = status?.datasetCamera;
      if (!d) return { ok: false, reason: 'no dataset is loaded to take a camera from: pick another camera' };
      const same = d.widthPx === widthPx && d.heightPx === heightPx;
      return {
        ok: true, kPx: same ? d.kPx.slice() : scaleK(d.kPx, d.widthPx, d.heightPx, widthPx, heightPx),
        source: same ? "the dataset's camera" : `the dataset's camera (${d.widthPx}x${d.heightPx}) scaled to ${widthPx}x${heightPx}`,
      };
    }
    case 'phone':
      return { ok: true, kPx: kFromHorizontalFov(widthPx, heightPx, kPhoneHfovDeg), source: `a typical phone camera (${kPhoneHfovDeg}° across)` };
    case 'laptop':
      return { ok: true, kPx: kFromHorizontalFov(widthPx, heightPx, kLaptopHfovDeg), source: `a typical laptop webcam (${kLaptopHfovDeg}° across)` };
    case 'fov':
      return { ok: true, kPx: kFromHorizontalFov(widthPx, heightPx, c.fovDeg), source: `${c.fovDeg}° across` };
    case 'file': {
      const f = c.file;
      if (!f) return { ok: false, reason: 'no camera.json is loaded: drop one, or pick another camera' };
      const why = cameraMismatch(f, widthPx, heightPx);
      return why ? { ok: false, reason: why } : { ok: true, kPx: f.kPx.slice(), source: f.source };
    }
  }
}
