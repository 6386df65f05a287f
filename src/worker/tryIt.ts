/**
 * The worker's side of the Try-it view: runs the engine being trained, or a bundle imported for the
 * view, on frames the page sends (photos, webcam), through the one prediction path of
 * src/train/predict.ts. Frames arrive as transferred ImageBitmaps and are read back to RGBA here, so the
 * page's main thread never decodes or resamples.
 */
import type { Dataset } from '../data/dataset';
import type { RgbaImage } from '../data/image';
import { importBundle as readBundle, type LoadedBundle } from '../train/bundle';
import type { TrainingEngine } from '../train/engine';
import { detectionsJson, posesJsonText, statusName, type PosesJson } from '../train/posesJson';
import { bundlePredictor, enginePredictor, predictImages, type Predictor } from '../train/predict';
import { refuseNetworksOfAnotherSave, unzipWholeSave } from './bundleHost';
import type { TryFrame, TryItStatus, TryModelSource, TryResult } from './protocol';

export class TryIt {
  private bundle?: LoadedBundle;
  /** Predictions run one after another: a bundle swapped mid-prediction is disposed only after. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly engine: () => TrainingEngine | undefined, private readonly dataset: () => Dataset | undefined) {}

  status(source: TryModelSource): TryItStatus {
    const ds = this.dataset();
    const first = ds?.images[0];
    const b = this.bundle;
    const out: TryItStatus = {
      source, ready: false, hasMesh: false,
      bundle: b && { obj_id: b.meta.class.id, name: b.meta.class.name, step: b.meta.step, hasLocaliser: !!b.localiser },
      datasetCamera: first && { kPx: Array.from(first.kPx), widthPx: first.widthPx, heightPx: first.heightPx },
    };
    const p = this.predictor(source);
    if (typeof p === 'string') return { ...out, notice: p };
    return { ...out, ready: true, model: { obj_id: p.object.id, name: p.object.name, step: p.step }, hasMesh: !!ds?.objects.find((o) => o.id === p.object.id)?.mesh };
  }

  /** Throws, saying why, for a bundle that cannot be read, is a zip of a save cut among its renames (unzipWholeSave), or whose networks are of another save (refuseNetworksOfAnotherSave). */
  async importBundle(bytes: Uint8Array): Promise<TryItStatus> {
    const b = await readBundle(unzipWholeSave(bytes));
    try {
      refuseNetworksOfAnotherSave(b);
    } catch (e) {
      // The bundle tried before stays.
      b.model.dispose();
      b.localiser?.dispose();
      throw e;
    }
    const old = this.bundle;
    this.bundle = b;
    // A prediction in flight with the old bundle finishes before its weights go.
    void this.queue.then(() => { old?.model.dispose(); old?.localiser?.dispose(); });
    return this.status('bundle');
  }

  predictFrames(frames: TryFrame[], source: TryModelSource): Promise<TryResult> {
    const run = this.queue.then(() => this.predictNow(frames, source));
    this.queue = run.catch(() => undefined);
    return run;
  }

  posesJson(doc: PosesJson): string {
    return posesJsonText(doc);
  }

  private async predictNow(frames: TryFrame[], source: TryModelSource): Promise<TryResult> {
    try {
      const p = this.predictor(source);
      if (typeof p === 'string') throw new Error(p);
      const images = frames.map((f) => rgbaOf(f.bitmap));
      const t0 = performance.now();
      const poses = await predictImages(p, images.map((image, i) => ({ image, kPx: frames[i].kPx })));
      const msPerFrame = (performance.now() - t0) / Math.max(1, frames.length);
      return {
        model: { obj_id: p.object.id, name: p.object.name, step: p.step },
        msPerFrame,
        poses: poses.map((q, i) => ({
          widthPx: images[i].widthPx, heightPx: images[i].heightPx, score: q.detection.score, detected: q.detected,
          boxPx: Array.from(q.detection.boxPx), keypointsPx: Array.from(q.keypointsImagePx), R: Array.from(q.prediction.R),
          tMm: Array.from(q.prediction.tMm), status: statusName(q.prediction.status), detections: detectionsJson(q, p.object.id),
        })),
      };
    } finally {
      for (const f of frames) f.bitmap.close();
    }
  }

  /** The chosen model as a Predictor, or why there is none, in words. */
  private predictor(source: TryModelSource): Predictor | string {
    if (source === 'bundle') {
      if (!this.bundle) return 'No bundle is imported: import one (a PoseLab bundle .zip), or try the model being trained.';
      if (!this.bundle.localiser) {
        return 'This bundle has no localiser (its run trained none), so it cannot find the object in a whole photo. Train a run with one and export it.';
      }
      return bundlePredictor(this.bundle);
    }
    const e = this.engine();
    if (!e) return 'Nothing is trained yet: start a run on the Train tab (or import a bundle here), then try it.';
    return enginePredictor(e);
  }
}

/** An ImageBitmap's pixels, RGBA8 top row first (drawn on an OffscreenCanvas: the worker has no DOM). */
function rgbaOf(bitmap: ImageBitmap): RgbaImage {
  const c = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('this browser gives workers no 2D canvas to read a frame with');
  ctx.drawImage(bitmap, 0, 0);
  const d = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
  return { widthPx: bitmap.width, heightPx: bitmap.height, rgba: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) };
}
