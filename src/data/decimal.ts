/**
 * Numbers typed by a person (`--K 572.4,573.6,325.3,242.0`, `--min-score 0.3`): a plain decimal with an
 * optional sign and exponent, nothing else. JavaScript's Number() would also read '' and ' ' as 0,
 * '0x10' as 16 and 'Infinity' as a number, each of which is a typing slip here, not a value.
 */
export function decimal(s: string): number {
  const t = s.trim();
  return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : NaN;
}
