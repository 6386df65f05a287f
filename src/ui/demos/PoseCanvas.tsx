/**
 * The pose-estimation demo's image: the targets (the cube projected with the target pose), the network's
 * keypoints, and the cube projected with the pose bpnp solves from them, redrawn per step in the frame loop.
 */
import { useRef, type RefObject } from 'react';
import type { PoseEstimationDemo, PoseEstimationStep } from '../../demos/createDemo';
import { useFrame } from '../useFrame';
import type { DemoRecord } from './recorder';

const kScale = 2;
const kTarget = '#3ddc97';
const kKeypoint = '#f7b801';
const kProjected = '#4cc9f0';

/** Cube corners i, j are joined when their indices differ in one bit (src/demos/scenes cubeCorners). */
const kCubeEdges: [number, number][] = [];
for (let i = 0; i < 8; i++) for (const bit of [1, 2, 4]) if (!(i & bit)) kCubeEdges.push([i, i | bit]);

function drawWire(ctx: CanvasRenderingContext2D, pts: ArrayLike<number>, colour: string, dash: number[]): void {
  ctx.strokeStyle = colour;
  ctx.setLineDash(dash);
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const [a, b] of kCubeEdges) {
    ctx.moveTo(kScale * pts[2 * a], kScale * pts[2 * a + 1]);
    ctx.lineTo(kScale * pts[2 * b], kScale * pts[2 * b + 1]);
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

export function PoseCanvas({ record }: { record: RefObject<DemoRecord | null> }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const seen = useRef<{ r: DemoRecord | null; v: number }>({ r: null, v: -1 });

  useFrame(() => {
    const r = record.current;
    const el = canvas.current;
    if (!el || !r || r.demo.kind !== 'pose' || (r === seen.current.r && r.version === seen.current.v)) return;
    seen.current = { r, v: r.version };
    const { scene } = r.demo as PoseEstimationDemo;
    el.width = kScale * scene.imageWidth;
    el.height = kScale * scene.imageHeight;
    const ctx = el.getContext('2d')!;
    ctx.fillStyle = '#0a0c0f';
    ctx.fillRect(0, 0, el.width, el.height);
    drawWire(ctx, scene.targetPts2d, kTarget, [4, 3]);
    const step = r.last as PoseEstimationStep | null;
    for (let i = 0; i < scene.n; i++) {
      ctx.strokeStyle = kTarget;
      ctx.beginPath();
      ctx.arc(kScale * scene.targetPts2d[2 * i], kScale * scene.targetPts2d[2 * i + 1], 7, 0, 2 * Math.PI);
      ctx.stroke();
    }
    if (!step) return;
    drawWire(ctx, step.projected, kProjected, []);
    for (let i = 0; i < scene.n; i++) {
      const kx = kScale * step.keypoints[2 * i], ky = kScale * step.keypoints[2 * i + 1];
      // A faint line from each keypoint to its target: what is left to learn.
      ctx.strokeStyle = 'rgba(247, 184, 1, 0.35)';
      ctx.beginPath();
      ctx.moveTo(kx, ky);
      ctx.lineTo(kScale * scene.targetPts2d[2 * i], kScale * scene.targetPts2d[2 * i + 1]);
      ctx.stroke();
      ctx.fillStyle = kKeypoint;
      ctx.beginPath();
      ctx.arc(kx, ky, 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  });

  return (
    <div className="stack" style={{ gap: '0.4rem' }}>
      <div className="image-stage">
        <canvas ref={canvas} data-testid="demo-pose-canvas" style={{ width: 'min(100%, 512px)' }} />
      </div>
      <div className="row gap wrap small muted">
        <span style={{ color: kTarget }}>◯ targets (cube, target pose)</span>
        <span style={{ color: kKeypoint }}>● network keypoints</span>
        <span style={{ color: kProjected }}>— cube projected with bpnp's pose</span>
      </div>
    </div>
  );
}
