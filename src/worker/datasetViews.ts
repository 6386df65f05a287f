/**
 * The worker's dataset: opening it (served folder or dropped files) and what the page is shown of it,
 * the summary, an image with its instances' masks tinted, and the objects' geometry for three.js.
 */
import { countBySplit, isUsable, type Dataset } from '../data/dataset';
import { keypointsOf } from '../data/keypoints';
import { loadDataset } from '../data/load';
import { decodeMask } from '../data/mask';
import { openDroppedFiles, type DroppedFile } from '../data/source/dropped';
import { ignoredMessage } from '../data/source/paths';
import { UrlSource } from '../data/source/url';
import type { DatasetSummary, DroppedBlob, ImageView, ObjectGeometry, ProgressCallback } from './protocol';

/** Tints for instance masks, by object id. */
const kMaskColours: [number, number, number][] = [[0, 200, 255], [255, 170, 0], [120, 255, 90], [255, 80, 200], [180, 130, 255]];

export interface LoadedDataset {
  ds: Dataset;
  origin: 'bundled' | 'dropped';
  /** The served folder (origin 'bundled'). */
  url?: string;
  /** The dropped files (origin 'dropped'), kept to store with a run. */
  files?: DroppedBlob[];
}

/** The dataset served at url (a folder with manifest.json). */
export async function openUrl(url: string, onProgress: ProgressCallback): Promise<LoadedDataset> {
  onProgress({ phase: 'listing', done: 0, total: 0 });
  // A bound fetch: UrlSource calls its fetchFn as a method, and the worker's fetch refuses another `this`.
  const source = await UrlSource.open(url, (input, init) => fetch(input, init));
  onProgress({ phase: 'indexing', done: 0, total: source.paths.length });
  const ds = await loadDataset(source);
  onProgress({ phase: 'done', done: 1, total: 1 });
  return { ds, origin: 'bundled', url };
}

/** Dropped files and folders (zips are opened); every image and mask is checked. */
export async function openFiles(files: DroppedBlob[], onProgress: ProgressCallback): Promise<LoadedDataset> {
  onProgress({ phase: 'listing', done: 0, total: files.length });
  const dropped: DroppedFile[] = files.map((f) => ({ path: f.path, file: f.file }));
  const source = await openDroppedFiles(dropped);
  onProgress({ phase: 'indexing', done: 0, total: source.paths.length });
  let last = 0;
  const ds = await loadDataset(source, {
    checkFiles: {
      onProgress: (done, total) => {
        const now = performance.now();
        if (now - last > 50 || done === total) { last = now; onProgress({ phase: 'checking', done, total }); }
      },
    },
  });
  onProgress({ phase: 'done', done: 1, total: 1 });
  return { ds, origin: 'dropped', files };
}

/** What the page lists of a dataset; label, when given, replaces the source's own (a dropped zip is labelled by its name). */
export function summaryOf(l: LoadedDataset, label?: string): DatasetSummary {
  const { ds } = l;
  const counts = new Map<number, number>();
  for (const im of ds.images) for (const ins of im.instances) counts.set(ins.objId, (counts.get(ins.objId) ?? 0) + 1);
  const splits = countBySplit(ds);
  return {
    label: label ?? ds.source.label, name: ds.name, format: ds.layout ?? ds.format, origin: l.origin,
    images: ds.images.length, instances: splits.reduce((n, s) => n + s.instances, 0), splits,
    objects: ds.objects.map((o) => ({ id: o.id, name: o.name, diameterMm: o.diameterMm, symmetric: o.symmetric, hasMesh: !!o.mesh, instances: counts.get(o.id) ?? 0 })),
    // The litter the source left out (a dropped zip's __MACOSX/, split zips counted as their one tree) is
    // said first, in the line `npm run dataset` prints; the drop's own folder walk says its own (collectDrop).
    problems: [
      ...(ds.source.ignored && ds.source.ignored.count > 0 ? [{ file: label ?? ds.source.label, field: '', message: ignoredMessage(ds.source.ignored) }] : []),
      ...ds.problems.map((p) => ({ file: p.file, field: p.field, message: p.message })),
    ],
    usable: isUsable(ds),
    imageKeys: ds.images.map((im) => im.key),
  };
}

/** Image `index` as stored, with its ground truth and its instances' visible masks tinted by object. */
export async function imageView(ds: Dataset, index: number): Promise<ImageView> {
  const im = ds.images[index];
  if (!im) throw new Error(`image ${index} of ${ds.images.length} asked for`);
  const rgbBytes = (await ds.source.read(im.rgbPath)).slice();
  let maskRgba: Uint8Array | undefined;
  for (const ins of im.instances) {
    const path = ins.maskVisibPath ?? ins.maskPath;
    if (!path) continue;
    try {
      // Object pixels as training reads them (non-zero: 0/1, 0/255, 16-bit, palette masks alike).
      const m = decodeMask(await ds.source.read(path), /\.png$/i.test(path) ? 'png' : 'jpeg');
      if (m.widthPx !== im.widthPx || m.heightPx !== im.heightPx) continue;
      maskRgba ??= new Uint8Array(im.widthPx * im.heightPx * 4);
      const [r, g, b] = kMaskColours[ins.objId % kMaskColours.length];
      for (let p = 0; p < im.widthPx * im.heightPx; p++) {
        if (m.rgba[4 * p] >= 128) {
          maskRgba[4 * p] = r; maskRgba[4 * p + 1] = g; maskRgba[4 * p + 2] = b; maskRgba[4 * p + 3] = 110;
        }
      }
    } catch {
      // An unreadable mask was already reported by validation; the view shows the image without it.
    }
  }
  return {
    index, key: im.key, split: im.split, widthPx: im.widthPx, heightPx: im.heightPx, kPx: Array.from(im.kPx),
    rgbBytes, rgbMime: /\.png$/i.test(im.rgbPath) ? 'image/png' : 'image/jpeg', maskRgba,
    instances: im.instances.map((ins) => ({
      objId: ins.objId, rM2c: Array.from(ins.rM2c), tM2cMm: Array.from(ins.tM2cMm), bboxPx: ins.bboxPx, visibFract: ins.visibFract,
    })),
  };
}

/**
 * The objects' meshes and keypoints for three.js, made once per object. The keypoints drawn are those
 * of the run or imported model in use, else a default choice (FPS on the mesh, or the box's corners).
 */
export class ObjectGeometries {
  private readonly cache = new Map<number, ObjectGeometry>();
  private modelKeypoints = new Map<number, Float64Array>();

  /** The keypoints of the model now in use (one object's): its geometry is made again with them. */
  useKeypoints(objId: number, keypointsMm: Float64Array): void {
    this.modelKeypoints = new Map([[objId, keypointsMm]]);
    this.cache.delete(objId);
  }

  clear(): void {
    this.cache.clear();
  }

  get(ds: Dataset, objId: number): ObjectGeometry | undefined {
    const hit = this.cache.get(objId);
    if (hit) return hit;
    const obj = ds.objects.find((o) => o.id === objId);
    if (!obj) return undefined;
    const kp = this.modelKeypoints.get(objId) ?? keypointsOf(obj, obj.mesh ? { kind: 'fps', count: 8, surfaceSamples: 10_000, seed: 0 } : { kind: 'bbox' }).pointsMm;
    const g: ObjectGeometry = {
      objId, name: obj.name,
      positions: obj.mesh ? Float32Array.from(obj.mesh.positions) : new Float32Array(0),
      faces: obj.mesh ? Uint32Array.from(obj.mesh.faces) : new Uint32Array(0),
      boundsMm: obj.boundsMm, diameterMm: obj.diameterMm, keypointsMm: Float32Array.from(kp),
    };
    this.cache.set(objId, g);
    return g;
  }
}
