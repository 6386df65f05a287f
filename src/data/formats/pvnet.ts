import type { Dataset, DatasetImage, DatasetObject } from '../dataset';
import { boxCorners } from '../mesh';
import { parseNpy, NpyError } from '../npy';
import { listSome, type ProblemLog } from '../problems';
import { imageKindOf } from '../image';
import { basename, stem } from '../source/paths';
import type { ByteSource } from '../source/source';
import { checkBoxInImage, checkCamK, checkRotation, checkTranslation, clipBox, projectedBoxPx } from '../validate';
import { isRecord, sharedImageSize, loadMesh, meshGeometry, numberArray, readJson } from './common';
import { indexByDir, type PvnetClass } from './detect';

/**
 * PVNet's LINEMOD layout (zju3dv/clean-pvnet, lib/datasets/linemod), and clean-pvnet's custom layout
 * (its README, "Training on the custom object": rgb/<i>.jpg, mask/<i>.png, pose/pose<i>.npy with t in
 * metres, model.ply in millimetres, camera.txt 3x3, diameter.txt in metres):
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

export async function loadPvnet(source: ByteSource, root: string, classes: readonly PvnetClass[], log: ProblemLog): Promise<Dataset> {
  const byDir = indexByDir(source.paths);
  const has = new Set(source.paths);
  const rootK = await readCamera(source, root, has, log);
  const objects: DatasetObject[] = [];
  const images: DatasetImage[] = [];
  let nextId = 100;
  const splitNames = new Set<string>();
  for (const { name: cls, dir: classDir, layout } of classes) {
    const dir = classDir.replace(/\/$/, '');
    const at = (rel: string) => (dir ? `${dir}/${rel}` : rel);
    const id = kLinemodIds[cls.toLowerCase()] ?? nextId++;
    // LINEMOD layout: <class>.ply in metres; custom layout: model.ply in millimetres (either name is taken in either layout).
    const plyNames = layout === 'custom' ? ['model.ply', `${cls}.ply`] : [`${cls}.ply`, 'model.ply'];
    const plyPath = plyNames.map(at).find((p) => has.has(p)) ?? at(plyNames[0]);
    const plyInMm = basename(plyPath) === 'model.ply' && layout === 'custom';
    let mesh = has.has(plyPath) ? await loadMesh(source, plyPath, plyInMm ? 1 : 1000, log) : undefined;
    if (!has.has(plyPath)) log.add(plyPath, '', `missing: class ${cls} has no model (looked for ${plyNames.map(at).join(', ')}), its images cannot be used for training`);
    let geo = mesh ? meshGeometry(mesh) : undefined;
    if (mesh && geo && !plyInMm && geo.diameterMm > 10_000) {
      // > 10 m once scaled: the file was already in millimetres.
      log.add(plyPath, 'units', `diameter would be ${(geo.diameterMm / 1000).toFixed(0)} m if the file were in metres; read as millimetres instead`);
      mesh = { ...mesh, positions: mesh.positions.map((v) => v / 1000) };
      geo = meshGeometry(mesh);
    } else if (mesh && geo && plyInMm && geo.diameterMm < 5) {
      // < 5 mm read as millimetres: the file is in metres (a LINEMOD-style model in the custom layout).
      log.add(plyPath, 'units', `diameter would be ${geo.diameterMm.toPrecision(3)} mm if the file were in millimetres; read as metres instead`);
      mesh = { ...mesh, positions: mesh.positions.map((v) => v * 1000) };
      geo = meshGeometry(mesh);
    }
    if (geo && has.has(at('diameter.txt'))) {
      const text = new TextDecoder().decode(await source.read(at('diameter.txt'))).trim();
      const dM = Number(text);
      if (!(dM > 0)) log.add(at('diameter.txt'), 'diameter', `"${text.slice(0, 40)}" is not a positive number of metres; the model's own diameter is used`);
      else if (Math.abs(dM * 1000 - geo.diameterMm) > 0.1 * geo.diameterMm) {
        log.add(at('diameter.txt'), 'diameter', `${dM} m differs from the model's own diameter, ${(geo.diameterMm / 1000).toFixed(4)} m, by more than 10%; the model's is used`);
      }
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
    const kPx = (await readCamera(source, dir ? `${dir}/` : '', has, log)) ?? rootK ?? kLinemodK;

    const lists = new Map<number, string>();
    for (const split of ['train', 'test', 'val']) {
      const path = at(`${split}.txt`);
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
    const imageDir = at(layout === 'custom' ? 'rgb' : 'JPEGImages');
    for (const p of byDir.get(imageDir) ?? []) {
      const i = Number(stem(p));
      if (Number.isInteger(i) && /\.(jpe?g|png)$/i.test(p)) jpgs.set(i, p);
    }
    const masks = new Map<number, string>();
    const notMasks: string[] = [];
    for (const p of byDir.get(at('mask')) ?? []) {
      // Masks are matched by the number in their name, whatever its padding ('0003.png', '3.png').
      const i = /^\d+$/.test(stem(p)) ? Number(stem(p)) : NaN;
      if (Number.isInteger(i) && imageKindOf(p)) masks.set(i, p);
      else notMasks.push(basename(p));
    }
    if (notMasks.length > 0) log.add(at('mask'), '', `not a mask named by an image number (<i>.png): ${listSome(notMasks)}; ignored`);
    const poses = new Map<number, string>();
    for (const p of byDir.get(at('pose')) ?? []) {
      const m = /^pose(\d+)\.npy$/.exec(basename(p));
      if (m) poses.set(Number(m[1]), p);
    }
    const size = await sharedImageSize(source, [...jpgs.values()], log, at('JPEGImages'));
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
    if (noPose.length > 0) log.add(at('pose'), '', `no pose<i>.npy for images ${listSome(noPose)}; left out`);
    if (noImage.length > 0) log.add(imageDir, '', `no image for poses ${listSome(noImage)}; left out`);
    const noMask = indices.filter((i) => poses.has(i) && !masks.has(i));
    if (noMask.length > 0 && masks.size > 0) log.add(at('mask'), '', `no mask for images ${listSome(noMask)}; crops come from the projected model`);
    else if (noMask.length > 0) log.add(at('mask'), '', `missing: no masks for the ${noMask.length} images; crops come from the projected model, no background replacement`);
    const strayMasks = [...masks.keys()].filter((i) => !jpgs.has(i) && !poses.has(i)).sort((a, b) => a - b);
    if (strayMasks.length > 0) log.add(at('mask'), '', `masks ${listSome(strayMasks.map((i) => basename(masks.get(i)!)))} match no image and no pose; not used`);
  }
  const splits = [...splitNames].filter((s) => images.some((im) => im.split === s)).sort();
  const layout = classes.every((c) => c.layout === 'custom') ? 'pvnet-custom' : 'pvnet';
  return { format: 'pvnet', layout, name: root.replace(/\/$/, '') || source.label, objects, images, splits, problems: [], source };
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
    log.add(path, e instanceof NpyError ? 'npy' : '', `${e instanceof NpyError ? e.message : `could not be read (${String(e)})`}; instance left out`);
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
