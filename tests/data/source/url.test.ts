import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src/data/load';
import { UrlSource } from '../../../src/data/source/url';
import { bopFixture } from '../fixtures';

describe('UrlSource', () => {
  it('lists a served dataset from its manifest and fetches files on demand', async () => {
    const files = bopFixture();
    const fetched: string[] = [];
    const fakeFetch = (async (url: string | URL | Request) => {
      const u = String(url);
      fetched.push(u);
      const path = decodeURIComponent(u.replace('http://x/datasets/fix/', ''));
      if (path === 'manifest.json') {
        return new Response(JSON.stringify({ name: 'fix', files: [...files].map(([p, b]) => ({ path: p, bytes: b.length })) }));
      }
      const b = files.get(path);
      return b ? new Response(b as Uint8Array<ArrayBuffer>) : new Response('no', { status: 404 });
    }) as typeof fetch;
    const src = await UrlSource.open('http://x/datasets/fix', fakeFetch);
    expect(src.paths).toHaveLength(files.size);
    const ds = await loadDataset(src);
    expect(ds.problems).toEqual([]);
    expect(ds.images).toHaveLength(5);
    // Indexing reads JSON, models and one image header per scene, not every image.
    expect(fetched.filter((u) => u.includes('/rgb/')).length).toBe(2);
  });
});
