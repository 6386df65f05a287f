import type { Problem } from '../problems';
import { safePath } from './paths';
import type { ByteSource } from './source';

/**
 * A dataset served over HTTP (the bundled one under public/datasets/<name>/). A URL cannot be listed,
 * so the folder carries manifest.json: { "name": string, "files": [{ "path": string, "bytes": number }] }.
 */
export interface DatasetManifest {
  name: string;
  files: { path: string; bytes: number }[];
}

export const kManifestName = 'manifest.json';

export class UrlSource implements ByteSource {
  readonly paths: string[];
  private readonly sizes = new Map<string, number>();
  private constructor(
    readonly label: string,
    private readonly base: string,
    manifest: DatasetManifest,
    readonly problems: Problem[],
    private readonly fetchFn: typeof fetch,
  ) {
    for (const f of manifest.files) {
      const safe = safePath(f.path);
      if (!safe.ok) problems.push({ file: f.path, field: 'path', message: `${safe.reason}; left out` });
      else this.sizes.set(safe.path, f.bytes);
    }
    this.paths = [...this.sizes.keys()].sort();
  }

  /** base: the folder URL (a trailing '/' is added when missing). Throws when the manifest cannot be had. */
  static async open(base: string, fetchFn: typeof fetch = fetch): Promise<UrlSource> {
    const folder = base.endsWith('/') ? base : `${base}/`;
    const res = await fetchFn(`${folder}${kManifestName}`);
    if (!res.ok) throw new Error(`${folder}${kManifestName}: HTTP ${res.status}`);
    const manifest = (await res.json()) as DatasetManifest;
    if (!manifest || !Array.isArray(manifest.files)) throw new Error(`${folder}${kManifestName}: no "files" list`);
    return new UrlSource(manifest.name ?? folder, folder, manifest, [], fetchFn);
  }

  async read(path: string): Promise<Uint8Array> {
    const res = await this.fetchFn(this.base + path.split('/').map(encodeURIComponent).join('/'));
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  readHead(path: string): Promise<Uint8Array> {
    return this.read(path);
  }

  sizeOf(path: string): number | undefined {
    return this.sizes.get(path);
  }
}
