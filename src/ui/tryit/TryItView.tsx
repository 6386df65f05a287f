import * as Comlink from 'comlink';
import { useEffect, useRef, useState, type DragEvent } from 'react';
import { CameraError, parseCameraJson } from '../../data/camera';
import { collectDataTransfer } from '../../data/source/dropped';
import type { PosesJson, TryFrame, TryModelSource } from '../../worker/protocol';
import { engine, message } from '../workerClient';
import { download } from '../format';
import { useApp } from '../state/store';
import type { CameraPreset, TryPhoto } from '../state/tryItSlice';
import { drawPose } from './drawPose';
import { frameK, kLaptopHfovDeg, kPhoneHfovDeg } from './frameCamera';

/** Photos predicted per call: the worker batches them through the networks. */
const kPhotoBatch = 4;
const kImageName = /\.(jpe?g|png|webp|bmp|gif)$/i;

/** Asks the worker what the chosen model can do now (after a run starts or ends, a bundle import, a source change). */
export async function refreshTryStatus(source = useApp.getState().trySource): Promise<void> {
  useApp.getState().setTryStatus(await engine().tryItStatus(source));
}

/** Frames for the worker: copies of the bitmaps, transferred, so the page keeps its own to draw. */
async function sendFrames(frames: { bitmap: ImageBitmap; kPx: number[] }[], source: TryModelSource) {
  const copies: TryFrame[] = await Promise.all(frames.map(async (f) => ({ bitmap: await createImageBitmap(f.bitmap), kPx: f.kPx })));
  return engine().predictFrames(Comlink.transfer(copies, copies.map((f) => f.bitmap)), source);
}

let predictAgain = false;

/** Predicts every photo with the current model and camera, a few per call; results land in the slice. */
export async function predictPhotos(): Promise<void> {
  const s = useApp.getState();
  // Asked again while busy (new photos, another camera): one more pass after this one, with the latest.
  if (s.tryBusy) { predictAgain = true; return; }
  s.setTryBusy(true);
  try {
    const photos = s.tryPhotos;
    for (let i = 0; i < photos.length; i += kPhotoBatch) {
      const { tryCamera, tryStatus, trySource } = useApp.getState();
      const chunk = photos.slice(i, i + kPhotoBatch);
      const ready: { p: TryPhoto; kPx: number[]; source: string }[] = [];
      for (const p of chunk) {
        const k = frameK(tryCamera, tryStatus, p.widthPx, p.heightPx);
        if (k.ok) ready.push({ p, kPx: k.kPx, source: k.source });
        else useApp.getState().updateTryPhoto(p.id, { error: k.reason, pose: undefined, kPx: undefined });
      }
      if (ready.length === 0) continue;
      try {
        const r = await sendFrames(ready.map(({ p, kPx }) => ({ bitmap: p.bitmap, kPx })), trySource);
        ready.forEach(({ p, kPx, source }, j) => useApp.getState().updateTryPhoto(p.id, {
          pose: r.poses[j], ms: r.msPerFrame, model: r.model, kPx, cameraSource: source, error: undefined,
        }));
      } catch (e) {
        for (const { p } of ready) useApp.getState().updateTryPhoto(p.id, { error: message(e), pose: undefined });
      }
    }
  } finally {
    useApp.getState().setTryBusy(false);
    if (predictAgain) { predictAgain = false; void predictPhotos(); }
  }
}

/** The photos' poses as `npm run predict` writes them (the worker prints the document, so both match). */
async function downloadPoses(): Promise<void> {
  const photos = useApp.getState().tryPhotos;
  const done = photos.filter((p) => p.pose && p.model);
  if (done.length === 0) return;
  const first = done[0];
  const sizes = new Set(done.map((p) => `${p.widthPx}x${p.heightPx}`));
  const doc: PosesJson = {
    model: first.model!,
    camera: {
      K: first.kPx!,
      // One K per document, as the command line's: with several sizes, each photo had its own, scaled.
      source: sizes.size > 1 ? `${first.cameraSource} (K for ${first.widthPx}x${first.heightPx}; each photo size had its own)` : first.cameraSource!,
    },
    images: done.map((p) => ({ file: p.file, width: p.widthPx, height: p.heightPx, ms: p.ms!, detections: p.pose!.detections })),
    skipped: photos.filter((p) => !p.pose).map((p) => ({ file: p.file, reason: p.error ?? 'not predicted' })),
  };
  download('poses.json', await engine().posesJson(doc), 'application/json');
}

let nextPhotoId = 0;

/** unreadable: entries of the drop that could not be read at all, shown with the photos that fail to decode. */
async function addPhotos(files: { path: string; file: Blob }[], unreadableEntries: string[] = []): Promise<void> {
  const images = files.filter((f) => kImageName.test(f.path) || f.file.type.startsWith('image/'));
  const photos: TryPhoto[] = [];
  const unreadable: string[] = [...unreadableEntries];
  for (const f of images.sort((a, b) => a.path.localeCompare(b.path))) {
    try {
      const bitmap = await createImageBitmap(f.file);
      photos.push({ id: nextPhotoId++, file: f.path, bitmap, widthPx: bitmap.width, heightPx: bitmap.height });
    } catch (e) {
      unreadable.push(`${f.path}: ${message(e)}`);
    }
  }
  useApp.getState().setTryPhotos(photos, images.length === 0 ? `Nothing dropped was a photo (.jpg, .png, .webp).${unreadable.length ? ` Not readable: ${unreadable.join('; ')}` : ''}` : unreadable.length ? `Not readable as images: ${unreadable.join('; ')}` : undefined);
  await predictPhotos();
}

/**
 * Try the model on photos nobody labelled, or on the webcam: the engine's current weights or an imported
 * bundle, each frame's K from a preset, a field of view or a camera.json. Inference runs in the worker.
 */
export function TryItView() {
  const status = useApp((s) => s.tryStatus);
  const source = useApp((s) => s.trySource);
  const runStatus = useApp((s) => s.status);
  const dataset = useApp((s) => s.dataset);
  const camera = useApp((s) => s.tryCamera);
  const [note, setNote] = useState<string>();
  const bundleInput = useRef<HTMLInputElement>(null);
  const cameraInput = useRef<HTMLInputElement>(null);

  useEffect(() => { void refreshTryStatus(source).catch((e: unknown) => setNote(message(e))); }, [source, runStatus, dataset]);
  useEffect(() => {
    // A dataset without images has no camera to offer.
    if (camera.preset === 'dataset' && status && !status.datasetCamera) useApp.getState().setTryCamera({ preset: 'phone' });
  }, [status, camera.preset]);
  useEffect(() => {
    if (useApp.getState().tryPhotos.length > 0) void predictPhotos();
  }, [source, camera]);

  const importBundle = async (f: File | undefined) => {
    if (!f) return;
    try {
      const st = await engine().tryItImportBundle(new Uint8Array(await f.arrayBuffer()));
      useApp.getState().setTrySource('bundle');
      useApp.getState().setTryStatus(st);
      setNote(undefined);
    } catch (e) {
      setNote(`${f.name}: ${message(e)}`);
    }
  };
  const loadCamera = async (f: File | undefined) => {
    if (!f) return;
    try {
      useApp.getState().setTryCamera({ preset: 'file', file: parseCameraJson(await f.text(), f.name) });
      setNote(undefined);
    } catch (e) {
      setNote(e instanceof CameraError ? e.message : `${f.name}: ${message(e)}`);
    }
  };

  return (
    <div className="stack" data-testid="tryit-view">
      <section className="card">
        <div className="row wrap gap">
          <strong>Model</strong>
          <label><input type="radio" name="try-source" checked={source === 'training'} onChange={() => useApp.getState().setTrySource('training' as TryModelSource)} data-testid="try-source-training" /> the model being trained</label>
          <label><input type="radio" name="try-source" checked={source === 'bundle'} onChange={() => useApp.getState().setTrySource('bundle')} data-testid="try-source-bundle" /> an imported bundle{status?.bundle ? ` (${status.bundle.name}, step ${status.bundle.step})` : ''}</label>
          <button type="button" onClick={() => bundleInput.current?.click()} data-testid="try-import-bundle">Import bundle…</button>
          <input ref={bundleInput} type="file" accept=".zip" hidden onChange={(e) => { void importBundle(e.target.files?.[0]); e.target.value = ''; }} data-testid="try-bundle-input" />
          {status?.ready && status.model && (
            <span className="muted small" data-testid="try-model">{status.model.name} (object {status.model.obj_id}) at step {status.model.step}{status.hasMesh ? '' : ' · no mesh in the loaded dataset: box and keypoints only'}</span>
          )}
        </div>
        {status && !status.ready && <div className="notice warn" data-testid="try-notice">{status.notice}</div>}
        <CameraPicker onCameraFile={() => cameraInput.current?.click()} />
        <input ref={cameraInput} type="file" accept=".json,application/json" hidden onChange={(e) => { void loadCamera(e.target.files?.[0]); e.target.value = ''; }} data-testid="try-camera-input" />
        {note && <p className="error-text" data-testid="try-note">{note}</p>}
      </section>
      <Webcam />
      <Photos onCameraFile={(f) => void loadCamera(f)} />
    </div>
  );
}

function CameraPicker({ onCameraFile }: { onCameraFile: () => void }) {
  const camera = useApp((s) => s.tryCamera);
  const status = useApp((s) => s.tryStatus);
  const set = useApp((s) => s.setTryCamera);
  const d = status?.datasetCamera;
  return (
    <div className="row wrap gap">
      <strong>Camera</strong>
      <select value={camera.preset} onChange={(e) => set({ preset: e.target.value as CameraPreset })} data-testid="try-camera">
        <option value="dataset" disabled={!d}>the dataset's camera{d ? ` (fx ${d.kPx[0].toFixed(0)} at ${d.widthPx}×${d.heightPx}), scaled to each frame` : ''}</option>
        <option value="phone">a typical phone camera ({kPhoneHfovDeg}° across)</option>
        <option value="laptop">a typical laptop webcam ({kLaptopHfovDeg}° across)</option>
        <option value="fov">field of view…</option>
        <option value="file" disabled={!camera.file}>camera.json{camera.file ? ` (${camera.file.source})` : ''}</option>
      </select>
      {camera.preset === 'fov' && (
        <label className="row gap">
          <input type="range" min={20} max={120} step={1} value={camera.fovDeg} onChange={(e) => set({ fovDeg: Number(e.target.value) })} className="slider" aria-label="horizontal field of view" data-testid="try-fov" />
          <span className="mono small">{camera.fovDeg}° across</span>
        </label>
      )}
      <button type="button" className="ghost" onClick={onCameraFile}>Load camera.json…</button>
    </div>
  );
}

function Photos({ onCameraFile }: { onCameraFile: (f: File) => void }) {
  const photos = useApp((s) => s.tryPhotos);
  const busy = useApp((s) => s.tryBusy);
  const photosNote = useApp((s) => s.tryPhotosNote);
  const [over, setOver] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    // A camera.json dropped with the photos sets the camera.
    const cam = Array.from(e.dataTransfer.files).find((f) => /\.json$/i.test(f.name));
    if (cam) onCameraFile(cam);
    void collectDataTransfer(e.dataTransfer).then(({ files, problems }) =>
      (files.some((f) => !/\.json$/i.test(f.path)) || problems.length > 0 ? addPhotos(files, problems.map((p) => `${p.file}: ${p.message}`)) : undefined));
  };
  const onPick = (list: FileList | null) => {
    if (list && list.length > 0) void addPhotos(Array.from(list, (f) => ({ path: f.webkitRelativePath || f.name, file: f })));
  };
  const predicted = photos.filter((p) => p.pose).length;

  return (
    <section
      className={`card dropzone${over ? ' over' : ''}`}
      data-testid="try-photos"
      onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div className="row spread wrap gap">
        <div className="dropzone-text">
          <strong>Drop photos here</strong>
          <span className="muted">photos or a folder of them (and a camera.json, if you have one)</span>
        </div>
        <div className="row gap">
          <button type="button" onClick={() => filesInput.current?.click()}>Choose photos…</button>
          <button type="button" onClick={() => folderInput.current?.click()}>Choose folder…</button>
          <button type="button" className="ghost" disabled={photos.length === 0 || busy} onClick={() => void predictPhotos()}>Predict again</button>
          <button type="button" disabled={predicted === 0 || busy} onClick={() => void downloadPoses()} data-testid="try-download">Download poses.json</button>
        </div>
      </div>
      <input ref={filesInput} type="file" multiple accept="image/*" hidden onChange={(e) => { onPick(e.target.files); e.target.value = ''; }} data-testid="try-photos-input" />
      <input ref={folderInput} type="file" hidden {...{ webkitdirectory: '' }} onChange={(e) => { onPick(e.target.files); e.target.value = ''; }} />
      {photosNote && <p className="error-text">{photosNote}</p>}
      {photos.length > 0 && <p className="muted small" data-testid="try-photos-progress">{busy ? `predicting… ${predicted} / ${photos.length}` : `${predicted} of ${photos.length} photos with a pose`}</p>}
      <div className="try-grid">
        {photos.map((p, i) => <PhotoTile key={p.id} photo={p} index={i} />)}
      </div>
    </section>
  );
}

function PhotoTile({ photo, index }: { photo: TryPhoto; index: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const [drawn, setDrawn] = useState<string>();
  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    let cancelled = false;
    const key = photo.pose ? `${photo.pose.score}|${photo.kPx?.join(',')}` : 'none';
    void drawPose(c, photo.bitmap, photo.kPx, photo.pose, photo.model?.obj_id).then(() => !cancelled && setDrawn(key));
    return () => { cancelled = true; };
  }, [photo]);
  const p = photo.pose;
  return (
    <figure className="try-tile" data-testid={`try-photo-${index}`}>
      <canvas
        ref={canvas}
        data-testid={`try-canvas-${index}`}
        data-drawn={drawn && p ? 'pose' : drawn ? 'image' : undefined}
        data-box={p ? JSON.stringify(p.boxPx) : undefined}
      />
      <figcaption className="mono small">
        <span className="muted">{photo.file}</span>{' '}
        {p && <span data-testid={`try-info-${index}`}>{p.detected ? '' : 'no detection · '}score {p.score.toFixed(2)} · {photo.ms!.toFixed(0)} ms · {p.status} · z {p.tMm[2].toFixed(0)} mm</span>}
        {photo.error && <span className="error-text">{photo.error}</span>}
      </figcaption>
    </figure>
  );
}

/**
 * The webcam, one frame in flight at a time: a frame is grabbed only when the previous one's pose is
 * back, so a slow model lowers the frame rate instead of building a queue.
 */
function Webcam() {
  const [on, setOn] = useState(false);
  const [error, setError] = useState<string>();
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const fpsText = useRef<HTMLSpanElement>(null);
  const infoText = useRef<HTMLSpanElement>(null);

  useEffect(() => {
    if (!on) return;
    let stopped = false;
    let stream: MediaStream | undefined;
    const done: number[] = [];
    const loop = async () => {
      const v = video.current!;
      while (!stopped) {
        if (v.readyState < 2 || v.videoWidth === 0) { await new Promise((r) => requestAnimationFrame(r)); continue; }
        // The next frame the camera delivers, never one already predicted: frames that came while the
        // last one was in the worker are dropped, and the rate shown is of camera frames with a pose.
        await new Promise<void>((r) => v.requestVideoFrameCallback(() => r()));
        if (stopped) break;
        const bitmap = await createImageBitmap(v);
        const { tryCamera, tryStatus, trySource } = useApp.getState();
        const k = frameK(tryCamera, tryStatus, bitmap.width, bitmap.height);
        try {
          if (!k.ok) throw new Error(k.reason);
          const r = await sendFrames([{ bitmap, kPx: k.kPx }], trySource);
          if (stopped) break;
          await drawPose(canvas.current!, bitmap, k.kPx, r.poses[0], r.model.obj_id);
          canvas.current!.dataset.box = JSON.stringify(r.poses[0].boxPx);
          const now = performance.now();
          done.push(now);
          while (done.length > 0 && done[0] < now - 2000) done.shift();
          const fps = done.length > 1 ? (1000 * (done.length - 1)) / (done[done.length - 1] - done[0]) : 0;
          const p = r.poses[0];
          fpsText.current!.textContent = `${fps.toFixed(1)} frames/s`;
          infoText.current!.textContent = `${p.detected ? '' : 'no detection · '}score ${p.score.toFixed(2)} · ${r.msPerFrame.toFixed(0)} ms · ${p.status}`;
          setError(undefined);
        } catch (e) {
          setError(message(e));
          // The model may come (training starts, a bundle is imported): try again shortly.
          await new Promise((res) => setTimeout(res, 500));
        } finally {
          bitmap.close();
        }
      }
    };
    (async () => {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser offers no camera access here (getUserMedia needs https or localhost)');
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      if (stopped) return;
      video.current!.srcObject = stream;
      await video.current!.play();
      await loop();
    })().catch((e: unknown) => { setError(`The webcam could not start: ${message(e)}`); setOn(false); });
    return () => {
      stopped = true;
      for (const t of stream?.getTracks() ?? []) t.stop();
    };
  }, [on]);

  return (
    <section className="card" data-testid="try-webcam">
      <div className="row wrap gap">
        <strong>Webcam</strong>
        <button type="button" onClick={() => { setError(undefined); setOn(!on); }} data-testid="try-webcam-toggle">{on ? 'Stop webcam' : 'Start webcam'}</button>
        {on && <span className="mono small" ref={fpsText} data-testid="try-webcam-fps" />}
        {on && <span className="mono small" ref={infoText} data-testid="try-webcam-info" />}
      </div>
      {error && <p className="error-text" data-testid="try-webcam-error">{error}</p>}
      <video ref={video} muted playsInline hidden />
      {on && <div className="image-stage"><canvas ref={canvas} data-testid="try-webcam-canvas" /></div>}
    </section>
  );
}
