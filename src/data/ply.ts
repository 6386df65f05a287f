import type { Mesh } from './mesh';

/**
 * PLY reader (ascii, binary_little_endian, binary_big_endian; Paul Bourke's PLY description). Reads the
 * vertex element (x, y, z; nx, ny, nz; red, green, blue; texture_u/texture_v or s/t) and the face
 * element (vertex_indices or vertex_index, fanned into triangles). Other elements and properties are
 * skipped. Units are whatever the file holds; the format loaders scale.
 */
export class PlyError extends Error {
  constructor(readonly field: string, message: string) {
    super(message);
  }
}

type ScalarType = 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

interface Property {
  name: string;
  type: ScalarType;
  /** For list properties, the type of the count. */
  countType?: ScalarType;
}

interface Element {
  name: string;
  count: number;
  props: Property[];
}

const kTypeNames: Record<string, ScalarType> = {
  char: 'int8', int8: 'int8', uchar: 'uint8', uint8: 'uint8',
  short: 'int16', int16: 'int16', ushort: 'uint16', uint16: 'uint16',
  int: 'int32', int32: 'int32', uint: 'uint32', uint32: 'uint32',
  float: 'float32', float32: 'float32', double: 'float64', float64: 'float64',
};
const kTypeBytes: Record<ScalarType, number> = { int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8 };

export interface PlyResult {
  mesh: Mesh;
  /** 'element face' missing or empty: the mesh is a point cloud. */
  hasFaces: boolean;
}

export function parsePly(bytes: Uint8Array): PlyResult {
  const { elements, format, bodyStart, comments } = parseHeader(bytes);
  const vertexEl = elements.find((e) => e.name === 'vertex');
  if (!vertexEl || vertexEl.count === 0) throw new PlyError('element vertex', 'no vertices');
  for (const c of ['x', 'y', 'z']) {
    if (!vertexEl.props.some((p) => p.name === c && !p.countType)) throw new PlyError('element vertex', `no property ${c}`);
  }
  const reader = format === 'ascii' ? new AsciiReader(bytes, bodyStart) : new BinaryReader(bytes, bodyStart, format === 'binary_little_endian');
  const nV = vertexEl.count;
  const positions = new Float32Array(nV * 3);
  const has = (n: string) => vertexEl.props.some((p) => p.name === n);
  const normals = has('nx') && has('ny') && has('nz') ? new Float32Array(nV * 3) : undefined;
  const colors = has('red') && has('green') && has('blue') ? new Uint8Array(nV * 3) : undefined;
  const uName = has('texture_u') ? 'texture_u' : has('s') ? 's' : undefined;
  const vName = has('texture_v') ? 'texture_v' : has('t') ? 't' : undefined;
  const uvs = uName && vName ? new Float32Array(nV * 2) : undefined;
  const tris: number[] = [];
  let hasFaces = false;
  for (const el of elements) {
    if (el.name === 'vertex') {
      const slot = el.props.map((p) => {
        switch (p.name) {
          case 'x': return (i: number, v: number) => { positions[3 * i] = v; };
          case 'y': return (i: number, v: number) => { positions[3 * i + 1] = v; };
          case 'z': return (i: number, v: number) => { positions[3 * i + 2] = v; };
          case 'nx': return normals && ((i: number, v: number) => { normals[3 * i] = v; });
          case 'ny': return normals && ((i: number, v: number) => { normals[3 * i + 1] = v; });
          case 'nz': return normals && ((i: number, v: number) => { normals[3 * i + 2] = v; });
          case 'red': return colors && ((i: number, v: number) => { colors[3 * i] = p.type === 'uint8' ? v : v * 255; });
          case 'green': return colors && ((i: number, v: number) => { colors[3 * i + 1] = p.type === 'uint8' ? v : v * 255; });
          case 'blue': return colors && ((i: number, v: number) => { colors[3 * i + 2] = p.type === 'uint8' ? v : v * 255; });
          case uName: return uvs && ((i: number, v: number) => { uvs[2 * i] = v; });
          case vName: return uvs && ((i: number, v: number) => { uvs[2 * i + 1] = v; });
          default: return undefined;
        }
      });
      for (let i = 0; i < el.count; i++) {
        for (let k = 0; k < el.props.length; k++) {
          const p = el.props[k];
          if (p.countType) {
            const c = reader.next(p.countType, el.name, i);
            for (let j = 0; j < c; j++) reader.next(p.type, el.name, i);
          } else {
            const v = reader.next(p.type, el.name, i);
            slot[k]?.(i, v);
          }
        }
      }
    } else if (el.name === 'face') {
      const idxProp = el.props.findIndex((p) => (p.name === 'vertex_indices' || p.name === 'vertex_index') && p.countType);
      if (idxProp < 0) throw new PlyError('element face', 'no vertex_indices list property');
      hasFaces = el.count > 0;
      const poly: number[] = [];
      for (let i = 0; i < el.count; i++) {
        for (let k = 0; k < el.props.length; k++) {
          const p = el.props[k];
          if (p.countType) {
            const c = reader.next(p.countType, el.name, i);
            poly.length = 0;
            for (let j = 0; j < c; j++) poly.push(reader.next(p.type, el.name, i));
            if (k === idxProp) {
              for (const v of poly) {
                if (!(v >= 0 && v < nV)) throw new PlyError(`element face ${i}`, `vertex index ${v} out of range (${nV} vertices)`);
              }
              for (let j = 1; j + 1 < poly.length; j++) tris.push(poly[0], poly[j], poly[j + 1]);
            }
          } else {
            reader.next(p.type, el.name, i);
          }
        }
      }
    } else {
      for (let i = 0; i < el.count; i++) {
        for (const p of el.props) {
          if (p.countType) {
            const c = reader.next(p.countType, el.name, i);
            for (let j = 0; j < c; j++) reader.next(p.type, el.name, i);
          } else reader.next(p.type, el.name, i);
        }
      }
    }
  }
  for (let i = 0; i < positions.length; i++) {
    if (!Number.isFinite(positions[i])) throw new PlyError(`element vertex ${Math.floor(i / 3)}`, 'coordinate is not a finite number');
  }
  const texture = comments.map((c) => /^TextureFile\s+(.+)$/i.exec(c)?.[1]).find((t) => t);
  return { mesh: { positions, normals, colors, uvs, faces: new Uint32Array(tris), textureFile: texture?.trim() }, hasFaces };
}

function parseHeader(bytes: Uint8Array): { elements: Element[]; format: string; bodyStart: number; comments: string[] } {
  const magic = String.fromCharCode(...bytes.subarray(0, 3));
  if (magic !== 'ply') throw new PlyError('header', "not a PLY file (no 'ply' magic)");
  // The header is ASCII and ends at the first 'end_header' line.
  const limit = Math.min(bytes.length, 1 << 20);
  let end = -1;
  const marker = 'end_header';
  outer: for (let i = 0; i + marker.length <= limit; i++) {
    for (let k = 0; k < marker.length; k++) if (bytes[i + k] !== marker.charCodeAt(k)) continue outer;
    end = i + marker.length;
    break;
  }
  if (end < 0) throw new PlyError('header', 'no end_header line');
  if (bytes[end] === 0x0d) end++;
  if (bytes[end] === 0x0a) end++;
  const text = new TextDecoder('latin1').decode(bytes.subarray(0, end));
  const elements: Element[] = [];
  const comments: string[] = [];
  let format = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const w = line.split(/\s+/);
    if (w[0] === 'format') {
      format = w[1];
      if (!['ascii', 'binary_little_endian', 'binary_big_endian'].includes(format)) throw new PlyError('format', `unknown PLY format '${format}'`);
    } else if (w[0] === 'comment' || w[0] === 'obj_info') {
      comments.push(line.slice(w[0].length).trim());
    } else if (w[0] === 'element') {
      const count = Number(w[2]);
      if (!Number.isInteger(count) || count < 0) throw new PlyError(`element ${w[1]}`, `bad count '${w[2]}'`);
      elements.push({ name: w[1], count, props: [] });
    } else if (w[0] === 'property') {
      const el = elements[elements.length - 1];
      if (!el) throw new PlyError('header', 'property before any element');
      if (w[1] === 'list') {
        const countType = kTypeNames[w[2]];
        const type = kTypeNames[w[3]];
        if (!countType || !type) throw new PlyError(`element ${el.name}`, `unknown list types '${w[2]} ${w[3]}'`);
        el.props.push({ name: w[4], type, countType });
      } else {
        const type = kTypeNames[w[1]];
        if (!type) throw new PlyError(`element ${el.name}`, `unknown property type '${w[1]}'`);
        el.props.push({ name: w[2], type });
      }
    }
  }
  if (!format) throw new PlyError('format', 'no format line');
  return { elements, format, bodyStart: end, comments };
}

interface ValueReader {
  next(type: ScalarType, element: string, index: number): number;
}

class BinaryReader implements ValueReader {
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array, private pos: number, private readonly little: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  next(type: ScalarType, element: string, index: number): number {
    const n = kTypeBytes[type];
    if (this.pos + n > this.bytes.length) throw new PlyError(`element ${element} ${index}`, 'file ends early (truncated PLY)');
    const p = this.pos;
    this.pos += n;
    const v = this.view;
    switch (type) {
      case 'int8': return v.getInt8(p);
      case 'uint8': return v.getUint8(p);
      case 'int16': return v.getInt16(p, this.little);
      case 'uint16': return v.getUint16(p, this.little);
      case 'int32': return v.getInt32(p, this.little);
      case 'uint32': return v.getUint32(p, this.little);
      case 'float32': return v.getFloat32(p, this.little);
      case 'float64': return v.getFloat64(p, this.little);
    }
  }
}

class AsciiReader implements ValueReader {
  private readonly tokens: string[];
  private i = 0;
  constructor(bytes: Uint8Array, start: number) {
    this.tokens = new TextDecoder('latin1').decode(bytes.subarray(start)).split(/\s+/).filter((t) => t.length > 0);
  }
  next(_type: ScalarType, element: string, index: number): number {
    if (this.i >= this.tokens.length) throw new PlyError(`element ${element} ${index}`, 'file ends early (truncated PLY)');
    const v = Number(this.tokens[this.i++]);
    if (Number.isNaN(v)) throw new PlyError(`element ${element} ${index}`, `'${this.tokens[this.i - 1]}' is not a number`);
    return v;
  }
}

/** Writes a binary little-endian PLY (positions, optional normals, colours, uvs; triangles). */
export function writePly(mesh: Mesh, comments: string[] = []): Uint8Array {
  const nV = mesh.positions.length / 3;
  const nF = mesh.faces.length / 3;
  const lines = ['ply', 'format binary_little_endian 1.0', ...comments.map((c) => `comment ${c}`)];
  if (mesh.textureFile) lines.push(`comment TextureFile ${mesh.textureFile}`);
  lines.push(`element vertex ${nV}`, 'property float x', 'property float y', 'property float z');
  if (mesh.normals) lines.push('property float nx', 'property float ny', 'property float nz');
  if (mesh.colors) lines.push('property uchar red', 'property uchar green', 'property uchar blue');
  if (mesh.uvs) lines.push('property float texture_u', 'property float texture_v');
  lines.push(`element face ${nF}`, 'property list uchar int vertex_indices', 'end_header');
  const header = new TextEncoder().encode(lines.join('\n') + '\n');
  const vBytes = 12 + (mesh.normals ? 12 : 0) + (mesh.colors ? 3 : 0) + (mesh.uvs ? 8 : 0);
  const out = new Uint8Array(header.length + nV * vBytes + nF * 13);
  out.set(header);
  const v = new DataView(out.buffer);
  let p = header.length;
  for (let i = 0; i < nV; i++) {
    for (let k = 0; k < 3; k++, p += 4) v.setFloat32(p, mesh.positions[3 * i + k], true);
    if (mesh.normals) for (let k = 0; k < 3; k++, p += 4) v.setFloat32(p, mesh.normals[3 * i + k], true);
    if (mesh.colors) for (let k = 0; k < 3; k++, p += 1) v.setUint8(p, mesh.colors[3 * i + k]);
    if (mesh.uvs) for (let k = 0; k < 2; k++, p += 4) v.setFloat32(p, mesh.uvs[2 * i + k], true);
  }
  for (let f = 0; f < nF; f++) {
    v.setUint8(p++, 3);
    for (let k = 0; k < 3; k++, p += 4) v.setInt32(p, mesh.faces[3 * f + k], true);
  }
  return out;
}
