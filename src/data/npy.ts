/**
 * NumPy .npy reader (format versions 1.0-3.0, numpy/lib/format.py): little- or big-endian float32,
 * float64 and integer arrays, C or Fortran order; returned as float64 in C (row-major) order.
 */
export class NpyError extends Error {}

export interface NpyArray {
  shape: number[];
  /** C order */
  data: Float64Array;
}

export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new NpyError('not a .npy file (bad magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) { headerLen = view.getUint16(8, true); headerStart = 10; }
  else if (major === 2 || major === 3) { headerLen = view.getUint32(8, true); headerStart = 12; }
  else throw new NpyError(`unsupported .npy version ${major}`);
  if (headerStart + headerLen > bytes.length) throw new NpyError('header runs past the end (truncated)');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] === 'True';
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new NpyError(`header without descr or shape: ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const order = descr[0];
  const kind = descr.slice(1);
  // '<' little, '>' big, '|' not applicable (single bytes), '=' native (little on every platform we run on)
  const little = order !== '>';
  const sizes: Record<string, number> = { f4: 4, f8: 8, i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, i8: 8, u8: 8 };
  const itemBytes = sizes[kind];
  if (!itemBytes) throw new NpyError(`dtype '${descr}' is not supported (float or integer only)`);
  const dataStart = headerStart + headerLen;
  if (dataStart + count * itemBytes > bytes.length) {
    throw new NpyError(`data holds ${bytes.length - dataStart} bytes, shape (${shape.join(', ')}) of ${descr} needs ${count * itemBytes}`);
  }
  const raw = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const p = dataStart + i * itemBytes;
    switch (kind) {
      case 'f4': raw[i] = view.getFloat32(p, little); break;
      case 'f8': raw[i] = view.getFloat64(p, little); break;
      case 'i1': raw[i] = view.getInt8(p); break;
      case 'u1': raw[i] = view.getUint8(p); break;
      case 'i2': raw[i] = view.getInt16(p, little); break;
      case 'u2': raw[i] = view.getUint16(p, little); break;
      case 'i4': raw[i] = view.getInt32(p, little); break;
      case 'u4': raw[i] = view.getUint32(p, little); break;
      case 'i8': raw[i] = Number(view.getBigInt64(p, little)); break;
      case 'u8': raw[i] = Number(view.getBigUint64(p, little)); break;
    }
  }
  if (!fortran || shape.length < 2) return { shape, data: raw };
  // Fortran order: the first index varies fastest. Re-lay in C order.
  const data = new Float64Array(count);
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < count; f++) {
    let c = 0;
    for (let k = 0; k < shape.length; k++) c = c * shape[k] + idx[k];
    data[c] = raw[f];
    for (let k = 0; k < shape.length; k++) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return { shape, data };
}

/** Writes a little-endian float64 C-order .npy (version 1.0), for fixtures and scripts. */
export function writeNpy(shape: number[], data: ArrayLike<number>): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const v = new DataView(out.buffer);
  v.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  for (let i = 0; i < data.length; i++) v.setFloat64(10 + header.length + 8 * i, data[i], true);
  return out;
}
