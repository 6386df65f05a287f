/**
 * Runs inside Chromium (bundled by esbuild in scripts/make-dataset.ts): renders one view of the toy
 * object over a random cluttered background with three.js/WebGL, and its masks. The camera is the
 * OpenCV pinhole K given, with pixel centres at integer coordinates, so the ground-truth pose projects
 * exactly where the object is drawn.
 */
import * as THREE from 'three';

export interface ViewSpec {
  widthPx: number;
  heightPx: number;
  /** [9] row-major */
  kPx: number[];
  /** [9] row-major, model to camera (OpenCV) */
  rM2c: number[];
  tM2cMm: number[];
  seed: number;
}

export interface ObjectSpec {
  positions: number[];
  normals: number[];
  uvs: number[];
  faces: number[];
  texture: { size: number; rgb: number[] };
}

export interface RenderedView {
  /** base64 RGBA, top row first */
  rgb: string;
  /** base64, one byte a pixel: the object alone */
  maskFull: string;
  /** base64, one byte a pixel: the object where it is in front of everything else */
  maskVisib: string;
}

declare global {
  interface Window {
    setupObject(o: ObjectSpec): void;
    renderView(v: ViewSpec): RenderedView;
  }
}

let renderer: THREE.WebGLRenderer;
let objectGeometry: THREE.BufferGeometry;
let objectTexture: THREE.DataTexture;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

window.setupObject = (o) => {
  objectGeometry = new THREE.BufferGeometry();
  objectGeometry.setAttribute('position', new THREE.Float32BufferAttribute(o.positions, 3));
  objectGeometry.setAttribute('normal', new THREE.Float32BufferAttribute(o.normals, 3));
  objectGeometry.setAttribute('uv', new THREE.Float32BufferAttribute(o.uvs, 2));
  objectGeometry.setIndex(o.faces);
  const n = o.texture.size;
  const rgba = new Uint8Array(n * n * 4);
  for (let i = 0; i < n * n; i++) {
    rgba[4 * i] = o.texture.rgb[3 * i];
    rgba[4 * i + 1] = o.texture.rgb[3 * i + 1];
    rgba[4 * i + 2] = o.texture.rgb[3 * i + 2];
    rgba[4 * i + 3] = 255;
  }
  objectTexture = new THREE.DataTexture(rgba, n, n);
  objectTexture.flipY = true; // texture rows are top first; uv v = 1 is the top
  objectTexture.colorSpace = THREE.SRGBColorSpace;
  objectTexture.magFilter = THREE.LinearFilter;
  objectTexture.minFilter = THREE.LinearMipmapLinearFilter;
  objectTexture.generateMipmaps = true;
  objectTexture.needsUpdate = true;
};

/**
 * OpenCV K to an OpenGL projection (camera looking down -z, y up):
 *   x_ndc = 2 (u + 0.5) / w - 1,  y_ndc = 1 - 2 (v + 0.5) / h,  u = fx X/Z + s Y/Z + cx, v = fy Y/Z + cy
 * with (X, Y, Z)_cv = (x, -y, -z)_gl.
 */
function projectionFromK(k: number[], w: number, h: number, near: number, far: number): THREE.Matrix4 {
  const [fx, s, cx, , fy, cy] = k;
  const m = new THREE.Matrix4();
  m.set(
    (2 * fx) / w, (-2 * s) / w, 1 - (2 * (cx + 0.5)) / w, 0,
    0, (2 * fy) / h, (2 * (cy + 0.5)) / h - 1, 0,
    0, 0, -(far + near) / (far - near), (-2 * far * near) / (far - near),
    0, 0, -1, 0,
  );
  return m;
}

/** Model-to-camera (OpenCV) as a three.js world matrix in the GL camera's frame: diag(1,-1,-1) [R|t]. */
function poseMatrix(r: number[], t: number[]): THREE.Matrix4 {
  const m = new THREE.Matrix4();
  m.set(
    r[0], r[1], r[2], t[0],
    -r[3], -r[4], -r[5], -t[1],
    -r[6], -r[7], -r[8], -t[2],
    0, 0, 0, 1,
  );
  return m;
}

function backgroundTexture(rand: () => number): THREE.CanvasTexture {
  const c = document.createElement('canvas');
  c.width = 512;
  c.height = 512;
  const g = c.getContext('2d')!;
  const col = () => `hsl(${Math.floor(rand() * 360)}, ${Math.floor(20 + rand() * 60)}%, ${Math.floor(25 + rand() * 55)}%)`;
  const grad = g.createLinearGradient(0, 0, 512 * rand(), 512);
  grad.addColorStop(0, col());
  grad.addColorStop(1, col());
  g.fillStyle = grad;
  g.fillRect(0, 0, 512, 512);
  const shapes = 25 + Math.floor(rand() * 40);
  for (let i = 0; i < shapes; i++) {
    g.fillStyle = col();
    g.strokeStyle = col();
    g.lineWidth = 1 + rand() * 8;
    const x = rand() * 512, y = rand() * 512, s = 10 + rand() * 90;
    const kind = rand();
    if (kind < 0.35) g.fillRect(x, y, s, s * (0.3 + rand()));
    else if (kind < 0.65) { g.beginPath(); g.arc(x, y, s / 2, 0, Math.PI * 2); g.fill(); }
    else { g.beginPath(); g.moveTo(x, y); for (let k = 0; k < 4; k++) g.lineTo(rand() * 512, rand() * 512); g.stroke(); }
  }
  const t = new THREE.CanvasTexture(c);
  t.colorSpace = THREE.SRGBColorSpace;
  return t;
}

window.renderView = (v) => {
  const { widthPx: w, heightPx: h } = v;
  if (!renderer) {
    const canvas = document.createElement('canvas');
    renderer = new THREE.WebGLRenderer({ canvas, antialias: false, preserveDrawingBuffer: true });
    renderer.outputColorSpace = THREE.SRGBColorSpace;
  }
  renderer.setPixelRatio(1);
  renderer.setSize(w, h, false);
  const rand = rng(v.seed);
  const camera = new THREE.Camera();
  const near = 50, far = 5000;
  camera.projectionMatrix.copy(projectionFromK(v.kPx, w, h, near, far));
  camera.projectionMatrixInverse.copy(camera.projectionMatrix).invert();

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x000000);
  const objMat = new THREE.MeshStandardMaterial({ map: objectTexture, roughness: 0.4 + 0.4 * rand(), metalness: 0.05 });
  const obj = new THREE.Mesh(objectGeometry, objMat);
  obj.matrixAutoUpdate = false;
  obj.matrix.copy(poseMatrix(v.rM2c, v.tM2cMm));
  obj.matrixWorldNeedsUpdate = true;
  scene.add(obj);

  // A textured wall behind the object, facing the camera, filling the view.
  const zObj = v.tM2cMm[2];
  const wallZ = zObj + 150 + rand() * 400;
  const wallSize = (wallZ * Math.max(w / v.kPx[0], h / v.kPx[4])) * 2.5;
  const wall = new THREE.Mesh(new THREE.PlaneGeometry(wallSize, wallSize), new THREE.MeshStandardMaterial({ map: backgroundTexture(rand), roughness: 0.9 }));
  wall.position.set(0, 0, -wallZ);
  wall.rotation.z = rand() * Math.PI * 2;
  scene.add(wall);

  // Clutter: primitives between the wall and the camera; a few near the object's line of sight occlude it.
  const clutter: THREE.Mesh[] = [];
  const nClutter = 6 + Math.floor(rand() * 10);
  for (let i = 0; i < nClutter; i++) {
    const s = 20 + rand() * 70;
    const kind = Math.floor(rand() * 4);
    const geo = kind === 0 ? new THREE.BoxGeometry(s, s * (0.5 + rand()), s * (0.5 + rand()))
      : kind === 1 ? new THREE.SphereGeometry(s / 2, 24, 16)
      : kind === 2 ? new THREE.CylinderGeometry(s / 3, s / 3, s * 1.5, 24)
      : new THREE.TorusGeometry(s / 2, s / 7, 12, 32);
    const mat = new THREE.MeshStandardMaterial({ color: new THREE.Color().setHSL(rand(), 0.3 + 0.6 * rand(), 0.3 + 0.4 * rand()), roughness: rand() });
    const m = new THREE.Mesh(geo, mat);
    const occluder = i < 2 && rand() < 0.45;
    // GL camera frame: x right, y up, looking down -z
    const cx = v.tM2cMm[0], cy = -v.tM2cMm[1];
    let z: number, spread: number;
    if (occluder) { z = zObj - 120 - rand() * 150; spread = 90; }
    else { z = zObj + (rand() - 0.3) * 300; spread = 0.6 * z * (w / v.kPx[0]); }
    let x = cx * (z / zObj) + (rand() - 0.5) * 2 * spread;
    let y = cy * (z / zObj) + (rand() - 0.5) * 2 * spread * (h / w);
    if (!occluder && Math.hypot(x - cx, y - cy) < 120) x += Math.sign(x - cx || 1) * 140;
    m.position.set(x, y, -Math.min(z, wallZ - s));
    m.rotation.set(rand() * 6.28, rand() * 6.28, rand() * 6.28);
    scene.add(m);
    clutter.push(m);
  }

  scene.add(new THREE.AmbientLight(0xffffff, 0.35 + 0.5 * rand()));
  const sun = new THREE.DirectionalLight(0xffffff, 1.2 + 1.8 * rand());
  sun.position.set(rand() * 2 - 1, rand() * 2 - 0.5, 1);
  scene.add(sun);
  const fill = new THREE.PointLight(new THREE.Color().setHSL(rand(), 0.3, 0.8), 0.5 + rand(), 0, 0);
  fill.position.set(rand() * 600 - 300, rand() * 600 - 300, 0);
  scene.add(fill);

  const gl = renderer.getContext();
  const read = (): Uint8Array => {
    const px = new Uint8Array(w * h * 4);
    gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
    // GL rows are bottom first; flip to top first.
    const out = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) out.set(px.subarray((h - 1 - y) * w * 4, (h - y) * w * 4), y * w * 4);
    return out;
  };

  renderer.render(scene, camera);
  const rgb = read();

  // Visible mask: the object white, everything else black, same depth test.
  const white = new THREE.MeshBasicMaterial({ color: 0xffffff });
  const black = new THREE.MeshBasicMaterial({ color: 0x000000 });
  scene.overrideMaterial = null;
  const saved = new Map<THREE.Mesh, THREE.Material | THREE.Material[]>();
  scene.traverse((o) => { if (o instanceof THREE.Mesh) { saved.set(o, o.material); o.material = o === obj ? white : black; } });
  renderer.render(scene, camera);
  const vis = read();
  // Full mask: the object alone.
  for (const m of clutter) m.visible = false;
  wall.visible = false;
  renderer.render(scene, camera);
  const full = read();
  for (const [m, mat] of saved) m.material = mat;

  const oneChannel = (px: Uint8Array) => {
    const out = new Uint8Array(w * h);
    for (let i = 0; i < w * h; i++) out[i] = px[4 * i] > 127 ? 255 : 0;
    return out;
  };
  const b64 = (u: Uint8Array) => {
    let s = '';
    for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
    return btoa(s);
  };
  // free per-view GPU objects
  scene.traverse((o) => {
    if (o instanceof THREE.Mesh && o !== obj) {
      o.geometry.dispose();
      const mats = Array.isArray(o.material) ? o.material : [o.material];
      for (const m of mats) { (m as THREE.MeshStandardMaterial).map?.dispose(); m.dispose(); }
    }
  });
  objMat.dispose();
  return { rgb: b64(rgb), maskFull: b64(oneChannel(full)), maskVisib: b64(oneChannel(vis)) };
};
