import { boundsOf, diameterOf, scaleMesh, type Mesh } from '../mesh';
import { parsePly, PlyError } from '../ply';
import type { ProblemLog } from '../problems';
import type { ByteSource } from '../source/source';
import { imageKindOf, sniffImageSize } from '../image';

/** Helpers the format loaders share: JSON and PLY reading that report instead of throwing. */

export async function readJson(source: ByteSource, path: string, log: ProblemLog): Promise<unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8').decode(await source.read(path));
  } catch (e) {
    log.add(path, '', `could not be read (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    log.add(path, 'JSON', `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function numberArray(v: unknown, n: number): number[] | undefined {
  if (!Array.isArray(v) || v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) return undefined;
  return v as number[];
}

/**
 * Reads a PLY, scales it to mm by unitToMm, and reports a mesh without faces (kept as a point cloud:
 * keypoints then come from its vertices). Undefined, with a problem, when it cannot be read.
 */
export async function loadMesh(source: ByteSource, path: string, unitToMm: number, log: ProblemLog): Promise<Mesh | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await source.read(path);
  } catch (e) {
    log.add(path, '', `could not be read (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
  try {
    const { mesh, hasFaces } = parsePly(bytes);
    if (!hasFaces) log.add(path, 'element face', 'the PLY has no faces: used as a point cloud (no surface sampling, no rendering)');
    return unitToMm === 1 ? mesh : scaleMesh(mesh, unitToMm);
  } catch (e) {
    if (e instanceof PlyError) log.add(path, e.field, `${e.message}; model not loaded`);
    else log.add(path, '', `could not be parsed (${e instanceof Error ? e.message : String(e)}); model not loaded`);
    return undefined;
  }
}

export function meshGeometry(mesh: Mesh): { boundsMm: ReturnType<typeof boundsOf>; diameterMm: number } {
  return { boundsMm: boundsOf(mesh.positions), diameterMm: diameterOf(mesh.positions) };
}

/**
 * The size shared by a folder's images (a BOP scene, a PVNet class): the first readable header among
 * them in path order (an unreadable one is a problem line and the next is tried, so one corrupt image
 * does not give its neighbours a wrong size); 640x480, said in a problem line, when none is readable.
 */
export async function sharedImageSize(source: ByteSource, paths: readonly string[], log: ProblemLog, folder: string): Promise<{ widthPx: number; heightPx: number }> {
  for (const p of [...paths].sort()) {
    const s = await headerSize(source, p, log);
    if (s) return s;
  }
  if (paths.length > 0) log.add(folder, 'image size', 'no image header could be read; 640x480 assumed');
  return { widthPx: 640, heightPx: 480 };
}

/** Size of an image from its header; undefined (with a problem) when the header is unreadable. */
export async function headerSize(source: ByteSource, path: string, log: ProblemLog): Promise<{ widthPx: number; heightPx: number } | undefined> {
  const kind = imageKindOf(path);
  if (!kind) return undefined;
  try {
    let s = sniffImageSize(await source.readHead(path, 64 * 1024), kind);
    if (!s.ok && kind === 'jpeg') s = sniffImageSize(await source.read(path), kind);
    if (s.ok) return s;
    log.add(path, 'image', `corrupt or unreadable image (${s.reason})`, 'corrupt or unreadable image');
  } catch (e) {
    log.add(path, 'image', `could not be read (${e instanceof Error ? e.message : String(e)})`, 'corrupt or unreadable image');
  }
  return undefined;
}
