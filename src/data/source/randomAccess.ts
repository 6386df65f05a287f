/** Bytes that can be read at any offset without holding them all: a File/Blob, a Node file, an array. */
export interface RandomAccess {
  readonly sizeBytes: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesAccess(bytes: Uint8Array): RandomAccess {
  return {
    sizeBytes: bytes.length,
    read: async (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/** A browser File or Blob: each read is a slice, so a dropped 4 GB zip is never in memory whole. */
export function blobAccess(blob: Blob): RandomAccess {
  return {
    sizeBytes: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}
