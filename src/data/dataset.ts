import type { Box3, Mesh } from './mesh';
import type { Problem } from './problems';
import type { ByteSource } from './source/source';
import type { TestTargets } from './targets';

/**
 * The one dataset model every format loads into; nothing downstream knows whether it came from BOP or
 * PVNet. Conventions (ARCHITECTURE.md): millimetres for meshes and translations, pixels for images,
 * 3x3 matrices row-major [9] as BOP stores them, poses model-to-camera (X_cam = R X_model + t), OpenCV
 * camera (x right, y down, z forward; pixel centres at integer coordinates).
 */
export interface DatasetObject {
  id: number;
  name: string;
  /** Millimetres; undefined when the model file is missing or unreadable (a problem says why). */
  mesh?: Mesh;
  /** Where the mesh came from (its texture, if any, is looked up beside it). */
  meshPath?: string;
  diameterMm: number;
  /**
   * BOP models_info symmetries_discrete / symmetries_continuous (the dataset's official list where a
   * known BOP dataset has no models_info), or a known symmetric LINEMOD class (eggbox, glue).
   */
  symmetric: boolean;
  /** BOP models_eval/ mesh (mm), when the dataset has one: what ADD(-S) and 2D projection use, as the BOP toolkit does. */
  evalMesh?: Mesh;
  evalMeshPath?: string;
  /** The evaluation model's diameter (models_eval/models_info.json, else its mesh): the ADD(-S) threshold's base. */
  evalDiameterMm?: number;
  /** Axis-aligned bounds in the model frame, mm. */
  boundsMm: Box3;
}

export type BoxPx = [x: number, y: number, w: number, h: number];

export interface Instance {
  objId: number;
  /** Index of this instance in its image's ground-truth list (BOP gt_id: names the mask files). */
  gtId: number;
  /** [9] row-major rotation, model to camera */
  rM2c: Float64Array;
  /** [3] translation, model to camera, mm */
  tM2cMm: Float64Array;
  /** Whole object's box [x, y, w, h] px: BOP bbox_obj, else the projected model bounds clipped to the image. */
  bboxPx: BoxPx;
  /** Visible part's box, when known (BOP bbox_visib). */
  bboxVisibPx?: BoxPx;
  /** Fraction of the object's pixels that are visible, when known (BOP visib_fract). */
  visibFract?: number;
  /** Mask of the whole object (BOP mask/), when present. */
  maskPath?: string;
  /** Mask of the visible part (BOP mask_visib/; PVNet's mask/), when present. */
  maskVisibPath?: string;
}

export interface DatasetImage {
  /** Unique, stable key: '<split>/<scene>/<im_id>' (BOP) or '<class>/<index>' (PVNet). */
  key: string;
  split: string;
  scene: string;
  imId: number;
  rgbPath: string;
  depthPath?: string;
  /** Depth PNG value times depthScale = mm (BOP depth_scale). */
  depthScale?: number;
  /** [9] row-major intrinsics, px */
  kPx: Float64Array;
  widthPx: number;
  heightPx: number;
  instances: Instance[];
}

export type DatasetFormat = 'bop' | 'pvnet';

/**
 * The layout found, for reports: BOP, PVNet's LINEMOD layout, clean-pvnet's custom layout, or none of
 * them ('unknown': the dataset is then empty and its problems say what was looked for and found).
 */
export type DatasetLayout = 'bop' | 'pvnet' | 'pvnet-custom' | 'unknown';

export interface Dataset {
  format: DatasetFormat;
  /** Undefined in datasets made by hand (tests); the loaders always set it. */
  layout?: DatasetLayout;
  name: string;
  objects: DatasetObject[];
  images: DatasetImage[];
  /** Split names the dataset itself defines (BOP split folders; PVNet train/test lists, else 'all'). */
  splits: string[];
  problems: Problem[];
  source: ByteSource;
  /** BOP test_targets_bop19.json, when the dataset has it: what evaluation covers (targets.ts). */
  testTargets?: TestTargets;
}

export function objectById(ds: Dataset, id: number): DatasetObject | undefined {
  return ds.objects.find((o) => o.id === id);
}

export interface SplitCount {
  split: string;
  images: number;
  instances: number;
  /** Instances with a mask of the whole object (BOP mask/). */
  masks: number;
  /** Instances with a mask of the visible part (BOP mask_visib/, PVNet's mask/). */
  masksVisib: number;
}

export function countBySplit(ds: Dataset): SplitCount[] {
  const m = new Map<string, SplitCount>();
  for (const im of ds.images) {
    let c = m.get(im.split);
    if (!c) m.set(im.split, (c = { split: im.split, images: 0, instances: 0, masks: 0, masksVisib: 0 }));
    c.images++;
    c.instances += im.instances.length;
    for (const ins of im.instances) {
      if (ins.maskPath) c.masks++;
      if (ins.maskVisibPath) c.masksVisib++;
    }
  }
  return [...m.values()].sort((a, b) => a.split.localeCompare(b.split));
}

export interface CameraUse {
  kPx: Float64Array;
  widthPx: number;
  heightPx: number;
  images: number;
}

/** Distinct (K, image size) pairs and how many images use each. */
export function camerasOf(ds: Dataset): CameraUse[] {
  const m = new Map<string, CameraUse>();
  for (const im of ds.images) {
    const key = `${Array.from(im.kPx).map((v) => v.toPrecision(9)).join(',')}|${im.widthPx}x${im.heightPx}`;
    const c = m.get(key);
    if (c) c.images++;
    else m.set(key, { kPx: im.kPx, widthPx: im.widthPx, heightPx: im.heightPx, images: 1 });
  }
  return [...m.values()].sort((a, b) => b.images - a.images);
}

/** Something to train on: at least one object with a model and one image with an instance of it. */
export function isUsable(ds: Dataset): boolean {
  const withMesh = new Set(ds.objects.filter((o) => o.mesh).map((o) => o.id));
  return ds.images.some((im) => im.instances.some((ins) => withMesh.has(ins.objId)));
}
