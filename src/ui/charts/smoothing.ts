/**
 * TensorBoard's scalar smoothing: an exponential moving average debiased as in Adam (Kingma & Ba 2015,
 * section 3), so the first points are not pulled towards 0:
 *   ema_i = w ema_{i-1} + (1 - w) x_i,  ema_0 = 0;   smoothed_i = ema_i / (1 - w^(i+1))
 * Non-finite values are skipped (they leave the average as it was and come out as NaN, a gap).
 */
export function debiasedEma(values: ArrayLike<number>, weight: number, out: number[] = []): number[] {
  out.length = values.length;
  let ema = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!Number.isFinite(x)) { out[i] = NaN; continue; }
    ema = weight * ema + (1 - weight) * x;
    n++;
    out[i] = weight > 0 ? ema / (1 - weight ** n) : x;
  }
  return out;
}
