/**
 * Schedules, as pure functions of the step (0-based step about to be taken), so a resumed run follows
 * exactly the same curve.
 */
import type { LossConfig, OptimConfig } from './config';

/** Linear warm-up to lr over lrWarmupSteps, then cosine decay to lr x minLrFactor at the last step. */
export function learningRateAt(step: number, o: OptimConfig): number {
  if (o.lrWarmupSteps > 0 && step < o.lrWarmupSteps) return (o.lr * (step + 1)) / o.lrWarmupSteps;
  const span = Math.max(1, o.steps - o.lrWarmupSteps);
  const f = Math.min(1, Math.max(0, (step - o.lrWarmupSteps) / span));
  const lo = o.lr * o.minLrFactor;
  return lo + 0.5 * (o.lr - lo) * (1 + Math.cos(Math.PI * f));
}

/** Pose-loss weight: 0 during the heatmap-only warm-up, then a linear ramp to betaMax (BPnP, LINEMOD). */
export function betaAt(step: number, l: LossConfig): number {
  if (step < l.warmupSteps) return 0;
  if (l.betaRampSteps <= 0) return l.betaMax;
  return l.betaMax * Math.min(1, (step - l.warmupSteps + 1) / l.betaRampSteps);
}
