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

/** One object drawn at one pose in one colour. */
class PosedObject {
  readonly group = new Group();
  private readonly fill: Mesh;
  private readonly wire: LineSegments;
  private readonly box: LineSegments;
  private readonly axes: AxesHelper;
  private readonly kps: Points;
  private readonly materials: { dispose(): void }[] = [];
  private readonly geometries: { dispose(): void }[] = [];

  constructor(g: ObjectGeometry, colour: string) {
    const c = new Color(colour);
    const geo = new BufferGeometry();
    geo.setAttribute('position', new BufferAttribute(g.positions, 3));
    if (g.faces.length > 0) geo.setIndex(new BufferAttribute(g.faces, 1));
    geo.computeVertexNormals();
    const fillMat = new MeshLambertMaterial({ color: c, transparent: true, opacity: 0.45, side: DoubleSide, depthWrite: false });
    this.fill = new Mesh(geo, fillMat);
    // Edges at a crease angle, not every triangle: a scanned mesh's full wireframe is a solid smear.
    const edges = new EdgesGeometry(geo, 25);
    const wireMat = new LineBasicMaterial({ color: c, transparent: true, opacity: 0.85 });
    this.wire = new LineSegments(edges, wireMat);
    const { min, max } = g.boundsMm;
    const corners: number[] = [];
    for (let i = 0; i < 8; i++) corners.push(i & 1 ? max[0] : min[0], i & 2 ? max[1] : min[1], i & 4 ? max[2] : min[2]);
    const boxEdges = [0, 1, 2, 3, 4, 5, 6, 7, 0, 2, 1, 3, 4, 6, 5, 7, 0, 4, 1, 5, 2, 6, 3, 7];
    const boxGeo = new BufferGeometry();
    boxGeo.setAttribute('position', new BufferAttribute(Float32Array.from(boxEdges.flatMap((i) => corners.slice(3 * i, 3 * i + 3))), 3));
    const boxMat = new LineBasicMaterial({ color: c });
    this.box = new LineSegments(boxGeo, boxMat);
    this.axes = new AxesHelper(0.5 * g.diameterMm);
    const kpGeo = new BufferGeometry();
    kpGeo.setAttribute('position', new BufferAttribute(g.keypointsMm, 3));
    const kpMat = new PointsMaterial({ color: c.clone().lerp(new Color('#ffffff'), 0.5), size: 7, sizeAttenuation: false, depthTest: false });
    this.kps = new Points(kpGeo, kpMat);
    this.kps.renderOrder = 2;
    this.group.add(this.fill, this.wire, this.box, this.axes, this.kps);
    this.group.matrixAutoUpdate = false;
    this.materials.push(fillMat, wireMat, boxMat, kpMat, this.axes.material as LineBasicMaterial);
    this.geometries.push(geo, edges, boxGeo, kpGeo, this.axes.geometry);
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

  dispose(): void {
    for (const m of this.materials) m.dispose();
    for (const g of this.geometries) g.dispose();
  }
}

export class PoseOverlay {
  private readonly renderer: WebGLRenderer;
  private readonly scene = new Scene();
  private readonly camera = new PerspectiveCamera();
  private readonly geometries = new Map<number, ObjectGeometry>();
  private readonly posed = new Map<string, PosedObject>();

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

  setGeometry(g: ObjectGeometry): void {
    if (this.geometries.get(g.objId) === g) return;
    this.geometries.set(g.objId, g);
    for (const [key, obj] of this.posed) {
      if (key.startsWith(`${g.objId}|`)) { this.scene.remove(obj.group); obj.dispose(); this.posed.delete(key); }
    }
  }

  /** Forgets every object: ids name other objects in another dataset, and keypoints follow the run's settings. */
  clear(): void {
    for (const o of this.posed.values()) { this.scene.remove(o.group); o.dispose(); }
    this.posed.clear();
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
    return createImageBitmap(this.render(v));
  }

  /** Renders the view; the returned canvas holds it until the next render. */
  render(v: OverlayView): HTMLCanvasElement {
    const r = this.renderer;
    if (r.domElement.width !== v.outWidth || r.domElement.height !== v.outHeight) r.setSize(v.outWidth, v.outHeight, false);
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
        o = new PosedObject(g, p.colour);
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
