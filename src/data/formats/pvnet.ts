import type { Dataset, DatasetImage, DatasetObject } from '../dataset';
import { boxCorners } from '../mesh';
import { parseNpy, NpyError } from '../npy';
import { listSome, type ProblemLog } from '../problems';
import { basename, stem } from '../source/paths';
import type { ByteSource } from '../source/source';
import { checkBoxInImage, checkCamK, checkRotation, checkTranslation, clipBox, projectedBoxPx } from '../validate';
import { headerSize, isRecord, loadMesh, meshGeometry, numberArray, readJson } from './common';
import { indexByDir } from './detect';

/**
 * PVNet's LINEMOD layout (zju3dv/clean-pvnet, lib/datasets/linemod):
 *   <class>/JPEGImages/<i>.jpg      <class>/mask/<i:04d>.png      <class>/pose/pose<i>.npy (3x4 [R|t], t in metres)
 *   <class>/<class>.ply (metres)    optional <class>/train.txt, test.txt (one image name or path a line)
 * One object per class folder and one instance per image. The camera is LINEMOD's unless a camera.json
 * ({"cam_K": [9]} or {fx, fy, cx, cy}) or camera.txt (3x3, row-major) sits in the class folder or the root.
 */
export const kLinemodK = Float64Array.from([572.4114, 0, 325.2611, 0, 573.57043, 242.04899, 0, 0, 1]);

/** BOP's obj_id for each LINEMOD class, so both layouts of LINEMOD give the same ids. */
const kLinemodIds: Record<string, number> = {
  ape: 1, benchvise: 2, bowl: 3, cam: 4, camera: 4, can: 5, cat: 6, cup: 7, driller: 8,
  duck: 9, eggbox: 10, glue: 11, holepuncher: 12, iron: 13, lamp: 14, phone: 15,
};
/** LINEMOD's symmetric objects, as PVNet and BOP treat them. */
const kSymmetric = new Set(['eggbox', 'glue']);

export async function loadPvnet(source: ByteSource, root: string, classes: readonly string[], log: ProblemLog): Promise<Dataset> {
  const byDir = indexByDir(source.paths);
  const has = new Set(source.paths);
  const rootK = await readCamera(source, root, has, log);
  const objects: DatasetObject[] = [];
  const images: DatasetImage[] = [];
  let nextId = 100;
  const splitNames = new Set<string>();
  for (const cls of classes) {
    const dir = `${root}${cls}`;
    const id = kLinemodIds[cls.toLowerCase()] ?? nextId++;
    const plyPath = `${dir}/${cls}.ply`;
    let mesh = has.has(plyPath) ? await loadMesh(source, plyPath, 1000, log) : undefined;
    if (!has.has(plyPath)) log.add(plyPath, '', `missing: class ${cls} has no model, its images cannot be used for training`);
    let geo = mesh ? meshGeometry(mesh) : undefined;
    if (mesh && geo && geo.diameterMm > 10_000) {
      // > 10 m once scaled: the file was already in millimetres.
      log.add(plyPath, 'units', `diameter would be ${(geo.diameterMm / 1000).toFixed(0)} m if the file were in metres; read as millimetres instead`);
      mesh = { ...mesh, positions: mesh.positions.map((v) => v / 1000) };
      geo = meshGeometry(mesh);
    }
    const obj: DatasetObject = {
      id,
      name: cls,
      mesh,
      meshPath: mesh ? plyPath : undefined,
      diameterMm: geo?.diameterMm ?? NaN,
      symmetric: kSymmetric.has(cls.toLowerCase()),
      boundsMm: geo?.boundsMm ?? { min: [0, 0, 0], max: [0, 0, 0] },
    };
    objects.push(obj);
    const kPx = (await readCamera(source, `${dir}/`, has, log)) ?? rootK ?? kLinemodK;

    const lists = new Map<number, string>();
    for (const split of ['train', 'test', 'val']) {
      const path = `${dir}/${split}.txt`;
      if (!has.has(path)) continue;
      splitNames.add(split);
      const text = new TextDecoder().decode(await source.read(path));
      for (const line of text.split(/\r?\n/)) {
        const name = line.trim();
        if (!name) continue;
        const i = Number(stem(basename(name)));
        if (!Number.isInteger(i)) log.add(path, name, 'not an image index or name; ignored');
        else lists.set(i, split);
      }
    }
    const jpgs = new Map<number, string>();
    for (const p of byDir.get(`${dir}/JPEGImages`) ?? []) {
      const i = Number(stem(p));
      if (Number.isInteger(i) && /\.(jpe?g|png)$/i.test(p)) jpgs.set(i, p);
    }
    const masks = new Map<number, string>();
    for (const p of byDir.get(`${dir}/mask`) ?? []) {
      const i = Number(stem(p));
      if (Number.isInteger(i)) masks.set(i, p);
    }
    const poses = new Map<number, string>();
    for (const p of byDir.get(`${dir}/pose`) ?? []) {
      const m = /^pose(\d+)\.npy$/.exec(basename(p));
      if (m) poses.set(Number(m[1]), p);
    }
    const first = [...jpgs.values()].sort()[0];
    const size = (first ? await headerSize(source, first, log) : undefined) ?? { widthPx: 640, heightPx: 480 };
    const noPose: number[] = [];
    const noImage: number[] = [];
    for (const i of [...poses.keys()]) if (!jpgs.has(i)) noImage.push(i);
    const indices = [...jpgs.keys()].sort((a, b) => a - b);
    // Poses are read concurrently: a LINEMOD class has ~1,200 of them.
    const read = await Promise.all(indices.map(async (i) => (poses.has(i) ? readPose(source, poses.get(i)!, log) : undefined)));
    indices.forEach((i, n) => {
      const posePath = poses.get(i);
      if (!posePath) {
        noPose.push(i);
        return;
      }
      const pose = read[n];
      const image: DatasetImage = {
        key: `${cls}/${i}`,
        split: lists.get(i) ?? (lists.size > 0 ? 'unlisted' : 'all'),
        scene: cls,
        imId: i,
        rgbPath: jpgs.get(i)!,
        kPx,
        widthPx: size.widthPx,
        heightPx: size.heightPx,
        instances: [],
      };
      splitNames.add(image.split);
      if (pose) {
        const proj = projectedBoxPx(boxCorners(obj.boundsMm), pose.r, pose.tMm, kPx);
        const outside = proj ? checkBoxInImage(proj, size.widthPx, size.heightPx) : undefined;
        if (outside) log.add(posePath, 'pose', `${outside}; instance left out`, 'pose projects outside the image');
        else {
          image.instances.push({
            objId: id,
            gtId: 0,
            rM2c: pose.r,
            tM2cMm: pose.tMm,
            bboxPx: proj ? clipBox(proj, size.widthPx, size.heightPx) : [0, 0, size.widthPx, size.heightPx],
            maskVisibPath: masks.get(i),
          });
        }
      }
      images.push(image);
    });
    if (noPose.length > 0) log.add(`${dir}/pose`, '', `no pose<i>.npy for images ${listSome(noPose)}; left out`);
    if (noImage.length > 0) log.add(`${dir}/JPEGImages`, '', `no image for poses ${listSome(noImage)}; left out`);
    const noMask = indices.filter((i) => poses.has(i) && !masks.has(i));
    if (noMask.length > 0) log.add(`${dir}/mask`, '', `no mask for images ${listSome(noMask)}; crops come from the projected model`);
  }
  const splits = [...splitNames].filter((s) => images.some((im) => im.split === s)).sort();
  return { format: 'pvnet', name: root.replace(/\/$/, '') || source.label, objects, images, splits, problems: [], source };
}

async function readPose(source: ByteSource, path: string, log: ProblemLog): Promise<{ r: Float64Array; tMm: Float64Array } | undefined> {
  try {
    const a = parseNpy(await source.read(path));
    if (a.shape.length !== 2 || a.shape[0] !== 3 || a.shape[1] !== 4) {
      log.add(path, 'shape', `is (${a.shape.join(', ')}), (3, 4) [R|t] expected; instance left out`);
      return undefined;
    }
    const d = a.data;
    const r = Float64Array.from([d[0], d[1], d[2], d[4], d[5], d[6], d[8], d[9], d[10]]);
    const tMm = Float64Array.from([d[3] * 1000, d[7] * 1000, d[11] * 1000]);
    const why = checkRotation(r);
    if (why) {
      log.add(path, 'R', `${why}; instance left out`, 'R: not a rotation');
      return undefined;
    }
    const tWhy = checkTranslation(tMm);
    if (tWhy) {
      log.add(path, 't', `${tWhy}; instance left out`);
      return undefined;
    }
    return { r, tMm };
  } catch (e) {
    log.add(path, '', `${e instanceof NpyError ? e.message : `could not be read (${String(e)})`}; instance left out`);
    return undefined;
  }
}

/** camera.json or camera.txt in dir (with trailing '/'), if there is one. */
async function readCamera(source: ByteSource, dir: string, has: Set<string>, log: ProblemLog): Promise<Float64Array | undefined> {
  const jsonPath = `${dir}camera.json`;
  const txtPath = `${dir}camera.txt`;
  let k: number[] | undefined;
  let path = '';
  if (has.has(jsonPath)) {
    path = jsonPath;
    const j = await readJson(source, jsonPath, log);
    if (isRecord(j)) {
      k = numberArray(j.cam_K, 9);
      if (!k && [j.fx, j.fy, j.cx, j.cy].every((v) => typeof v === 'number')) {
        k = [j.fx as number, 0, j.cx as number, 0, j.fy as number, j.cy as number, 0, 0, 1];
      }
    }
  } else if (has.has(txtPath)) {
    path = txtPath;
    const nums = new TextDecoder().decode(await source.read(txtPath)).trim().split(/\s+/).map(Number);
    k = nums.length === 9 && nums.every(Number.isFinite) ? nums : undefined;
  } else {
    return undefined;
  }
  const why = k ? checkCamK(k) : 'no cam_K [9], fx/fy/cx/cy or 3x3 numbers';
  if (why || !k) {
    log.add(path, 'cam_K', `${why}; the LINEMOD camera is used instead`);
    return undefined;
  }
  return Float64Array.from(k);
}
