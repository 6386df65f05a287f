/**
 * Pinhole intrinsics for images nobody labelled: parsing a camera file (BOP's scene_camera entry
 * {"cam_K": [9]} or BOP's camera.json {"fx", "fy", "cx", "cy"}, optionally "width", "height"), checking
 * a K against an image, and Ks made from a field of view or scaled to another frame size. Pure: the
 * command line (cli/predict.ts), the worker and the page's Try-it view share it.
 *
 * K is [9] row-major px with pixel centres at integer coordinates (as src/data/crop.ts), so the
 * image's centre is at ((W - 1) / 2, (H - 1) / 2) and its edges at -0.5 and W - 0.5.
 */
import { decimal } from './decimal';

export interface CameraK {
  /** [9] row-major, px */
  kPx: number[];
  /** Image size the camera file names, when it does. */
  widthPx?: number;
  heightPx?: number;
  /** Where K came from, in words, for messages: '--camera camera.json', 'phone preset (70°)'. */
  source: string;
}

/** A camera file or value that cannot be read; the message names the source, the field and the value. */
export class CameraError extends Error {}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A field of a camera file as a message names it: `cy missing`, or `cy = "242"` with its value as written. */
const fieldSays = (j: Record<string, unknown>, f: string): string => (f in j ? `${f} = ${JSON.stringify(j[f])}` : `${f} missing`);

/** "fx,fy,cx,cy" (the command line's --K) -> K. */
export function cameraFromFxFyCxCy(value: string, source = `--K ${value}`): CameraK {
  const parts = value.split(',').map(decimal);
  if (parts.length !== 4 || !parts.every(Number.isFinite)) throw new CameraError(`${source}: expected four numbers fx,fy,cx,cy`);
  const [fx, fy, cx, cy] = parts;
  return checkK({ kPx: [fx, 0, cx, 0, fy, cy, 0, 0, 1], source });
}

/** A camera file's text -> K; source names the file in messages. */
export function parseCameraJson(text: string, source: string): CameraK {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new CameraError(`${source}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new CameraError(`${source}: expected a JSON object with cam_K or fx, fy, cx, cy`);
  for (const f of ['width', 'height']) {
    if (f in j && !(Number.isInteger(j[f]) && (j[f] as number) > 0)) throw new CameraError(`${source}: ${fieldSays(j, f)}: expected a positive whole number of pixels`);
  }
  if (('width' in j) !== ('height' in j)) throw new CameraError(`${source}: ${'width' in j ? 'height' : 'width'} missing: give both width and height, or neither`);
  const size = { widthPx: j.width as number | undefined, heightPx: j.height as number | undefined };
  const keys = Object.keys(j);
  if (!('cam_K' in j) && keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    throw new CameraError(`${source}: a whole scene_camera.json (entries keyed by image id ${keys.slice(0, 3).join(', ')}${keys.length > 3 ? ', ...' : ''}); ` +
      `give one entry, e.g. {"cam_K": [...]} of image ${keys[0]}`);
  }
  if ('cam_K' in j && ('fx' in j || 'fy' in j)) throw new CameraError(`${source}: both cam_K and fx/fy are given; keep one`);
  if ('cam_K' in j) {
    const k = j.cam_K;
    if (!Array.isArray(k) || k.length !== 9 || !k.every(finite)) throw new CameraError(`${source}: ${fieldSays(j, 'cam_K')}: expected 9 numbers (row-major 3x3)`);
    return checkK({ kPx: k as number[], ...size, source });
  }
  for (const f of ['fx', 'fy', 'cx', 'cy']) {
    if (!finite(j[f])) throw new CameraError(`${source}: ${fieldSays(j, f)}: expected a number (or give cam_K)`);
  }
  const [fx, fy, cx, cy] = ['fx', 'fy', 'cx', 'cy'].map((f) => j[f] as number);
  return checkK({ kPx: [fx, 0, cx, 0, fy, cy, 0, 0, 1], ...size, source });
}

function checkK(c: CameraK): CameraK {
  const k = c.kPx;
  if (!(k[0] > 0 && k[4] > 0)) throw new CameraError(`${c.source}: focal lengths fx = ${k[0]}, fy = ${k[4]}: expected > 0`);
  if (k[6] !== 0 || k[7] !== 0 || k[8] !== 1) throw new CameraError(`${c.source}: the last row of K is [${k.slice(6).join(', ')}], expected [0, 0, 1]`);
  if (k[3] !== 0) throw new CameraError(`${c.source}: K[1][0] = ${k[3]}, expected 0 (an upper-triangular K)`);
  // A skew beyond the focal length, or focal lengths 100 times apart, describe no real camera.
  if (Math.abs(k[1]) > k[0]) throw new CameraError(`${c.source}: skew K[0][1] = ${k[1]} is larger than fx = ${k[0]}`);
  if (k[0] / k[4] > 100 || k[4] / k[0] > 100) throw new CameraError(`${c.source}: fx = ${k[0]} and fy = ${k[4]} are more than 100 times apart`);
  return c;
}

/** Why a K cannot belong to an image of this size (its principal point outside it, or another size named), else undefined. */
export function cameraMismatch(c: CameraK, widthPx: number, heightPx: number): string | undefined {
  if (c.widthPx !== undefined && c.heightPx !== undefined && (c.widthPx !== widthPx || c.heightPx !== heightPx)) {
    // A phone's portrait photo is stored sideways and shown turned by its EXIF orientation (decode/orientation.ts).
    // The turned camera for orientation 6 (a quarter clockwise): fx' = fy, fy' = fx, cx' = H - 1 - cy, cy' = cx.
    const k = c.kPx;
    const turned = c.widthPx === heightPx && c.heightPx === widthPx
      ? ` as shown (turned a quarter by its EXIF orientation, if a JPEG; for orientation 6 its camera is --K ${[k[4], k[0], c.heightPx - 1 - k[5], k[2]].map((v) => +v.toFixed(6)).join(',')})`
      : '';
    return `${c.source} is for ${c.widthPx}x${c.heightPx} images, this one is ${widthPx}x${heightPx}${turned}`;
  }
  const cx = c.kPx[2], cy = c.kPx[5];
  if (!(cx > 0 && cx < widthPx && cy > 0 && cy < heightPx)) {
    return `${c.source}: principal point (${cx}, ${cy}) lies outside this ${widthPx}x${heightPx} image`;
  }
  return undefined;
}

/**
 * K of an ideal camera (square pixels, principal point at the centre) seeing hfovDeg across the image's
 * width: fx = fy = (W / 2) / tan(hfov / 2), the image spanning W px edge to edge.
 */
export function kFromHorizontalFov(widthPx: number, heightPx: number, hfovDeg: number): number[] {
  const f = widthPx / 2 / Math.tan((hfovDeg * Math.PI) / 360);
  return [f, 0, (widthPx - 1) / 2, 0, f, (heightPx - 1) / 2, 0, 0, 1];
}

/**
 * K of the same camera for its image resized from fromW x fromH to toW x toH (each axis scaled on its
 * own). Pixel centres sit at integer coordinates, so edges (-0.5, W - 0.5) map to edges:
 * c' = (c + 0.5) s - 0.5.
 */
export function scaleK(kPx: ArrayLike<number>, fromW: number, fromH: number, toW: number, toH: number): number[] {
  const sx = toW / fromW, sy = toH / fromH;
  return [kPx[0] * sx, kPx[1] * sx, (kPx[2] + 0.5) * sx - 0.5, 0, kPx[4] * sy, (kPx[5] + 0.5) * sy - 0.5, 0, 0, 1];
}

/** Horizontal field of view, degrees, of K for an image widthPx wide. */
export function horizontalFovDeg(kPx: ArrayLike<number>, widthPx: number): number {
  return (360 / Math.PI) * Math.atan(widthPx / 2 / kPx[0]);
}
