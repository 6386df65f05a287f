import { useEffect, useRef, useState } from 'react';
import type { ImageView } from '../../worker/protocol';
import { engine, message } from '../workerClient';
import { useApp } from '../state/store';
import type { MeshStyle } from '../state/datasetSlice';
import { sharedOverlay } from '../three/overlay';
import { useFrame } from '../useFrame';

/** GT colours by object id. */
export const kObjectColours = ['#3ddc97', '#4cc9f0', '#f7b801', '#f72585', '#b388ff'];
export const objectColour = (objId: number) => kObjectColours[objId % kObjectColours.length];

interface Loaded {
  view: ImageView;
  bitmap: ImageBitmap;
  mask?: HTMLCanvasElement;
}

/**
 * Browse the dataset's images with the ground truth drawn by three.js through each image's own K:
 * mesh (translucent or wireframe), 3D box, axes, keypoints, and the visible masks. The canvas is
 * composed in the frame loop when something changed (a dirty flag), not on React renders.
 */
export function DatasetView() {
  const dataset = useApp((s) => s.dataset);
  const index = useApp((s) => s.selectedImage);
  const overlay = useApp((s) => s.overlay);
  const selectImage = useApp((s) => s.selectImage);
  const setOverlay = useApp((s) => s.setOverlay);
  const canvas = useRef<HTMLCanvasElement>(null);
  const loaded = useRef<Loaded | undefined>(undefined);
  const dirty = useRef(true);
  const drawing = useRef(false);
  /** Object ids the dataset has no entry for: drawn without an overlay. */
  const unknown = useRef(new Set<number>());
  const [error, setError] = useState<string>();
  const [info, setInfo] = useState<ImageView>();

  useEffect(() => {
    if (!dataset || dataset.images === 0) return;
    let cancelled = false;
    (async () => {
      const view = await engine().image(index);
      const bitmap = await createImageBitmap(new Blob([view.rgbBytes as Uint8Array<ArrayBuffer>], { type: view.rgbMime }));
      let mask: HTMLCanvasElement | undefined;
      if (view.maskRgba) {
        mask = document.createElement('canvas');
        mask.width = view.widthPx;
        mask.height = view.heightPx;
        mask.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(view.maskRgba), view.widthPx, view.heightPx), 0, 0);
      }
      if (cancelled) { bitmap.close(); return; }
      loaded.current?.bitmap.close();
      loaded.current = { view, bitmap, mask };
      dirty.current = true;
      setInfo(view);
      setError(undefined);
    })().catch((e: unknown) => !cancelled && setError(message(e)));
    return () => { cancelled = true; };
  }, [dataset, index]);

  useEffect(() => { dirty.current = true; }, [overlay]);

  useFrame(() => {
    const l = loaded.current;
    const c = canvas.current;
    if (!dirty.current || drawing.current || !l || !c) return;
    const { view } = l;
    // Geometry comes from the worker once per object (and again after the overlay forgets it).
    const ov = sharedOverlay();
    const missing = [...new Set(view.instances.map((i) => i.objId))].filter((id) => !ov.hasGeometry(id) && !unknown.current.has(id));
    drawing.current = true;
    if (missing.length > 0) {
      void Promise.all(missing.map(async (id) => {
        if (!(await ov.ensureGeometry(id, (objId) => engine().objectGeometry(objId)))) unknown.current.add(id);
      })).catch((e: unknown) => setError(message(e))).finally(() => { drawing.current = false; });
      return;
    }
    dirty.current = false;
    const o = useApp.getState().overlay;
    const wantOverlay = o.mesh !== 'off' || o.bbox || o.axes || o.keypoints;
    const rendered = wantOverlay
      ? ov.snapshot({
        kPx: view.kPx, widthPx: view.widthPx, heightPx: view.heightPx, outWidth: view.widthPx, outHeight: view.heightPx,
        poses: view.instances.map((i) => ({ objId: i.objId, R: i.rM2c, tMm: i.tM2cMm, colour: objectColour(i.objId) })),
        show: o,
      })
      : Promise.resolve(undefined);
    void rendered.then((bitmap) => {
      if (c.width !== view.widthPx || c.height !== view.heightPx) { c.width = view.widthPx; c.height = view.heightPx; }
      const ctx = c.getContext('2d')!;
      ctx.drawImage(l.bitmap, 0, 0);
      if (o.masks && l.mask) ctx.drawImage(l.mask, 0, 0);
      if (bitmap) { ctx.drawImage(bitmap, 0, 0); bitmap.close(); }
      c.dataset.ready = `${view.key}|${JSON.stringify(o)}`;
    }).finally(() => { drawing.current = false; });
  });

  if (!dataset) return null;
  if (dataset.images === 0) return <section className="card muted">This dataset has no images to show.</section>;
  const n = dataset.images;
  return (
    <section className="card" data-testid="dataset-view">
      <div className="row spread wrap gap">
        <div className="row gap">
          <button type="button" onClick={() => selectImage(index - 1)} aria-label="previous image">◀</button>
          <input type="range" min={0} max={n - 1} value={index} onChange={(e) => selectImage(Number(e.target.value))} className="slider" aria-label="image" />
          <button type="button" onClick={() => selectImage(index + 1)} aria-label="next image">▶</button>
          <span className="mono small" data-testid="image-key">{index + 1} / {n} · {dataset.imageKeys[index]}</span>
        </div>
        <div className="row gap toggles">
          <label>mesh{' '}
            <select value={overlay.mesh} onChange={(e) => setOverlay({ mesh: e.target.value as MeshStyle })} data-testid="mesh-style">
              <option value="translucent">translucent</option>
              <option value="wireframe">wireframe</option>
              <option value="off">off</option>
            </select>
          </label>
          {(['bbox', 'axes', 'keypoints', 'masks'] as const).map((k) => (
            <label key={k}><input type="checkbox" checked={overlay[k]} onChange={(e) => setOverlay({ [k]: e.target.checked })} data-testid={`toggle-${k}`} /> {k === 'bbox' ? '3D box' : k}</label>
          ))}
        </div>
      </div>
      <div className="image-stage">
        <canvas ref={canvas} data-testid="image-canvas" data-boxes={JSON.stringify(info?.instances.map((i) => i.bboxPx) ?? [])} />
      </div>
      {error && <p className="error-text">{error}</p>}
      {info && (
        <p className="muted small mono">
          {info.widthPx}×{info.heightPx} px · fx {info.kPx[0].toFixed(1)} fy {info.kPx[4].toFixed(1)} cx {info.kPx[2].toFixed(1)} cy {info.kPx[5].toFixed(1)} ·{' '}
          {info.instances.map((i) => `obj ${i.objId} at z ${i.tM2cMm[2].toFixed(0)} mm`).join(', ') || 'no instances'}
        </p>
      )}
    </section>
  );
}
