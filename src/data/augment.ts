import type { Rng } from './rng';

/**
 * Photometric augmentation and background replacement on crops (RGB [n, n, 3] in [0, 1], in place).
 * Geometric jitter (crop scale and shift) lives with the crop choice in samples.ts, so the keypoints
 * and kCrop follow it. Everything draws from the Rng it is given: same seed, same bytes.
 */
export interface AugmentOptions {
  /** Brightness factor drawn from [1 - b, 1 + b]. */
  brightness: number;
  contrast: number;
  saturation: number;
  /** Hue rotation drawn from [-h, h] turns (fractions of a full turn). */
  hue: number;
  /** Crop side factor drawn from [1 - s, 1 + s]. */
  scaleJitter: number;
  /** Crop centre shift drawn from [-t, t] x the crop side, on each axis. */
  shiftJitter: number;
  /**
   * Share of the crops jittered by fineScaleJitter and fineShiftJitter instead: crops as close to the object's
   * box as a refined crop is (train/refine.ts), beside the rest, as far off as a first, detected crop.
   */
  fineShare: number;
  fineScaleJitter: number;
  fineShiftJitter: number;
  /**
   * In-plane rotation, degrees: the camera turns by U(-r, r) about the ray through the crop's centre, the
   * crop is cut from the image warped by that exact rotation (a homography) and the pose turns with it.
   */
  rotationDeg: number;
  /** Probability of replacing the background (pixels outside the object's mask). */
  backgroundProb: number;
  /** Probability of painting one occluder of clutter over part of the object (pasteOccluder). */
  occlusionProb: number;
}

export const kDefaultAugment: AugmentOptions = {
  brightness: 0.25,
  contrast: 0.25,
  saturation: 0.25,
  hue: 0.04,
  scaleJitter: 0.15,
  shiftJitter: 0.1,
  fineShare: 0,
  fineScaleJitter: 0,
  fineShiftJitter: 0,
  rotationDeg: 0,
  backgroundProb: 0.5,
  occlusionProb: 0,
};

export function colourJitter(rgb: Float32Array, rng: Rng, o: AugmentOptions): void {
  const b = rng.uniform(1 - o.brightness, 1 + o.brightness);
  const c = rng.uniform(1 - o.contrast, 1 + o.contrast);
  const sat = rng.uniform(1 - o.saturation, 1 + o.saturation);
  const hueTurns = rng.uniform(-o.hue, o.hue);
  const n = rgb.length / 3;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += 0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2];
  mean /= n;
  // Hue: rotation about the grey axis (1, 1, 1)/sqrt(3) by angle a (Rodrigues on RGB).
  const a = 2 * Math.PI * hueTurns;
  const cosA = Math.cos(a), sinA = Math.sin(a);
  const k1 = (1 - cosA) / 3, k2 = sinA / Math.sqrt(3);
  const m00 = cosA + k1, m01 = k1 - k2, m02 = k1 + k2;
  for (let i = 0; i < n; i++) {
    let r = rgb[3 * i], g = rgb[3 * i + 1], bl = rgb[3 * i + 2];
    if (a !== 0) {
      const r2 = m00 * r + m01 * g + m02 * bl;
      const g2 = m02 * r + m00 * g + m01 * bl;
      const b2 = m01 * r + m02 * g + m00 * bl;
      r = r2; g = g2; bl = b2;
    }
    r *= b; g *= b; bl *= b;
    const grey = 0.299 * r + 0.587 * g + 0.114 * bl;
    r = grey + sat * (r - grey); g = grey + sat * (g - grey); bl = grey + sat * (bl - grey);
    const m = mean * b;
    r = m + c * (r - m); g = m + c * (g - m); bl = m + c * (bl - m);
    rgb[3 * i] = clamp01(r);
    rgb[3 * i + 1] = clamp01(g);
    rgb[3 * i + 2] = clamp01(bl);
  }
}

/** A procedural cluttered background [n, n, 3]: a gradient, random boxes and discs, and noise. */
export function randomBackground(outPx: number, rng: Rng): Float32Array {
  const out = new Float32Array(outPx * outPx * 3);
  const c0 = [rng.next(), rng.next(), rng.next()];
  const c1 = [rng.next(), rng.next(), rng.next()];
  const angle = rng.uniform(0, 2 * Math.PI);
  const gx = Math.cos(angle) / outPx, gy = Math.sin(angle) / outPx;
  for (let y = 0; y < outPx; y++) {
    for (let x = 0; x < outPx; x++) {
      const t = clamp01(0.5 + (x - outPx / 2) * gx + (y - outPx / 2) * gy);
      for (let k = 0; k < 3; k++) out[3 * (y * outPx + x) + k] = c0[k] + t * (c1[k] - c0[k]);
    }
  }
  const shapes = 3 + rng.int(10);
  for (let s = 0; s < shapes; s++) {
    const col = [rng.next(), rng.next(), rng.next()];
    const cx = rng.uniform(0, outPx), cy = rng.uniform(0, outPx);
    const rx = rng.uniform(outPx / 20, outPx / 3), ry = rng.uniform(outPx / 20, outPx / 3);
    const disc = rng.next() < 0.5;
    const y0 = Math.max(0, Math.floor(cy - ry)), y1 = Math.min(outPx - 1, Math.ceil(cy + ry));
    const x0 = Math.max(0, Math.floor(cx - rx)), x1 = Math.min(outPx - 1, Math.ceil(cx + rx));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (disc && ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 > 1) continue;
        for (let k = 0; k < 3; k++) out[3 * (y * outPx + x) + k] = col[k];
      }
    }
  }
  const noise = rng.uniform(0, 0.08);
  for (let i = 0; i < out.length; i++) out[i] = clamp01(out[i] + noise * (rng.next() - 0.5));
  return out;
}

/** Puts background where mask is 0 (mask [n, n], 1 on the object). */
export function replaceBackground(rgb: Float32Array, mask: Float32Array, background: Float32Array): void {
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] < 0.5) {
      rgb[3 * i] = background[3 * i];
      rgb[3 * i + 1] = background[3 * i + 1];
      rgb[3 * i + 2] = background[3 * i + 2];
    }
  }
}

/**
 * Paints one occluder over the object, in place: an ellipse or a rectangle of procedural clutter
 * (randomBackground's) with half-axes U(0.1, 0.35) x the crop side, centred on a pixel of the visible mask drawn
 * uniformly, so it covers part of the object and often runs off its edge as real clutter does. rgb [n, n, 3] in
 * [0, 1] with n = outPx; the mask [n, n] (1 on the object) loses the pixels covered, so it stays the object's
 * visible mask; with no object pixel nothing is painted. Targets stay those of the whole object: the network
 * learns to place hidden keypoints from the visible part.
 */
export function pasteOccluder(rgb: Float32Array, mask: Float32Array, outPx: number, rng: Rng): void {
  let visible = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] >= 0.5) visible++;
  if (visible === 0) return;
  let pick = rng.int(visible);
  let centre = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] >= 0.5 && pick-- === 0) { centre = i; break; }
  }
  const cx = (centre % outPx) + 0.5, cy = Math.floor(centre / outPx) + 0.5;
  const rx = rng.uniform(0.1, 0.35) * outPx, ry = rng.uniform(0.1, 0.35) * outPx;
  const ellipse = rng.next() < 0.5;
  const texture = randomBackground(outPx, rng);
  for (let y = Math.max(0, Math.floor(cy - ry)); y <= Math.min(outPx - 1, Math.ceil(cy + ry)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rx)); x <= Math.min(outPx - 1, Math.ceil(cx + rx)); x++) {
      const u = (x + 0.5 - cx) / rx, v = (y + 0.5 - cy) / ry;
      if (ellipse ? u * u + v * v > 1 : Math.abs(u) > 1 || Math.abs(v) > 1) continue;
      const i = y * outPx + x;
      rgb[3 * i] = texture[3 * i];
      rgb[3 * i + 1] = texture[3 * i + 1];
      rgb[3 * i + 2] = texture[3 * i + 2];
      mask[i] = 0;
    }
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
