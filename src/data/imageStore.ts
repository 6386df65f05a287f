import type { ByteSource } from './source/source';
import { readImageFile, type DecodeImage, type RgbaImage } from './image';
import { decodeMask, type Mask } from './mask';
import { reduceImage } from './crop';

/**
 * Lazy, cached image access: an image is read and decoded on first use and kept in an LRU cache
 * bounded in bytes, so a 20,000-image dataset never sits in memory whole. Concurrent requests for one
 * path share one decode.
 */
export class ImageStore {
  private readonly cache = new Map<string, Promise<RgbaImage>>();
  private readonly sizes = new Map<string, number>();
  private cachedBytes = 0;

  constructor(
    private readonly source: ByteSource,
    private readonly decode: DecodeImage,
    private readonly budgetBytes = 512 * 2 ** 20,
  ) {}

  get(path: string): Promise<RgbaImage> {
    return this.cached(path, this.decode);
  }

  /**
   * A mask as 255 (object) / 0, whatever its encoding (mask.ts). Decoded here rather than by the page's
   * decoder: createImageBitmap turns 16-bit and palette PNGs into 8-bit colour, losing the values a mask
   * is read by.
   */
  getMask(path: string): Promise<Mask> {
    // The `mask:` keys hold decodeMask's results only.
    return this.cached(`mask:${path}`, async (bytes, kind) => decodeMask(bytes, kind), path) as Promise<Mask>;
  }

  /**
   * The image (or mask) area-averaged over f x f blocks (crop.ts reduceImage), cached beside it:
   * whole-image views resample from it every step.
   */
  getReduced(path: string, f: number, mask = false): Promise<RgbaImage> {
    const full = () => (mask ? this.getMask(path) : this.get(path));
    if (f === 1) return full();
    return this.memo(`${mask ? 'mask' : 'rgb'}/${f}:${path}`, async () => reduceImage(await full(), f));
  }

  private cached(key: string, decode: DecodeImage, path = key): Promise<RgbaImage> {
    return this.memo(key, () => readImageFile(path, () => this.source.read(path), decode));
  }

  private memo(key: string, make: () => Promise<RgbaImage>): Promise<RgbaImage> {
    const hit = this.cache.get(key);
    if (hit) {
      // refresh LRU order
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const p = (async () => {
      const img = await make();
      this.sizes.set(key, img.rgba.byteLength);
      this.cachedBytes += img.rgba.byteLength;
      this.evict();
      return img;
    })();
    this.cache.set(key, p);
    p.catch(() => this.forget(key));
    return p;
  }

  get bytesCached(): number {
    return this.cachedBytes;
  }

  private forget(path: string): void {
    this.cache.delete(path);
    this.cachedBytes -= this.sizes.get(path) ?? 0;
    this.sizes.delete(path);
  }

  private evict(): void {
    for (const path of this.cache.keys()) {
      if (this.cachedBytes <= this.budgetBytes || this.cache.size <= 1) return;
      if (this.sizes.has(path)) this.forget(path);
    }
  }
}
