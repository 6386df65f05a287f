/**
 * EPnP initialiser (Lepetit, Moreno-Noguer, Fua, IJCV 2009) in the normalised frame of docs/pnp-maths.md.
 * STUB: the signature is the contract; the implementation is being written.
 */
export interface EpnpResult {
  ok: boolean;
  /** rotation model->camera, [9] row-major */
  R: Float64Array;
  /** normalised translation tn, [3] */
  t: Float64Array;
}

/**
 * xn [n,3] normalised 3D points, m [n,2] normalised image coordinates (K^-1 x), w [n] weights or null.
 * Returns the pose with Xc/s = R xn + tn that best reprojects, without any pose guess; planar or not.
 */
export function epnpInit(xn: Float64Array, m: Float64Array, w: Float64Array | null, n: number): EpnpResult {
  void xn; void m; void w; void n;
  throw new Error('epnpInit: not implemented yet');
}
