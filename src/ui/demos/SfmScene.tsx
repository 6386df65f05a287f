/**
 * The structure-from-motion demo in three.js: the true structure, and the learnt points after the
 * similarity that best aligns them onto it, joined to their true positions; the views' cameras as small
 * markers. Positions are written into the buffers in the frame loop, not through React.
 */
import { useEffect, useRef, type RefObject } from 'react';
import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';
import type { StructureFromMotionDemo, StructureFromMotionStep } from '../../demos/createDemo';
import { useFrame } from '../useFrame';
import type { DemoRecord } from './recorder';

const kTrue = 0x3ddc97;
const kLearnt = 0x4cc9f0;
const kHeight = 360;

interface Stage {
  renderer: THREE.WebGLRenderer;
  scene: THREE.Scene;
  camera: THREE.PerspectiveCamera;
  controls: OrbitControls;
  truth: THREE.Points;
  learnt: THREE.Points;
  links: THREE.LineSegments;
  cameras: THREE.Points;
}

function points(colour: number, size: number): THREE.Points {
  const g = new THREE.BufferGeometry();
  g.setAttribute('position', new THREE.BufferAttribute(new Float32Array(0), 3));
  return new THREE.Points(g, new THREE.PointsMaterial({ color: colour, size, sizeAttenuation: false }));
}

function setPositions(obj: THREE.Points | THREE.LineSegments, values: Float32Array): void {
  obj.geometry.setAttribute('position', new THREE.BufferAttribute(values, 3));
  obj.geometry.computeBoundingSphere();
}

/** Camera centres in the model frame from poses [B,6] (model to camera): C = -R^T t. */
function cameraCentres(poses: Float64Array): Float32Array {
  const B = poses.length / 6;
  const out = new Float32Array(3 * B);
  const m = new THREE.Matrix4();
  const axis = new THREE.Vector3();
  for (let b = 0; b < B; b++) {
    const r = poses.subarray(6 * b, 6 * b + 3);
    const angle = Math.hypot(r[0], r[1], r[2]);
    if (angle > 0) m.makeRotationAxis(axis.set(r[0] / angle, r[1] / angle, r[2] / angle), angle);
    else m.identity();
    const c = new THREE.Vector3(poses[6 * b + 3], poses[6 * b + 4], poses[6 * b + 5]).applyMatrix4(m.transpose()).negate();
    out.set([c.x, c.y, c.z], 3 * b);
  }
  return out;
}

export function SfmScene({ record }: { record: RefObject<DemoRecord | null> }) {
  const host = useRef<HTMLDivElement>(null);
  const stage = useRef<Stage | null>(null);
  const seen = useRef<{ r: DemoRecord | null; v: number }>({ r: null, v: -1 });

  useEffect(() => {
    const el = host.current!;
    const renderer = new THREE.WebGLRenderer({ antialias: true });
    renderer.setPixelRatio(window.devicePixelRatio);
    renderer.setSize(el.clientWidth, kHeight);
    renderer.setClearColor(0x0a0c0f);
    el.appendChild(renderer.domElement);
    const scene = new THREE.Scene();
    const camera = new THREE.PerspectiveCamera(45, el.clientWidth / kHeight, 1, 5000);
    // Close enough that the 100 mm structure fills the view; the cameras, 450 mm out, sit at its edges.
    camera.position.set(170, -210, 140);
    camera.up.set(0, 0, 1);
    const controls = new OrbitControls(camera, renderer.domElement);
    controls.autoRotate = true;
    controls.autoRotateSpeed = 1.2;
    const truth = points(kTrue, 9);
    const learnt = points(kLearnt, 6);
    const links = new THREE.LineSegments(new THREE.BufferGeometry(), new THREE.LineBasicMaterial({ color: 0xf7b801, transparent: true, opacity: 0.6 }));
    const cameras = points(0x8e98a6, 5);
    scene.add(truth, learnt, links, cameras, new THREE.AxesHelper(60));
    stage.current = { renderer, scene, camera, controls, truth, learnt, links, cameras };
    const ro = new ResizeObserver(() => {
      renderer.setSize(el.clientWidth, kHeight);
      camera.aspect = el.clientWidth / kHeight;
      camera.updateProjectionMatrix();
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      controls.dispose();
      for (const o of [truth, learnt, links, cameras]) {
        o.geometry.dispose();
        (o.material as THREE.Material).dispose();
      }
      renderer.dispose();
      el.removeChild(renderer.domElement);
      stage.current = null;
    };
  }, []);

  useFrame(() => {
    const s = stage.current;
    if (!s) return;
    const r = record.current;
    if (r && r.demo.kind === 'sfm' && (r !== seen.current.r || r.version !== seen.current.v)) {
      seen.current = { r, v: r.version };
      const { scene } = r.demo as StructureFromMotionDemo;
      if (s.truth.geometry.getAttribute('position').count !== scene.n) {
        setPositions(s.truth, Float32Array.from(scene.truth));
        setPositions(s.cameras, cameraCentres(scene.viewPoses));
      }
      const step = r.last as StructureFromMotionStep | null;
      if (step) {
        setPositions(s.learnt, Float32Array.from(step.aligned));
        const seg = new Float32Array(6 * scene.n);
        for (let i = 0; i < scene.n; i++) {
          seg.set(step.aligned.subarray(3 * i, 3 * i + 3), 6 * i);
          seg.set(scene.truth.subarray(3 * i, 3 * i + 3), 6 * i + 3);
        }
        setPositions(s.links, seg);
      }
    }
    s.controls.update();
    s.renderer.render(s.scene, s.camera);
  });

  return (
    <div className="stack" style={{ gap: '0.4rem' }}>
      <div ref={host} data-testid="demo-sfm-view" style={{ borderRadius: 8, overflow: 'hidden' }} />
      <div className="row gap wrap small muted">
        <span style={{ color: '#3ddc97' }}>● true structure</span>
        <span style={{ color: '#4cc9f0' }}>● learnt points, similarity-aligned to it</span>
        <span style={{ color: '#f7b801' }}>— residual</span>
        <span>● grey: the views' true camera centres (never given to the demo)</span>
      </div>
    </div>
  );
}
