/**
 * The BPnP paper's three experiments, live (src/demos): pick a demo, a seed and a backend, start and stop
 * it, and watch its loss, its error and what it is learning. The demo runs on this page's own tfjs, one
 * awaited step per animation frame, so the page never blocks; what changes per step is kept in a ref
 * (recorder.ts) and drawn by the views in their frame loops, while React state holds only the controls.
 */
import { useEffect, useRef, useState } from 'react';
import { createDemo, kDefaultIterations, kDemoKinds, type DemoKind } from '../../demos/createDemo';
import { useFrame } from '../useFrame';
import { selectDemoBackend, type DemoBackend, type DemoBackendName } from '../../demos/pageBackend';
import { CalibPanel } from './CalibPanel';
import { CurveChart } from './CurveChart';
import { PoseCanvas } from './PoseCanvas';
import { newRecord, record, type DemoRecord } from './recorder';
import { SfmScene } from './SfmScene';

type Status = 'idle' | 'starting' | 'running' | 'stopped' | 'done' | 'error';

const kTitles: Record<DemoKind, string> = {
  pose: 'Pose estimation',
  sfm: 'Structure from motion',
  calib: 'Camera calibration',
};

const kAbout: Record<DemoKind, string> = {
  pose: 'A small network maps a constant input to 8 keypoints. bpnp solves the pose those keypoints imply for a known cube; the loss ' +
    'compares the cube projected with that pose to its projection under a target pose (plus the keypoints\u2019 distance to it), ' +
    'and its gradient reaches the network through bpnp.',
  sfm: 'A set of 24 3D points is learnt from their observations in 12 views. The views\u2019 poses are never given: each step bpnp ' +
    'solves them from the current points, and the reprojection loss is backpropagated through bpnp into the points. The ' +
    'structure is recoverable up to a similarity, so it is shown and measured after the best similarity alignment.',
  calib: 'fx, fy, cx and cy are learnt from 2D\u20133D correspondences of a known point cloud in 8 views whose poses bpnp solves ' +
    'with the current K; the reprojection loss is backpropagated through bpnp into K.',
};

const nextFrame = () => new Promise<void>((resolve) => requestAnimationFrame(() => resolve()));

export function DemosView() {
  const [kind, setKind] = useState<DemoKind>('pose');
  const [seed, setSeed] = useState(1);
  const [wanted, setWanted] = useState<DemoBackendName>(typeof navigator !== 'undefined' && navigator.gpu ? 'webgpu' : 'cpu');
  const [iterations, setIterations] = useState(kDefaultIterations.pose);
  const [status, setStatus] = useState<Status>('idle');
  const [backend, setBackend] = useState<DemoBackend | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rec = useRef<DemoRecord | null>(null);
  /** Each run owns a token; bumping it stops the run after its current step. */
  const token = useRef(0);
  /** The loop now running (or finished): a demo is disposed only once its loop has let go of it. */
  const loop = useRef<Promise<void>>(Promise.resolve());
  const summary = useRef<HTMLSpanElement>(null);
  const seen = useRef(-1);

  async function run(my: number, r: DemoRecord, until: number): Promise<void> {
    try {
      while (r.iteration.length < until) {
        const step = await r.demo.step();
        record(r, step);
        // Yield a frame between steps: the views draw, the page stays responsive.
        await nextFrame();
        if (my !== token.current) return;
      }
      setStatus('done');
    } catch (e) {
      if (my !== token.current) return;
      setStatus('error');
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  /** Stops any run and frees its demo once its loop has returned. */
  async function release(): Promise<void> {
    token.current++;
    await loop.current;
    rec.current?.demo.dispose();
    rec.current = null;
  }

  async function start(): Promise<void> {
    setStatus('starting');
    setError(null);
    await release();
    const my = token.current;
    try {
      const b = await selectDemoBackend(wanted);
      setBackend(b);
      if (my !== token.current) return;
      const r = newRecord(createDemo(kind, { seed }));
      rec.current = r;
      setStatus('running');
      loop.current = run(my, r, iterations);
    } catch (e) {
      setStatus('error');
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  function stop(): void {
    token.current++;
    setStatus('stopped');
  }

  function resume(): void {
    const r = rec.current;
    if (!r) return;
    const my = ++token.current;
    setStatus('running');
    loop.current = loop.current.then(() => run(my, r, Math.max(iterations, r.iteration.length + 1)));
  }

  function pick(k: DemoKind): void {
    void release().then(() => setStatus('idle'));
    setKind(k);
    setIterations(kDefaultIterations[k]);
  }

  // Unmounting stops the run and frees the demo's tensors.
  useEffect(() => () => { void release(); }, []);

  useFrame(() => {
    const r = rec.current;
    const el = summary.current;
    if (!el) return;
    if (!r || !r.last) {
      if (seen.current !== -1) el.textContent = '';
      seen.current = -1;
      return;
    }
    if (r.version === seen.current) return;
    seen.current = r.version;
    const s = r.last;
    el.textContent = `iteration ${s.iteration + 1} · loss ${s.loss.toExponential(3)} px² · ${r.demo.errorName} ${s.error.toPrecision(4)}` +
      (s.failedPnp ? ` · ${s.failedPnp} PnP failed` : '');
  });

  const busy = status === 'starting' || status === 'running';
  return (
    <div className="stack" data-testid="demos-view">
      <div className="card">
        <div className="row spread wrap gap">
          <div className="row gap wrap">
            {kDemoKinds.map((k) => (
              <button type="button" key={k} className={k === kind ? 'primary' : ''} onClick={() => pick(k)} data-testid={`demo-pick-${k}`}>
                {kTitles[k]}
              </button>
            ))}
          </div>
          <span className={`badge ${backend?.name === 'webgpu' ? 'ok' : backend ? 'warn' : ''}`} data-testid="demo-backend">
            backend: {backend ? backend.name : `${wanted} (on start)`}
          </span>
        </div>
        <p className="muted small" style={{ margin: 0 }}>{kAbout[kind]}</p>
        <div className="row gap wrap">
          <label className="field" style={{ width: 110 }}>seed
            <input type="number" min={0} step={1} value={seed} disabled={busy} data-testid="demo-seed"
              onChange={(e) => setSeed(Math.max(0, Math.trunc(Number(e.target.value)) || 0))} />
          </label>
          <label className="field" style={{ width: 110 }}>iterations
            <input type="number" min={1} step={10} value={iterations} disabled={busy} data-testid="demo-iterations"
              onChange={(e) => setIterations(Math.max(1, Math.trunc(Number(e.target.value)) || 1))} />
          </label>
          <label className="field" style={{ width: 120 }}>backend
            <select value={wanted} disabled={busy} onChange={(e) => setWanted(e.target.value === 'cpu' ? 'cpu' : 'webgpu')} data-testid="demo-backend-pick">
              <option value="webgpu">webgpu</option>
              <option value="cpu">cpu</option>
            </select>
          </label>
          <button type="button" className="primary" disabled={busy} onClick={() => void start()} data-testid="demo-start">Start</button>
          <button type="button" disabled={status !== 'running'} onClick={stop} data-testid="demo-stop">Stop</button>
          <button type="button" disabled={status !== 'stopped' && status !== 'done'} onClick={resume} data-testid="demo-resume">Continue</button>
          <span className={`badge status-${status === 'running' ? 'running' : status === 'error' ? 'error' : 'paused'}`} data-testid="demo-status">{status}</span>
        </div>
        <span ref={summary} className="mono small" data-testid="demo-summary" />
        {status === 'starting' && <span className="muted small">Starting… the first step compiles the GPU programs and can take a while.</span>}
        {backend?.notice && <div className="notice warn">{backend.notice}</div>}
        {error && <div className="notice warn error-text" data-testid="demo-error">{error}</div>}
      </div>
      <div style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fit, minmax(360px, 1fr))', gap: '1rem', alignItems: 'start' }}>
        <div className="card">
          <CurveChart
            key={kind}
            title="Loss (px², left) and error (right)"
            testId="demo-loss-chart"
            record={rec}
            logY
            logR
            yLabel="loss"
            rLabel="error"
            lines={[{ label: 'loss', colour: '#4cc9f0' }, { label: 'error', colour: '#f7b801', scale: 'r' }]}
            columns={(r) => [r.iteration, r.loss, r.error]}
          />
        </div>
        <div className="card" key={kind}>
          {kind === 'pose' && <PoseCanvas record={rec} />}
          {kind === 'sfm' && <SfmScene record={rec} />}
          {kind === 'calib' && <CalibPanel record={rec} />}
        </div>
      </div>
    </div>
  );
}
