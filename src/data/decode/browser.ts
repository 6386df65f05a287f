import type { DecodeImage } from '../image';

/**
 * Browser decoding through createImageBitmap (the browser's own, fast, off-main-thread decoders) and an
 * OffscreenCanvas to read the pixels. Colour-space conversion and premultiplication are switched off so
 * mask values come back exactly as stored; EXIF orientation is applied (the spec's default, named so that
 * the pure decoder's agreement with it does not rest on a default: orientation.ts). Works in a worker.
 */
export const decodeBrowser: DecodeImage = async (bytes, kind) => {
  const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: kind === 'png' ? 'image/png' : 'image/jpeg' });
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2d context on OffscreenCanvas');
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    return { widthPx: bitmap.width, heightPx: bitmap.height, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } finally {
    bitmap.close();
  }
};
