/**
 * Draws objects at poses over images, three.js on one shared WebGL canvas: the mesh (translucent or
 * wireframe), its 3D bounding box, the model axes and the keypoints, seen through the image's own K
 * (projection.ts). Callers render, then copy the canvas into their own 2D canvas in the same task
 * (drawImage), so one WebGL context serves the dataset view and every prediction tile.
 */
import {
  AmbientLight, AxesHelper, BufferAttribute, BufferGeometry, Color, DirectionalLight, DoubleSide, EdgesGeometry, Group,
  LineBasicMaterial, LineSegments, Mesh, MeshLambertMaterial, PerspectiveCamera, Points, PointsMaterial, Scene, WebGLRenderer,
} from 'three';
import type { ObjectGeometry } from '../../worker/protocol';
import type { MeshStyle } from '../state/datasetSlice';
import { poseMatrix, projectionFromK } from './projection';

export interface OverlayPose {
  objId: number;
  /** [9] row-major, model to camera */
  R: ArrayLike<number>;
  /** [3] mm */
  tMm: ArrayLike<number>;
  colour: string;
}

export interface OverlayShow {
  mesh: MeshStyle;
  bbox: boolean;
  axes: boolean;
  keypoints: boolean;
}

export interface OverlayView {
  /** [9] row-major px, for an image widthPx x heightPx */
  kPx: ArrayLike<number>;
  widthPx: number;
  heightPx: number;
  /** Output canvas size, px (any scale of the image). */
  outWidth: number;
  outHeight: number;
  poses: OverlayPose[];
  show: OverlayShow;
}

/**
 * The materials of one colour, kept for the page's lifetime: three.js releases a shader program when
 * its last material is disposed, and compiling it again makes the main thread wait on the GPU process
 * (getProgramParameter, 100+ ms while a training worker keeps a software adapter busy). Geometries come
 * and go with datasets and runs; these few materials stay, so their programs stay linked.
 */
class ColourMaterials {
  readonly fill: MeshLambertMaterial;
  readonly wire: LineBasicMaterial;
  readonly box: LineBasicMaterial;
  readonly kps: PointsMaterial;
  /** AxesHelper's own kind: vertex colours (red, green, blue axes). */
  readonly axes = new LineBasicMaterial({ vertexColors: true, toneMapped: false });

  constructor(colour: string) {
    const c = new Color(colour);
    this.fill = new MeshLambertMaterial({ color: c, transparent: true, opacity: 0.45, side: DoubleSide, depthWrite: false });
    this.wire = new LineBasicMaterial({ color: c, transparent: true, opacity: 0.85 });
    this.box = new LineBasicMaterial({ color: c });
    this.kps = new PointsMaterial({ color: c.clone().lerp(new Color('#ffffff'), 0.5), size: 7, sizeAttenuation: false, depthTest: false });
  }
}

/** An object's geometries (mesh with normals, crease edges, 3D box, axes, keypoints), built once and shared by every colour it is drawn in. */
class ObjectParts {
  readonly mesh = new BufferGeometry();
  readonly edges: EdgesGeometry;
  readonly box = new BufferGeometry();
  readonly axes: BufferGeometry;
  readonly kps = new BufferGeometry();

  constructor(g: ObjectGeometry) {
    this.mesh.setAttribute('position', new BufferAttribute(g.positions, 3));
    if (g.faces.length > 0) this.mesh.setIndex(new BufferAttribute(g.faces, 1));
    this.mesh.computeVertexNormals();
    // Edges at a crease angle, not every triangle: a scanned mesh's full wireframe is a solid smear.
    this.edges = new EdgesGeometry(this.mesh, 25);
    const { min, max } = g.boundsMm;
    const corners: number[] = [];
    for (let i = 0; i < 8; i++) corners.push(i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]);
    const boxEdges = [0, 1, 2, 3, 4, 5, 6, 7, 0, 2, 1, 3, 4, 6, 5, 7, 0, 4, 1, 5, 2, 6, 3, 7];
    this.box.setAttribute('position', new BufferAttribute(Float32Array.from(boxEdges.flatMap((i) => corners.slice(3 * i, 3 * i + 3))), 3));
    const axes = new AxesHelper(0.5 * g.diameterMm);
    (axes.material as LineBasicMaterial).dispose();
    this.axes = axes.geometry;
    this.kps.setAttribute('position', new BufferAttribute(g.keypointsMm, 3));
  }

  dispose(): void {
    for (const g of [this.mesh, this.edges, this.box, this.axes, this.kps]) g.dispose();
  }
}

/** One object drawn at one pose in one colour: the object's shared parts with the colour's materials. */
class PosedObject {
  readonly group = new Group();
  private readonly fill: Mesh;
  private readonly wire: LineSegments;
  private readonly box: LineSegments;
  private readonly axes: LineSegments;
  private readonly kps: Points;

  constructor(parts: ObjectParts, m: ColourMaterials) {
    this.fill = new Mesh(parts.mesh, m.fill);
    this.wire = new LineSegments(parts.edges, m.wire);
    this.box = new LineSegments(parts.box, m.box);
    this.axes = new LineSegments(parts.axes, m.axes);
    this.kps = new Points(parts.kps, m.kps);
    this.kps.renderOrder = 2;
    this.group.add(this.fill, this.wire, this.box, this.axes, this.kps);
    this.group.matrixAutoUpdate = false;
  }

  update(p: OverlayPose, show: OverlayShow): void {
    poseMatrix(p.R, p.tMm, this.group.matrix);
    this.group.matrixWorldNeedsUpdate = true;
    this.fill.visible = show.mesh === 'translucent';
    this.wire.visible = show.mesh !== 'off';
    this.box.visible = show.bbox;
    this.axes.visible = show.axes;
    this.kps.visible = show.keypoints;
    this.group.visible = true;
  }
}

export class PoseOverlay {
  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera();
  private readonly geometries = new Map<number, ObjectGeometry>();
  /** Built lazily, on an object's first render. */
  private readonly parts = new Map<number, ObjectParts>();
  private readonly posed = new Map<string, PosedObject>();
  private readonly materials = new Map<string, ColourMaterials>();
  /** Geometry requests in flight, by object id: tiles drawn together ask once. */
  private readonly fetching = new Map<number, Promise<void>>();

  constructor() {
    this.renderer = new WebGLRenderer({ alpha: true, antialias: true, preserveDrawingBuffer: true });
    this.renderer.setClearColor(0x000000, 0);
    // No synchronous shader status queries: each one waits on the GPU process, which may be busy with
    // the training worker's WebGPU work (seconds on a software adapter). Shaders here are fixed three.js ones.
    this.renderer.debug.checkShaderErrors = false;
    this.scene.add(new AmbientLight(0xffffff, 1.6));
    const light = new DirectionalLight(0xffffff, 1.6);
    light.position.set(0, 0.3, 1); // at the camera, slightly above: faces towards the viewer are lit
    this.scene.add(light);
    this.camera.matrixAutoUpdate = false;
  }

  /**
   * Fetches an object's geometry (with `fetch`, once however many callers ask while it is in flight)
   * unless the overlay has it. Resolves false when the object has none.
   */
  ensureGeometry(objId: number, fetch: (objId: number) => Promise<ObjectGeometry | undefined>): Promise<boolean> {
    if (this.geometries.has(objId)) return Promise.resolve(true);
    let f = this.fetching.get(objId);
    if (!f) {
      f = fetch(objId).then((g) => { if (g) this.setGeometry(g); }).finally(() => this.fetching.delete(objId));
      this.fetching.set(objId, f);
    }
    return f.then(() => this.geometries.has(objId));
  }

  setGeometry(g: ObjectGeometry): void {
    if (this.geometries.get(g.objId) === g) return;
    this.geometries.set(g.objId, g);
    for (const [key, obj] of this.posed) {
      if (key.startsWith(`${g.objId}|`)) { this.scene.remove(obj.group); this.posed.delete(key); }
    }
    this.parts.get(g.objId)?.dispose();
    this.parts.delete(g.objId);
  }

  /** Forgets every object: ids name other objects in another dataset, and keypoints follow the run's settings. */
  clear(): void {
    for (const o of this.posed.values()) this.scene.remove(o.group);
    this.posed.clear();
    for (const p of this.parts.values()) p.dispose();
    this.parts.clear();
    this.geometries.clear();
  }

  hasGeometry(objId: number): boolean {
    return this.geometries.has(objId);
  }

  /**
   * Renders the view and snapshots it as an ImageBitmap. Drawing the snapshot never blocks the main
   * thread on a pixel readback from the GPU process (drawImage of the WebGL canvas itself would).
   */
  snapshot(v: OverlayView): Promise<ImageBitmap> {
    return createImageBitmap(this.render(v), 0, 0, v.outWidth, v.outHeight);
  }

  /**
   * Renders the view into the top-left outWidth x outHeight of the canvas, which only grows: resizing
   * a WebGL drawing buffer waits on the GPU process, and views alternate between sizes (dataset image,
   * 200 px tiles, the 512 px enlargement).
   */
  private render(v: OverlayView): HTMLCanvasElement {
    const r = this.renderer;
    const c = r.domElement;
    if (c.width < v.outWidth || c.height < v.outHeight) r.setSize(Math.max(c.width, v.outWidth), Math.max(c.height, v.outHeight), false);
    // GL's viewport origin is the bottom-left corner; the snapshot crops from the top-left.
    r.setViewport(0, c.height - v.outHeight, v.outWidth, v.outHeight);
    let near = Infinity, far = 0;
    for (const p of v.poses) {
      const g = this.geometries.get(p.objId);
      const rad = g ? 0.6 * g.diameterMm : 100;
      near = Math.min(near, p.tMm[2] - rad);
      far = Math.max(far, p.tMm[2] + rad);
    }
    if (!(near > 1)) near = 1;
    if (!(far > near)) far = near + 1000;
    projectionFromK(v.kPx, v.widthPx, v.heightPx, near, far, this.camera.projectionMatrix);
    this.camera.projectionMatrixInverse.copy(this.camera.projectionMatrix).invert();
    for (const o of this.posed.values()) o.group.visible = false;
    const used = new Map<string, number>();
    for (const p of v.poses) {
      const g = this.geometries.get(p.objId);
      if (!g) continue;
      const n = used.get(`${p.objId}|${p.colour}`) ?? 0;
      used.set(`${p.objId}|${p.colour}`, n + 1);
      const key = `${p.objId}|${p.colour}|${n}`;
      let o = this.posed.get(key);
      if (!o) {
        let m = this.materials.get(p.colour);
        if (!m) { m = new ColourMaterials(p.colour); this.materials.set(p.colour, m); }
        let parts = this.parts.get(p.objId);
        if (!parts) { parts = new ObjectParts(g); this.parts.set(p.objId, parts); }
        o = new PosedObject(parts, m);
        this.posed.set(key, o);
        this.scene.add(o.group);
      }
      o.update(p, v.show);
    }
    r.render(this.scene, this.camera);
    return r.domElement;
  }
}

let shared: PoseOverlay | undefined;

/** The page's one overlay renderer (browsers cap WebGL contexts, so it is shared). */
export function sharedOverlay(): PoseOverlay {
  shared ??= new PoseOverlay();
  return shared;
}
