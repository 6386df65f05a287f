/**
 * readImageFile (src/data/image.ts): an image that cannot be decoded is named, said to be undecodable,
 * and keeps the decoder's own words (fast-png's "Error while decompressing the data:" names nothing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePure } from '../../src/data/decode/pure';
import { contentKindOf, readImageFile } from '../../src/data/image';

const kBundled = join(__dirname, '..', '..', 'public', 'datasets', 'poselab-toy');

describe('readImageFile', () => {
  it('decodes a good image, and names a truncated or unreadable one with what failed', async () => {
    const png = new Uint8Array(readFileSync(join(kBundled, 'models', 'obj_000001.png')));
    const image = await readImageFile('tex.png', async () => png, decodePure);
    expect([image.widthPx, image.heightPx]).toEqual([512, 512]);
    await expect(readImageFile('photos/cut.png', async () => png.slice(0, png.length - 100), decodePure)).rejects.toThrow(
      'photos/cut.png: cannot be decoded as a PNG image, truncated or corrupt (the decoder: Error while decompressing the data)');
    await expect(readImageFile('a.jpg', async () => new Uint8Array([1, 2, 3]), decodePure)).rejects.toThrow(
      "a.jpg: cannot be decoded: its first bytes (01 02 03) are neither JPEG's start marker (FF D8 FF) nor PNG's signature (89 50 4E 47 0D 0A 1A 0A)");
    // A JPEG cut inside its scan still says so, with the decoder's words.
    const jpg = new Uint8Array(readFileSync(join(kBundled, 'test', '000001', 'rgb', '000000.jpg')));
    await expect(readImageFile('cut.jpg', async () => jpg.slice(0, jpg.length >> 1), decodePure)).rejects.toThrow(/^cut\.jpg: cannot be decoded as a JPEG image, truncated or corrupt \(the decoder: .+\)$/);
    await expect(readImageFile('gone.jpg', () => Promise.reject(new Error('ENOENT: no such file')), decodePure)).rejects.toThrow('gone.jpg: cannot be read (ENOENT: no such file)');
    await expect(readImageFile('notes.txt', async () => png, decodePure)).rejects.toThrow('notes.txt: not a .png or .jpg image');
    await expect(readImageFile('empty.jpg', async () => new Uint8Array(0), decodePure)).rejects.toThrow('empty.jpg: an empty file (0 bytes)');
  });

  it('decodes by what the bytes are: a PNG named .jpg and a JPEG named .png come out as their own kind would', async () => {
    const png = new Uint8Array(readFileSync(join(kBundled, 'models', 'obj_000001.png')));
    const jpg = new Uint8Array(readFileSync(join(kBundled, 'test', '000001', 'rgb', '000000.jpg')));
    expect([contentKindOf(png), contentKindOf(jpg), contentKindOf(new Uint8Array([1, 2, 3]))]).toEqual(['png', 'jpeg', undefined]);
    const asNamed = await decodePure(png, 'png');
    const misnamed = await readImageFile('photo.JPG', async () => png, decodePure);
    expect([misnamed.widthPx, misnamed.heightPx]).toEqual([asNamed.widthPx, asNamed.heightPx]);
    expect(Buffer.from(misnamed.rgba).equals(Buffer.from(asNamed.rgba))).toBe(true);
    const jpgAsPng = await readImageFile('render.png', async () => jpg, decodePure);
    expect(Buffer.from(jpgAsPng.rgba).equals(Buffer.from((await decodePure(jpg, 'jpeg')).rgba))).toBe(true);
  });

  it("names what a file is when it is neither JPEG nor PNG, whatever its name (a phone's HEIC or a WebP saved as .jpg)", async () => {
    const head = (text: string, at = 0) => {
      const b = new Uint8Array(64);
      for (let i = 0; i < text.length; i++) b[at + i] = text.charCodeAt(i);
      return b;
    };
    const heic = head('ftypheic', 4);
    const avif = head('ftypavif', 4);
    const webp = head('RIFF\0\0\0\0WEBPVP8 ');
    const cases: [string, Uint8Array, string][] = [
      ['IMG_0001.jpg', heic, 'a HEIC/HEIF image'],
      ['pic.jpeg', avif, 'an AVIF image'],
      ['photo.jpg', webp, 'a WebP image'],
      ['anim.png', head('GIF89a'), 'a GIF image'],
      ['scan.jpg', head('II*\0'), 'a TIFF image'],
      ['paint.png', head('BM\x46\0\0\0\0\0'), 'a BMP image'],
    ];
    for (const [name, bytes, what] of cases) {
      await expect(readImageFile(name, async () => bytes, decodePure)).rejects.toThrow(`${name}: cannot be decoded: its content is ${what}, not a JPEG or PNG: convert it to JPEG or PNG`);
    }
    // Not an image at all (a video, text): named as what it is, with no advice to convert it.
    await expect(readImageFile('clip.jpg', async () => new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypisom'), 0, 0, 0, 0]), decodePure)).rejects
      .toThrow("clip.jpg: cannot be decoded: its content is an ISO media file (brand 'isom'), not a JPEG or PNG image");
    await expect(readImageFile('notes.jpg', async () => new TextEncoder().encode('shot on a phone'), decodePure)).rejects
      .toThrow('notes.jpg: cannot be decoded: its content is text, not a JPEG or PNG image');
  });
});
