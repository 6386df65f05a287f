import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { loadDataset } from '../../src/data/load';
import { writeNpy } from '../../src/data/npy';
import { problemLine, type Problem } from '../../src/data/problems';
import { openNodePath } from '../../src/data/source/node';
import { bytesAccess } from '../../src/data/source/randomAccess';
import { MemorySource, type ByteSource } from '../../src/data/source/source';
import { kDefaultZipLimits, ZipError, ZipSource } from '../../src/data/source/zip';
import { bopFixture, kH, kW, maskPng, pvnetFixture, rotationOf, writeTree, type Files } from './fixtures';

/**
 * A generated corpus of malformed datasets (issue 13, "Proven by"): each case breaks one thing in a
 * valid BOP or PVNet fixture. For every case: loading never throws, the problem is named by its file
 * and field, and the valid rest still loads (at least the images the case does not touch).
 */
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const R = 'c/'; // the BOP fixture's root
const TRAIN = `${R}train/000000`;
const TEST = `${R}test/000001`;
const LM = 'LINEMOD/';

interface Case {
  name: string;
  kind: 'bop' | 'pvnet';
  /** Changes the fixture; may return a whole source instead (zips, folders with links). */
  edit: (f: Files) => void | Promise<ByteSource>;
  /** The problem the case must produce: its file, and its field (a RegExp over the field). */
  file: string | RegExp;
  field: RegExp;
  /** Images that must still load (the fixture has 5 BOP images, 8 PVNet images). */
  minImages: number;
}

function editJson(f: Files, path: string, fn: (j: any) => unknown): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const j = JSON.parse(dec(f.get(path)!));
  const out = fn(j);
  f.set(path, enc(JSON.stringify(out === undefined ? j : out)));
}
const truncate = (f: Files, path: string): void => { f.set(path, f.get(path)!.subarray(0, Math.floor(f.get(path)!.length / 2))); };
const plyAscii = (header: string, body: string) => enc(`ply\nformat ascii 1.0\n${header}end_header\n${body}`);
const zipSource = (files: Files, limits = kDefaultZipLimits) => ZipSource.open('corpus.zip', bytesAccess(zipSync(Object.fromEntries(files))), limits);

const cases: Case[] = [
  // Truncated and wrong-typed JSON
  { name: 'truncated scene_gt.json', kind: 'bop', edit: (f) => truncate(f, `${TRAIN}/scene_gt.json`), file: `${TRAIN}/scene_gt.json`, field: /^JSON$/, minImages: 2 },
  { name: 'truncated scene_camera.json', kind: 'bop', edit: (f) => truncate(f, `${TEST}/scene_camera.json`), file: `${TEST}/scene_camera.json`, field: /^JSON$/, minImages: 3 },
  { name: 'truncated scene_gt_info.json', kind: 'bop', edit: (f) => truncate(f, `${TRAIN}/scene_gt_info.json`), file: `${TRAIN}/scene_gt_info.json`, field: /^JSON$/, minImages: 5 },
  { name: 'truncated models_info.json', kind: 'bop', edit: (f) => truncate(f, `${R}models/models_info.json`), file: `${R}models/models_info.json`, field: /^JSON$/, minImages: 5 },
  { name: 'empty scene_gt.json', kind: 'bop', edit: (f) => f.set(`${TEST}/scene_gt.json`, new Uint8Array(0)), file: `${TEST}/scene_gt.json`, field: /^JSON$/, minImages: 3 },
  { name: 'scene_gt.json is a list', kind: 'bop', edit: (f) => editJson(f, `${TEST}/scene_gt.json`, (j) => Object.values(j)), file: `${TEST}/scene_gt.json`, field: /^top level$/, minImages: 3 },
  { name: 'scene_camera.json is a number', kind: 'bop', edit: (f) => f.set(`${TEST}/scene_camera.json`, enc('42')), file: `${TEST}/scene_camera.json`, field: /^top level$/, minImages: 3 },
  { name: 'models_info.json is a list', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => Object.values(j)), file: `${R}models/models_info.json`, field: /^top level$/, minImages: 5 },
  { name: 'scene_gt_info.json is a string', kind: 'bop', edit: (f) => f.set(`${TRAIN}/scene_gt_info.json`, enc('"boxes"')), file: `${TRAIN}/scene_gt_info.json`, field: /^top level$/, minImages: 5 },
  { name: 'an image entry is a string', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['1'] = 'pose'; }), file: `${TRAIN}/scene_gt.json`, field: /^"1"$/, minImages: 4 },
  { name: 'a gt entry is a number', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['0'][1] = 7; }), file: `${TRAIN}/scene_gt.json`, field: /^"0"\[1\]$/, minImages: 5 },
  { name: 'obj_id is a string', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['0'][0].obj_id = '1'; }), file: `${TRAIN}/scene_gt.json`, field: /^"0"\[0\]\.obj_id$/, minImages: 5 },
  { name: 'an im_id key that is not a number', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j.abc = []; }), file: `${TRAIN}/scene_gt.json`, field: /^"abc"$/, minImages: 5 },
  { name: 'models_info key not an obj_id', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => { j.abc = {}; }), file: `${R}models/models_info.json`, field: /^"abc"$/, minImages: 5 },
  { name: 'models_info entry is a number', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => { j['7'] = 3; }), file: `${R}models/models_info.json`, field: /^"7"$/, minImages: 5 },
  { name: 'symmetries_discrete is a string', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => { j['1'].symmetries_discrete = 'z'; }), file: `${R}models/models_info.json`, field: /^"1"\.symmetries_discrete$/, minImages: 5 },
  { name: 'diameter is a string', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => { j['1'].diameter = '173'; }), file: `${R}models/models_info.json`, field: /^"1"\.diameter$/, minImages: 5 },
  { name: 'bbox_obj is a string', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt_info.json`, (j) => { j['0'][0].bbox_obj = '1 2 3 4'; }), file: `${TRAIN}/scene_gt_info.json`, field: /^"0"\[0\]\.bbox_obj$/, minImages: 5 },
  { name: 'visib_fract out of [0, 1]', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt_info.json`, (j) => { j['1'][1].visib_fract = 3; }), file: `${TRAIN}/scene_gt_info.json`, field: /^"1"\[1\]\.visib_fract$/, minImages: 5 },
  { name: 'test targets truncated', kind: 'bop', edit: (f) => f.set(`${R}test_targets_bop19.json`, enc('[{"scene_id": 1, "im_')), file: `${R}test_targets_bop19.json`, field: /^JSON$/, minImages: 5 },
  { name: 'test target with a string im_id', kind: 'bop', edit: (f) => f.set(`${R}test_targets_bop19.json`, enc('[{"scene_id": 1, "im_id": "0", "obj_id": 1, "inst_count": 1}]')), file: `${R}test_targets_bop19.json`, field: /^\[0\]\.im_id$/, minImages: 5 },
  // Non-rotations, NaN, negative sizes, bad cameras
  { name: 'cam_R_m2c scaled by 2', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['0'][0].cam_R_m2c = j['0'][0].cam_R_m2c.map((v: number) => 2 * v); }), file: `${TRAIN}/scene_gt.json`, field: /^"0"\[0\]\.cam_R_m2c$/, minImages: 5 },
  { name: 'cam_R_m2c a reflection', kind: 'bop', edit: (f) => editJson(f, `${TEST}/scene_gt.json`, (j) => { j['0'][0].cam_R_m2c = [-1, 0, 0, 0, 1, 0, 0, 0, 1]; }), file: `${TEST}/scene_gt.json`, field: /^"0"\[0\]\.cam_R_m2c$/, minImages: 5 },
  { name: 'cam_R_m2c holds "NaN"', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['2'][0].cam_R_m2c[4] = 'NaN'; }), file: `${TRAIN}/scene_gt.json`, field: /^"2"\[0\]\.cam_R_m2c$/, minImages: 5 },
  { name: 'cam_R_m2c with 8 values', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['1'][1].cam_R_m2c.pop(); }), file: `${TRAIN}/scene_gt.json`, field: /^"1"\[1\]\.cam_R_m2c$/, minImages: 5 },
  { name: 'cam_R_m2c all zeros', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['1'][0].cam_R_m2c = new Array(9).fill(0); }), file: `${TRAIN}/scene_gt.json`, field: /^"1"\[0\]\.cam_R_m2c$/, minImages: 5 },
  { name: 'cam_t_m2c behind the camera', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['0'][1].cam_t_m2c[2] = -700; }), file: `${TRAIN}/scene_gt.json`, field: /^"0"\[1\]\.cam_t_m2c$/, minImages: 5 },
  { name: 'cam_t_m2c with 2 values', kind: 'bop', edit: (f) => editJson(f, `${TEST}/scene_gt.json`, (j) => { j['1'][0].cam_t_m2c = [1, 2]; }), file: `${TEST}/scene_gt.json`, field: /^"1"\[0\]\.cam_t_m2c$/, minImages: 5 },
  { name: 'cam_t_m2c null', kind: 'bop', edit: (f) => editJson(f, `${TEST}/scene_gt.json`, (j) => { j['1'][0].cam_t_m2c = null; }), file: `${TEST}/scene_gt.json`, field: /^"1"\[0\]\.cam_t_m2c$/, minImages: 5 },
  { name: 'a pose far outside the image', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['2'][1].cam_t_m2c = [90000, 0, 700]; }), file: `${TRAIN}/scene_gt.json`, field: /^"2"\[1\]$/, minImages: 5 },
  { name: 'cam_K with a negative focal length', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_camera.json`, (j) => { j['0'].cam_K[0] = -150; }), file: `${TRAIN}/scene_camera.json`, field: /^"0"\.cam_K$/, minImages: 4 },
  { name: 'cam_K with a bad last row', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_camera.json`, (j) => { j['1'].cam_K[8] = 0; }), file: `${TRAIN}/scene_camera.json`, field: /^"1"\.cam_K$/, minImages: 4 },
  { name: 'cam_K a string', kind: 'bop', edit: (f) => editJson(f, `${TEST}/scene_camera.json`, (j) => { j['0'].cam_K = 'K'; }), file: `${TEST}/scene_camera.json`, field: /^"0"\.cam_K$/, minImages: 4 },
  { name: 'no camera entry for an image', kind: 'bop', edit: (f) => editJson(f, `${TEST}/scene_camera.json`, (j) => { delete j['1']; }), file: `${TEST}/scene_camera.json`, field: /^"1"\.cam_K$/, minImages: 4 },
  { name: 'negative size_y', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => { j['2'].size_y = -60; }), file: `${R}models/models_info.json`, field: /^"2"\.size_y$/, minImages: 5 },
  { name: 'negative diameter', kind: 'bop', edit: (f) => editJson(f, `${R}models/models_info.json`, (j) => { j['1'].diameter = -5; }), file: `${R}models/models_info.json`, field: /^"1"\.diameter$/, minImages: 5 },
  { name: 'negative bbox_visib width', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt_info.json`, (j) => { j['2'][0].bbox_visib = [1, 1, -20, 5]; }), file: `${TRAIN}/scene_gt_info.json`, field: /^"2"\[0\]\.bbox_visib$/, minImages: 5 },
  // Missing and extra files
  { name: 'missing scene_gt.json', kind: 'bop', edit: (f) => { f.delete(`${TEST}/scene_gt.json`); }, file: `${TEST}/scene_gt.json`, field: /^$/, minImages: 3 },
  { name: 'missing scene_camera.json', kind: 'bop', edit: (f) => { f.delete(`${TRAIN}/scene_camera.json`); }, file: `${TRAIN}/scene_camera.json`, field: /^$/, minImages: 2 },
  { name: 'missing models_info.json', kind: 'bop', edit: (f) => { f.delete(`${R}models/models_info.json`); }, file: `${R}models/models_info.json`, field: /^$/, minImages: 5 },
  { name: 'missing obj ply', kind: 'bop', edit: (f) => { f.delete(`${R}models/obj_000002.ply`); }, file: `${R}models/obj_000002.ply`, field: /^$/, minImages: 5 },
  { name: 'missing rgb file', kind: 'bop', edit: (f) => { f.delete(`${TRAIN}/rgb/000001.png`); }, file: `${TRAIN}/rgb`, field: /^$/, minImages: 4 },
  { name: 'extra rgb file without ground truth', kind: 'bop', edit: (f) => { f.set(`${TRAIN}/rgb/000099.png`, f.get(`${TRAIN}/rgb/000000.png`)!); }, file: `${TRAIN}/scene_gt.json`, field: /^$/, minImages: 5 },
  { name: 'extra unknown obj_id', kind: 'bop', edit: (f) => editJson(f, `${TRAIN}/scene_gt.json`, (j) => { j['0'].push({ ...j['0'][0], obj_id: 99 }); }), file: `${TRAIN}/scene_gt.json`, field: /^"0"\[\d+\]\.obj_id$/, minImages: 5 },
  { name: 'extra mask matching no instance', kind: 'bop', edit: (f) => { f.set(`${TRAIN}/mask/000000_000005.png`, f.get(`${TRAIN}/mask/000000_000000.png`)!); }, file: `${TRAIN}/mask`, field: /^$/, minImages: 5 },
  { name: 'extra misnamed file among masks', kind: 'bop', edit: (f) => { f.set(`${TRAIN}/mask_visib/mask.png`, f.get(`${TRAIN}/mask/000000_000000.png`)!); }, file: `${TRAIN}/mask_visib`, field: /^$/, minImages: 5 },
  // Corrupt images and masks
  { name: 'corrupt rgb PNG', kind: 'bop', edit: (f) => { f.set(`${TRAIN}/rgb/000002.png`, enc('not a png at all')); }, file: `${TRAIN}/rgb/000002.png`, field: /^image$/, minImages: 4 },
  { name: 'truncated rgb PNG', kind: 'bop', edit: (f) => truncate(f, `${TEST}/rgb/000000.png`), file: `${TEST}/rgb/000000.png`, field: /^image$/, minImages: 4 },
  { name: 'corrupt mask', kind: 'bop', edit: (f) => { f.set(`${TRAIN}/mask_visib/000001_000001.png`, enc('\x89PNG garbage')); }, file: `${TRAIN}/mask_visib/000001_000001.png`, field: /^mask$/, minImages: 5 },
  { name: 'mask of the wrong size', kind: 'bop', edit: (f) => { f.set(`${TRAIN}/mask/000002_000000.png`, maskPng([1, 1, 5, 5], kW / 2, kH / 2)); }, file: `${TRAIN}/mask/000002_000000.png`, field: /^size$/, minImages: 5 },
  { name: 'empty mask of a visible instance', kind: 'bop', edit: (f) => { f.set(`${TEST}/mask_visib/000001_000000.png`, maskPng([0, 0, 0, 0])); }, file: `${TEST}/mask_visib/000001_000000.png`, field: /^mask$/, minImages: 5 },
  // PLY with wrong counts
  { name: 'PLY declaring more vertices than it holds', kind: 'bop', edit: (f) => { f.set(`${R}models/obj_000002.ply`, plyAscii('element vertex 10\nproperty float x\nproperty float y\nproperty float z\n', '0 0 0\n1 0 0\n0 1 0\n')); }, file: `${R}models/obj_000002.ply`, field: /.+/, minImages: 5 },
  { name: 'PLY face indexing a missing vertex', kind: 'bop', edit: (f) => { f.set(`${R}models/obj_000002.ply`, plyAscii('element vertex 3\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\n', '0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n')); }, file: `${R}models/obj_000002.ply`, field: /.+/, minImages: 5 },
  { name: 'truncated binary PLY', kind: 'bop', edit: (f) => truncate(f, `${R}models/obj_000001.ply`), file: `${R}models/obj_000001.ply`, field: /.+/, minImages: 5 },
  { name: 'PLY without faces', kind: 'bop', edit: (f) => { f.set(`${R}models/obj_000002.ply`, plyAscii('element vertex 3\nproperty float x\nproperty float y\nproperty float z\n', '0 0 0\n1 0 0\n0 1 0\n')); }, file: `${R}models/obj_000002.ply`, field: /^element face$/, minImages: 5 },
  { name: 'not a PLY at all', kind: 'bop', edit: (f) => { f.set(`${R}models/obj_000001.ply`, enc('solid cube\nendsolid\n')); }, file: `${R}models/obj_000001.ply`, field: /.+/, minImages: 5 },
  // Zips: bombs and '..' paths
  {
    name: 'zip entry with a bomb-like compression ratio', kind: 'bop', file: `${R}extra/zeros.bin`, field: /^compression ratio$/, minImages: 5,
    edit: (f) => { f.set(`${R}extra/zeros.bin`, new Uint8Array(4 * 2 ** 20)); return zipSource(f); },
  },
  {
    name: 'zip entry over the per-entry size limit', kind: 'bop', file: `${TEST}/rgb/000001.png`, field: /^uncompressed size$/, minImages: 4,
    edit: (f) => { f.set(`${TEST}/rgb/000001.png`, new Uint8Array(300_000).map((_, i) => (i * 7919) & 0xff)); return zipSource(f, { ...kDefaultZipLimits, maxEntryBytes: 200_000 }); },
  },
  { name: "zip entry climbing out with '..'", kind: 'bop', file: /\.\.\/evil\.json$/, field: /^path$/, minImages: 5, edit: (f) => { f.set(`${R}../evil.json`, enc('{}')); return zipSource(f); } },
  { name: 'zip entry with an absolute path', kind: 'bop', file: /\/etc\/passwd$/, field: /^path$/, minImages: 5, edit: (f) => { f.set('/etc/passwd', enc('x')); return zipSource(f); } },
  { name: 'zip entry listed twice', kind: 'bop', file: `${R}models/models_info.json`, field: /.+/, minImages: 5, edit: (f) => { f.set(`${R}./models/models_info.json`, enc('{}')); return zipSource(f); } },
  // Symbolic links
  {
    name: 'symlink loop', kind: 'bop', file: 'c/loop/again', field: /^symbolic link$/, minImages: 5,
    edit: (f) => { const d = writeTree(f); mkdirSync(join(d, 'c', 'loop')); symlinkSync(join(d, 'c', 'loop'), join(d, 'c', 'loop', 'again'), 'dir'); return openNodePath(d); },
  },
  {
    name: 'symlink to nowhere', kind: 'bop', file: `${TRAIN}/rgb/000007.png`, field: /^symbolic link$/, minImages: 5,
    edit: (f) => { const d = writeTree(f); symlinkSync(join(d, 'missing.png'), join(d, ...`${TRAIN}/rgb/000007.png`.split('/'))); return openNodePath(d); },
  },
  // PVNet
  { name: 'pose .npy with a bad magic', kind: 'pvnet', edit: (f) => { f.set(`${LM}cat/pose/pose1.npy`, enc('NUMPY?')); }, file: `${LM}cat/pose/pose1.npy`, field: /^npy$/, minImages: 7 },
  { name: 'truncated pose .npy', kind: 'pvnet', edit: (f) => truncate(f, `${LM}cat/pose/pose2.npy`), file: `${LM}cat/pose/pose2.npy`, field: /^npy$/, minImages: 7 },
  { name: 'pose of shape (4, 4)', kind: 'pvnet', edit: (f) => { f.set(`${LM}glue/pose/pose0.npy`, writeNpy([4, 4], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0.5, 0, 0, 0, 1])); }, file: `${LM}glue/pose/pose0.npy`, field: /^shape$/, minImages: 7 },
  { name: 'pose not a rotation', kind: 'pvnet', edit: (f) => { f.set(`${LM}glue/pose/pose1.npy`, writeNpy([3, 4], [2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0.5])); }, file: `${LM}glue/pose/pose1.npy`, field: /^R$/, minImages: 7 },
  { name: 'pose holding NaN', kind: 'pvnet', edit: (f) => { const r = rotationOf(0, 0, 0); f.set(`${LM}cat/pose/pose3.npy`, writeNpy([3, 4], [r[0], r[1], r[2], NaN, r[3], r[4], r[5], 0, r[6], r[7], r[8], 0.5])); }, file: `${LM}cat/pose/pose3.npy`, field: /^t$/, minImages: 7 },
  { name: 'camera.txt with 8 numbers', kind: 'pvnet', edit: (f) => { f.set(`${LM}cat/camera.txt`, enc('600 0 320 0 600 240 0 0')); }, file: `${LM}cat/camera.txt`, field: /^cam_K$/, minImages: 8 },
  { name: 'camera.json with wrong types', kind: 'pvnet', edit: (f) => { f.set(`${LM}camera.json`, enc('{"fx": "600"}')); }, file: `${LM}camera.json`, field: /^cam_K$/, minImages: 8 },
  { name: 'train.txt naming no image', kind: 'pvnet', edit: (f) => { f.set(`${LM}cat/train.txt`, enc('0.jpg\nbanana\n')); }, file: `${LM}cat/train.txt`, field: /^banana$/, minImages: 8 },
  { name: 'missing class model', kind: 'pvnet', edit: (f) => { f.delete(`${LM}glue/glue.ply`); }, file: `${LM}glue/glue.ply`, field: /^$/, minImages: 8 },
  { name: 'missing pose', kind: 'pvnet', edit: (f) => { f.delete(`${LM}cat/pose/pose0.npy`); }, file: `${LM}cat/pose`, field: /^$/, minImages: 7 },
  { name: 'corrupt JPEG', kind: 'pvnet', edit: (f) => truncate(f, `${LM}glue/JPEGImages/000003.jpg`), file: `${LM}glue/JPEGImages/000003.jpg`, field: /^image$/, minImages: 7 },
  { name: 'extra mask without image', kind: 'pvnet', edit: (f) => { f.set(`${LM}cat/mask/0009.png`, f.get(`${LM}cat/mask/0000.png`)!); }, file: `${LM}cat/mask`, field: /^$/, minImages: 8 },
];

describe('a corpus of malformed datasets', () => {
  it('has at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: no crash, named by file and field, the valid rest loads', async (_name, c) => {
    const files = c.kind === 'bop' ? bopFixture(R) : pvnetFixture(LM);
    let source: ByteSource;
    try {
      // An edit returns a promise of a source only when it builds one (zip, folder); else the edited files load.
      const made = c.edit(files);
      source = made instanceof Promise ? await made : new MemorySource('corpus', files);
    } catch (e) {
      // Only a whole-archive refusal may throw, and then with a message naming its limit.
      expect(e).toBeInstanceOf(ZipError);
      return;
    }
    const ds = await loadDataset(source, { checkFiles: { decode: decodePure } });
    const hit = ds.problems.filter((p: Problem) => (typeof c.file === 'string' ? p.file === c.file : c.file.test(p.file)) && c.field.test(p.field));
    expect(hit, `problems were:\n${ds.problems.map(problemLine).join('\n')}`).not.toHaveLength(0);
    for (const p of ds.problems) expect(p.file, problemLine(p)).not.toBe('');
    expect(ds.images.length).toBeGreaterThanOrEqual(c.minImages);
    expect(ds.images.filter((im) => im.instances.length > 0).length).toBeGreaterThan(0);
  });

  it('a zip bomb over the total size is refused with a message naming the limit', async () => {
    const files = bopFixture(R);
    files.set(`${R}zeros.bin`, new Uint8Array(2 ** 20));
    await expect(zipSource(files, { ...kDefaultZipLimits, maxTotalBytes: 2 ** 20 })).rejects.toThrow(/would expand to .* over the limit of 1\.0 MiB/);
  });
});
