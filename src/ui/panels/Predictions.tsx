import { useEffect, useRef, useState } from 'react';
import type { PredictionSample } from '../../worker/protocol';
import { engine } from '../workerClient';
import { fmtNum, fmtPct } from '../format';
import { useApp } from '../state/store';
import { sharedOverlay } from '../three/overlay';

const kGtColour = '#3ddc97';
const kEstColour = '#ff8c42';

/** Inferno-like ramp for heatmaps: t in [0, 1] -> rgb. */
function heatColour(t: number): [number, number, number] {
  const stops: [number, number, number][] = [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]];
  const x = Math.min(0.9999, Math.max(0, t)) * (stops.length - 1);
  const i = Math.floor(x), f = x - i;
  const a = stops[i], b = stops[i + 1];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

function cropCanvas(s: PredictionSample): HTMLCanvasElement {
  const S = s.inputPx;
  const c = document.createElement('canvas');
  c.width = S; c.height = S;
  const img = new ImageData(S, S);
  for (let p = 0; p < S * S; p++) {
    img.data[4 * p] = 255 * s.image[3 * p];
    img.data[4 * p + 1] = 255 * s.image[3 * p + 1];
    img.data[4 * p + 2] = 255 * s.image[3 * p + 2];
    img.data[4 * p + 3] = 255;
  }
  c.getContext('2d')!.putImageData(img, 0, 0);
  return c;
}

/** Max over keypoints of the spatial-softmax heatmaps, normalised, colour-mapped, alpha by value. */
function heatmapCanvas(s: PredictionSample): HTMLCanvasElement {
  const H = s.heatmapSide;
  const k = s.heatmaps.length / (H * H);
  const c = document.createElement('canvas');
  c.width = H; c.height = H;
  const img = new ImageData(H, H);
  const m = new Float32Array(H * H);
  let top = 0;
  for (let p = 0; p < H * H; p++) {
    let v = 0;
    for (let j = 0; j < k; j++) v = Math.max(v, s.heatmaps[p * k + j]);
    m[p] = v;
    top = Math.max(top, v);
  }
  for (let p = 0; p < H * H; p++) {
    const t = top > 0 ? Math.sqrt(m[p] / top) : 0;
    const [r, g, b] = heatColour(t);
    img.data[4 * p] = r; img.data[4 * p + 1] = g; img.data[4 * p + 2] = b; img.data[4 * p + 3] = 200 * t;
  }
  c.getContext('2d')!.putImageData(img, 0, 0);
  return c;
}

function ensureGeometry(objId: number): Promise<boolean> {
  return sharedOverlay().ensureGeometry(objId, (id) => engine().objectGeometry(id));
}

/**
 * Tile drawings, one per animation frame: an evaluation's tiles drawn in the task that delivered it
 * would hold the main thread for all of them at once (crop, heatmap, overlay render and compositing each).
 */
const drawQueue: (() => Promise<void>)[] = [];
let draining = false;

function queueDraw(job: () => Promise<void>): void {
  drawQueue.push(job);
  if (!draining) { draining = true; requestAnimationFrame(drawNext); }
}

function drawNext(): void {
  const job = drawQueue.shift();
  if (!job) { draining = false; return; }
  void job().catch((e: unknown) => console.error('a prediction tile could not be drawn:', e)).finally(() => requestAnimationFrame(drawNext));
}

/** Crop, heatmap, GT (green) and estimated (orange) poses and keypoints, at size x size px. */
export async function drawPrediction(canvas: HTMLCanvasElement, s: PredictionSample, size: number, heat: boolean): Promise<void> {
  const ok = s.status === 0 && s.est.tMm[2] > 0;
  const rendered = await sharedOverlay().snapshot({
    kPx: s.kCrop, widthPx: s.inputPx, heightPx: s.inputPx, outWidth: size, outHeight: size,
    poses: [
      { objId: s.objId, R: s.gt.R, tMm: s.gt.tMm, colour: kGtColour },
      ...(ok ? [{ objId: s.objId, R: s.est.R, tMm: s.est.tMm, colour: kEstColour }] : []),
    ],
    show: { mesh: 'wireframe', bbox: true, axes: false, keypoints: false },
  });
  canvas.width = size; canvas.height = size;
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(cropCanvas(s), 0, 0, size, size);
  if (heat) ctx.drawImage(heatmapCanvas(s), 0, 0, size, size);
  ctx.drawImage(rendered, 0, 0);
  rendered.close();
  const sc = size / s.inputPx;
  const at = (xy: Float32Array, i: number): [number, number] => [(xy[2 * i] + 0.5) * sc, (xy[2 * i + 1] + 0.5) * sc];
  const r = Math.max(2.5, size / 80);
  for (let i = 0; i < s.keypointsPx.length / 2; i++) {
    const [gx, gy] = at(s.keypointsGtPx, i);
    const [ex, ey] = at(s.keypointsPx, i);
    ctx.strokeStyle = 'rgba(255,255,255,0.6)';
    ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(gx, gy); ctx.lineTo(ex, ey); ctx.stroke();
    ctx.strokeStyle = kGtColour; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(gx, gy, r + 1.5, 0, 2 * Math.PI); ctx.stroke();
    ctx.fillStyle = kEstColour;
    ctx.beginPath(); ctx.arc(ex, ey, r, 0, 2 * Math.PI); ctx.fill();
  }
  // What was drawn, for the page's end-to-end test to hold the pixels against (as the dataset view's
  // canvas gives its boxes): the poses and the crop's K, tile px = (crop px + 0.5) x size / inputPx.
  canvas.dataset.drawn = JSON.stringify({ size, inputPx: s.inputPx, kCrop: s.kCrop, est: ok ? s.est : null, gt: s.gt });
}

function errorsText(s: PredictionSample): string {
  if (s.status !== 0) return `PnP did not converge (status ${s.status}) · kp ${fmtNum(s.errors.keypointPx, 1)} px`;
  return `rot ${fmtNum(s.errors.rotDeg, 1)}° · trans ${fmtNum(s.errors.transMm, 0)} mm · ADD ${fmtNum(s.errors.addMm, 0)} mm · kp ${fmtNum(s.errors.keypointPx, 1)} px`;
}

function Tile({ s, i, heat }: { s: PredictionSample; i: number; heat: boolean }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const enlarge = useApp((st) => st.enlarge);
  useEffect(() => {
    let live = true;
    queueDraw(async () => {
      if (!live) return;
      await ensureGeometry(s.objId);
      if (live && canvas.current) await drawPrediction(canvas.current, s, 200, heat);
    });
    return () => { live = false; };
  }, [s, heat]);
  return (
    <button type="button" className="tile" onClick={() => enlarge(i)} data-testid="prediction-tile" title="click to enlarge">
      <canvas ref={canvas} width={200} height={200} />
      <span className="tile-key mono">{s.imageKey}</span>
      <span className="tile-errors">{errorsText(s)}</span>
    </button>
  );
}

function Enlarged({ s, heat, onClose }: { s: PredictionSample; heat: boolean; onClose: () => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    void ensureGeometry(s.objId).then(async () => { if (canvas.current) await drawPrediction(canvas.current, s, 512, heat); });
  }, [s, heat]);
  useEffect(() => {
    const key = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', key);
    return () => window.removeEventListener('keydown', key);
  }, [onClose]);
  return (
    <div className="modal" onClick={onClose} data-testid="prediction-enlarged">
      <div className="modal-body" onClick={(e) => e.stopPropagation()}>
        <canvas ref={canvas} width={512} height={512} />
        <div className="row spread">
          <span className="mono">{s.imageKey}</span>
          <button type="button" onClick={onClose}>Close</button>
        </div>
        <p>{errorsText(s)}</p>
        <p className="muted small">
          <span style={{ color: kGtColour }}>■ ground truth</span> · <span style={{ color: kEstColour }}>■ estimate</span> · rings: GT keypoints, dots: predicted
        </p>
      </div>
    </div>
  );
}

/** The latest evaluation's test crops with their predictions; refreshed at every evaluation. */
export function Predictions() {
  const samples = useApp((s) => s.predictions);
  const step = useApp((s) => s.predictionStep);
  const source = useApp((s) => s.predictionSource);
  const metrics = useApp((s) => s.metrics);
  const enlarged = useApp((s) => s.enlarged);
  const enlarge = useApp((s) => s.enlarge);
  const [heat, setHeat] = useState(true);
  return (
    <section className="card" data-testid="predictions">
      <div className="row spread wrap gap">
        <h2>Predictions {samples.length > 0 && <span className="muted small" data-testid="prediction-step">{source === 'imported' ? 'imported model · step' : 'step'} {step}</span>}</h2>
        <div className="row gap small">
          <span><span style={{ color: kGtColour }}>■</span> ground truth</span>
          <span><span style={{ color: kEstColour }}>■</span> estimate</span>
          <label><input type="checkbox" checked={heat} onChange={(e) => setHeat(e.target.checked)} /> heatmaps</label>
        </div>
      </div>
      {metrics && (
        <div className="facts small" data-testid="metrics">
          {metrics.crops === 'oracle'
            ? <span className="warn" data-testid="oracle-crops" title="crops cut around the ground truth's box, once: a reference that an unlabelled image cannot have">oracle crops</span>
            : <span title="localiser boxes with IoU >= 0.5 against the ground truth's">detected <b>{fmtPct(metrics.detectionRecall)}</b>{metrics.missed > 0 ? ` (${metrics.missed} missed)` : ''}</span>}
          <span>{metrics.symmetric ? 'ADD-S' : 'ADD'} 0.1d <b>{fmtPct(metrics.add01d)}</b></span>
          <span>2D 5 px <b>{fmtPct(metrics.proj5px)}</b></span>
          <span>5 cm 5° <b>{fmtPct(metrics.cm5deg5)}</b></span>
          <span title="mean / median over the instances with a pose">rot <b>{fmtNum(metrics.meanRotDeg, 1)}° / {fmtNum(metrics.medianRotDeg, 1)}°</b></span>
          <span title="mean / median over the instances with a pose">trans <b>{fmtNum(metrics.meanTransMm, 0)} / {fmtNum(metrics.medianTransMm, 0)} mm</b></span>
          <span>PnP failures <b>{metrics.pnpFailures}</b> / {metrics.instances}</span>
        </div>
      )}
      {samples.length === 0
        ? <p className="muted small">Test crops with their predicted keypoints, heatmaps and poses appear here at every evaluation.</p>
        : <div className="tiles">{samples.map((s, i) => <Tile key={i} s={s} i={i} heat={heat} />)}</div>}
      {enlarged !== undefined && samples[enlarged] && <Enlarged s={samples[enlarged]} heat={heat} onClose={() => enlarge(undefined)} />}
    </section>
  );
}
