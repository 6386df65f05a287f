/**
 * A static 3-d tree over points [m, 3] for exact nearest-neighbour distances, what ADD-S needs over a
 * whole model (bop_toolkit pose_error.adi queries scipy's cKDTree the same way). Built once per model:
 * the query is moved into the model frame instead of moving the model (see addsErrorMm), so the tree
 * never changes with the pose.
 *
 * Our own hundred lines rather than a dependency: the npm k-d trees on offer are either unmaintained for
 * years or generic over dimensions and boxed objects per point; this one is over a Float64Array with an
 * index permutation, median splits on the widest axis, and an exact branch-and-bound search (a subtree
 * is skipped only when the splitting plane is farther than the best distance found), checked against
 * brute force in tests/train/bopEval.test.ts.
 */
const kLeafSize = 8;

export class KdTree3 {
  /** Point indices, reordered so each node's points are contiguous. */
  private readonly idx: Uint32Array;
  /** Nodes over idx ranges [lo, hi): split axis (0..2) and value with children, or axis 3 for a leaf. */
  private readonly nodes: { lo: number; hi: number; axis: number; split: number; left: number; right: number }[] = [];

  constructor(readonly pts: Float64Array) {
    const m = Math.floor(pts.length / 3);
    this.idx = new Uint32Array(m);
    for (let i = 0; i < m; i++) this.idx[i] = i;
    if (m > 0) this.build(0, m);
  }

  get size(): number {
    return this.idx.length;
  }

  private build(lo: number, hi: number): number {
    const id = this.nodes.length;
    this.nodes.push({ lo, hi, axis: 3, split: 0, left: -1, right: -1 });
    if (hi - lo <= kLeafSize) return id;
    // Widest axis of the node's bounding box.
    const mn = [Infinity, Infinity, Infinity], mx = [-Infinity, -Infinity, -Infinity];
    for (let i = lo; i < hi; i++) {
      for (let k = 0; k < 3; k++) {
        const v = this.pts[3 * this.idx[i] + k];
        if (v < mn[k]) mn[k] = v;
        if (v > mx[k]) mx[k] = v;
      }
    }
    const axis = mx[0] - mn[0] >= mx[1] - mn[1] && mx[0] - mn[0] >= mx[2] - mn[2] ? 0 : mx[1] - mn[1] >= mx[2] - mn[2] ? 1 : 2;
    if (mx[axis] === mn[axis]) return id; // all points coincide: a leaf, however many
    const mid = (lo + hi) >> 1;
    this.select(lo, hi, mid, axis);
    const node = this.nodes[id];
    node.axis = axis;
    node.split = this.pts[3 * this.idx[mid] + axis];
    node.left = this.build(lo, mid);
    node.right = this.build(mid, hi);
    return id;
  }

  /** Quickselect: idx[lo..hi) partitioned so idx[k] holds the k-th smallest along axis. */
  private select(lo: number, hi: number, k: number, axis: number): void {
    const v = (i: number) => this.pts[3 * this.idx[i] + axis];
    let l = lo, r = hi - 1;
    while (l < r) {
      const pivot = v((l + r) >> 1);
      let i = l, j = r;
      while (i <= j) {
        while (v(i) < pivot) i++;
        while (v(j) > pivot) j--;
        if (i <= j) {
          const t = this.idx[i]; this.idx[i] = this.idx[j]; this.idx[j] = t;
          i++; j--;
        }
      }
      if (k <= j) r = j;
      else if (k >= i) l = i;
      else return;
    }
  }

  /** Squared distance from (x, y, z) to the nearest point of the tree; Infinity when it is empty. */
  nearestSq(x: number, y: number, z: number): number {
    if (this.nodes.length === 0) return Infinity;
    const q = [x, y, z];
    let best = Infinity;
    const visit = (id: number): void => {
      const n = this.nodes[id];
      if (n.axis === 3) {
        for (let i = n.lo; i < n.hi; i++) {
          const p = 3 * this.idx[i];
          const dx = this.pts[p] - x, dy = this.pts[p + 1] - y, dz = this.pts[p + 2] - z;
          const d = dx * dx + dy * dy + dz * dz;
          if (d < best) best = d;
        }
        return;
      }
      const diff = q[n.axis] - n.split;
      const [near, far] = diff < 0 ? [n.left, n.right] : [n.right, n.left];
      visit(near);
      if (diff * diff < best) visit(far);
    };
    visit(0);
    return best;
  }
}
