/**
 * Heatmap frames and targets, in plain float maths (no tfjs: the thread that cuts the batches imports it).
 *
 * Frames: heatmap cell (i, j) (column i, row j) covers crop pixels [s i - 0.5, s (i + 1) - 0.5) with
 * s = the heatmap stride (crop px per cell, the model's heatmapStride), so its centre is at crop px u = s i + (s - 1) / 2 (OpenCV pixel centres at
 * integer coordinates, as src/data/crop.ts).
 *
 * The targets are made for heatmaps.ts's soft-argmax (DSNT, Nibali et al. 2018) to read back exactly.
 */

/** Crop px of heatmap cell index i (column or row). */
export function cellToPx(i: number, stride: number): number {
  return stride * i + (stride - 1) / 2;
}

/** Heatmap cell coordinate of crop px u. */
export function pxToCell(u: number, stride: number): number {
  return (u - (stride - 1) / 2) / stride;
}

/**
 * Gaussian targets: kpPx [B, k, 2] crop px -> [B, H, W, k], each keypoint's map a normalised Gaussian
 * (sums to 1) with sigma in cells whose expected cell centre is the keypoint, so that soft-argmax reads
 * a perfect fit back exactly. Away from the borders that Gaussian is centred on the keypoint; near one,
 * the grid cuts off its outer tail and the renormalised map's mean would move inwards (by 0.09 sigma at
 * 1.75 sigma from the edge cell: for the 64 px crops of `small`, keypoints read 1% too close together and
 * poses placed 1.3% too far, most of the ADD-0.1d threshold), so its centre moves outwards until the mean
 * is the keypoint again (each axis on its own: the map is separable). A keypoint beyond the outermost cell
 * centres cannot be anyone's expectation: its map is the Gaussian centred on it, cut and renormalised
 * (its mass on the border nearest the point).
 */
export function gaussianTargets(kpPx: ArrayLike<number>, B: number, k: number, side: number, sigmaCells: number,
  stride: number): Float32Array {
  const out = new Float32Array(B * side * side * k);
  const gx = new Float64Array(side);
  const gy = new Float64Array(side);
  const inv2s2 = 1 / (2 * sigmaCells * sigmaCells);
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < k; p++) {
      const cx = pxToCell(kpPx[2 * (b * k + p)], stride);
      const cy = pxToCell(kpPx[2 * (b * k + p) + 1], stride);
      // Separable: exp(-(dx^2 + dy^2) / 2s^2) = gx gy, each shifted by its own maximum so a far-away
      // keypoint does not underflow to all zeros.
      fill1d(gx, cx, inv2s2);
      fill1d(gy, cy, inv2s2);
      let sum = 0;
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) sum += gx[x] * gy[y];
      const inv = 1 / sum;
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) out[((b * side + y) * side + x) * k + p] = gx[x] * gy[y] * inv;
      }
    }
  }
  return out;
}

/** g[i] = the 1D Gaussian exp(-(i - c')^2 / 2 sigma^2), up to scale, whose normalised mean over the cells is c. */
function fill1d(g: Float64Array, c: number, inv2s2: number): void {
  const last = g.length - 1;
  const sigma2 = 1 / (2 * inv2s2);
  // Beyond the cell centres no mean can be c; 6 sigma inside them the cut tail moves the mean by under
  // 1e-8 cells (no search: most keypoints are there).
  const far = 6 * Math.sqrt(sigma2);
  if (!(c > 0 && c < last) || (c >= far && c <= last - far)) {
    gauss1d(g, c, inv2s2);
    return;
  }
  // The mean is strictly increasing in the centre, its derivative the variance over sigma^2: Newton's
  // steps from c, kept inside a bracket that bisection narrows whenever a step would leave it (the bracket
  // holds every centre whose mean float64 can tell from the last cell's).
  let lo = c - g.length;
  let hi = c + g.length;
  let m = c;
  for (let it = 0; it < 64; it++) {
    const mean = gauss1d(g, m, inv2s2);
    const err = mean - c;
    if (Math.abs(err) < 1e-12) return;
    if (err < 0) lo = m;
    else hi = m;
    const next = m - (err * sigma2) / Math.max(sVar[0], 1e-300);
    m = next > lo && next < hi ? next : 0.5 * (lo + hi);
  }
  gauss1d(g, m, inv2s2);
}

/** The variance of the last gauss1d, cells^2. */
const sVar = new Float64Array(1);

/** Fills g with the Gaussian centred on m, scaled so its largest cell is 1 (a far centre does not
 * underflow to all zeros); returns its normalised mean, in cells (and its variance in sVar). */
function gauss1d(g: Float64Array, m: number, inv2s2: number): number {
  const nearest = Math.min(g.length - 1, Math.max(0, m));
  const d0 = (nearest - m) * (nearest - m);
  let sum = 0;
  let first = 0;
  let second = 0;
  for (let i = 0; i < g.length; i++) {
    g[i] = Math.exp(-((i - m) * (i - m) - d0) * inv2s2);
    sum += g[i];
    first += i * g[i];
    second += i * i * g[i];
  }
  const mean = first / sum;
  sVar[0] = second / sum - mean * mean;
  return mean;
}
