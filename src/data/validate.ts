import type { Dataset, BoxPx } from './dataset';
import { contentKindOf, ImageFileError, imageKindOf, readImageFile, sniffImageSize, type DecodeImage } from './image';
import { decodeMask } from './mask';
import type { ProblemLog } from './problems';

/**
 * The checks behind every problem line: pure functions that say what is wrong (a reason string) or
 * undefined, and checkFiles, the pass over image and mask files. Loaders call these and report through
 * a ProblemLog with the file and field; they keep the valid rest.
 */

/** Tolerance on |R^T R - I| and |det R - 1|: BOP stores rotations with ~8 significant digits. */
const kRotationTol = 1e-3;

export function checkRotation(r: ArrayLike<number>): string | undefined {
  if (r.length !== 9) return `has ${r.length} values, 9 expected`;
  for (let i = 0; i < 9; i++) if (!Number.isFinite(r[i])) return 'holds a value that is not a finite number';
  let worst = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      // (R^T R)_ij = sum_k R_ki R_kj
      let s = 0;
      for (let k = 0; k < 3; k++) s += r[3 * k + i] * r[3 * k + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  const det =
    r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
  if (worst > kRotationTol) return `is not a rotation (max |RᵀR − I| = ${worst.toPrecision(3)})`;
  if (Math.abs(det - 1) > kRotationTol) return `is not a rotation (det = ${det.toPrecision(4)}, a reflection?)`;
  return undefined;
}

export function checkTranslation(t: ArrayLike<number>): string | undefined {
  if (t.length !== 3) return `has ${t.length} values, 3 expected`;
  for (let i = 0; i < 3; i++) if (!Number.isFinite(t[i])) return 'holds a value that is not a finite number';
  if (t[2] <= 0) return `puts the object behind the camera (z = ${t[2]} mm)`;
  return undefined;
}

export function checkCamK(k: ArrayLike<number>): string | undefined {
  if (k.length !== 9) return `has ${k.length} values, 9 expected`;
  for (let i = 0; i < 9; i++) if (!Number.isFinite(k[i])) return 'holds a value that is not a finite number';
  if (!(k[0] > 0 && k[4] > 0)) return `focal lengths must be positive (fx = ${k[0]}, fy = ${k[4]})`;
  if (k[3] !== 0 || k[6] !== 0 || k[7] !== 0 || k[8] !== 1) return 'is not an intrinsic matrix (last row must be 0 0 1, K[1][0] = 0)';
  return undefined;
}

/**
 * Box [x, y, w, h] px around the projection of points [n, 3] mm under (R, t, K), or undefined when a
 * point is at or behind the camera plane (the projection is then unbounded).
 */
export function projectedBoxPx(pointsMm: ArrayLike<number>, r: ArrayLike<number>, tMm: ArrayLike<number>, k: ArrayLike<number>): BoxPx | undefined {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i + 2 < pointsMm.length; i += 3) {
    const X = pointsMm[i], Y = pointsMm[i + 1], Z = pointsMm[i + 2];
    const xc = r[0] * X + r[1] * Y + r[2] * Z + tMm[0];
    const yc = r[3] * X + r[4] * Y + r[5] * Z + tMm[1];
    const zc = r[6] * X + r[7] * Y + r[8] * Z + tMm[2];
    if (zc <= 1e-6) return undefined;
    const u = (k[0] * xc + k[1] * yc) / zc + k[2];
    const v = (k[4] * yc) / zc + k[5];
    x0 = Math.min(x0, u); x1 = Math.max(x1, u);
    y0 = Math.min(y0, v); y1 = Math.max(y1, v);
  }
  return [x0, y0, x1 - x0, y1 - y0];
}

/** Reason when a box lies entirely outside a widthPx x heightPx image (pixel edges at -0.5 and w - 0.5). */
export function checkBoxInImage(box: BoxPx, widthPx: number, heightPx: number): string | undefined {
  const [x, y, w, h] = box;
  if (x + w < -0.5 || y + h < -0.5 || x > widthPx - 0.5 || y > heightPx - 0.5) {
    return `projects entirely outside the ${widthPx}x${heightPx} image (box x ${x.toFixed(0)}..${(x + w).toFixed(0)}, y ${y.toFixed(0)}..${(y + h).toFixed(0)} px)`;
  }
  return undefined;
}

export function clipBox(box: BoxPx, widthPx: number, heightPx: number): BoxPx {
  const x0 = Math.max(0, box[0]);
  const y0 = Math.max(0, box[1]);
  const x1 = Math.min(widthPx, box[0] + box[2]);
  const y1 = Math.min(heightPx, box[1] + box[3]);
  return [x0, y0, Math.max(0, x1 - x0), Math.max(0, y1 - y0)];
}

export interface CheckFilesOptions {
  /** Decode every file fully (slow, finds corrupt pixel data); without it only headers are read. */
  decode?: DecodeImage;
  /** Files read at once. */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

const kHeadBytes = 64 * 1024;

/**
 * The pass over every rgb image and mask: a corrupt or unreadable image takes its image out of the
 * dataset; a corrupt mask, one whose size differs from its image, or (when decoding) one with no object
 * pixel for a visible instance, is dropped from its instance (the instance stays: crops then come from
 * the projected model). The real size of each rgb image replaces
 * the one the loader assumed from its scene.
 */
export async function checkFiles(ds: Dataset, log: ProblemLog, opts: CheckFilesOptions = {}): Promise<void> {
  type Read = { ok: true; w: number; h: number; objectPixels?: number } | { ok: false; reason: string };
  const readSize = async (path: string, isMask = false): Promise<Read> => {
    const kind = imageKindOf(path);
    if (!kind) return { ok: false, reason: 'not a .png or .jpg file' };
    try {
      // Decoded as training reads them (readImageFile: what the bytes are, an empty file, the decoder's own words).
      if (opts.decode) {
        const read = () => ds.source.read(path);
        if (isMask) {
          const m = await readImageFile(path, read, async (b, k) => decodeMask(b, k));
          return { ok: true, w: m.widthPx, h: m.heightPx, objectPixels: m.objectPixels };
        }
        const img = await readImageFile(path, read, opts.decode);
        return { ok: true, w: img.widthPx, h: img.heightPx };
      }
      const head = await ds.source.readHead(path, kHeadBytes);
      if (head.length === 0) return { ok: false, reason: 'an empty file (0 bytes)' };
      // What the bytes are wins over the name, as when the file is decoded (a PNG saved as .jpg is read as a PNG).
      const content = contentKindOf(head) ?? kind;
      let s = sniffImageSize(head, content);
      if (!s.ok && content === 'jpeg' && /not found in the first bytes/.test(s.reason)) s = sniffImageSize(await ds.source.read(path), content);
      return s.ok ? { ok: true, w: s.widthPx, h: s.heightPx } : s;
    } catch (e) {
      return { ok: false, reason: e instanceof ImageFileError ? e.why : e instanceof Error ? e.message : String(e) };
    }
  };
  const broken = new Set<number>();
  const total = ds.images.length;
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const im = ds.images[i];
      const rgb = await readSize(im.rgbPath);
      if (!rgb.ok) {
        log.add(im.rgbPath, 'image', `corrupt or unreadable image (${rgb.reason}); image left out`, 'corrupt or unreadable image');
        broken.add(i);
      } else {
        im.widthPx = rgb.w;
        im.heightPx = rgb.h;
        for (const ins of im.instances) {
          for (const which of ['maskPath', 'maskVisibPath'] as const) {
            const path = ins[which];
            if (!path) continue;
            const m = await readSize(path, true);
            if (!m.ok) {
              log.add(path, 'mask', `corrupt or unreadable mask (${m.reason}); mask not used`, 'corrupt or unreadable mask');
              ins[which] = undefined;
            } else if (m.w !== rgb.w || m.h !== rgb.h) {
              log.add(path, 'size', `mask is ${m.w}x${m.h} px, its image ${im.rgbPath} is ${rgb.w}x${rgb.h}; mask not used`, 'mask of the wrong size');
              ins[which] = undefined;
            } else if (m.objectPixels === 0 && (which === 'maskPath' || ins.visibFract === undefined || ins.visibFract > 0)) {
              const visible = ins.visibFract === undefined ? '' : ` (visib_fract ${ins.visibFract})`;
              log.add(path, 'mask', `empty: no non-zero pixel for a visible instance of obj_id ${ins.objId}${visible}; mask not used`, 'empty mask');
              ins[which] = undefined;
            }
          }
        }
      }
      opts.onProgress?.(++done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 16) }, worker));
  if (broken.size > 0) ds.images = ds.images.filter((_, i) => !broken.has(i));
}
