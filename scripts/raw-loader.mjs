// Node loader hook so that `import src from './x.wgsl?raw'` works under tsx exactly as under vite:
// the command line and the benchmarks import the same kernel modules as the app.
import { readFile } from 'node:fs/promises';
import { register } from 'node:module';

if (!globalThis.__poselabRawLoader) {
  globalThis.__poselabRawLoader = true;
  register(import.meta.url);
}

export async function load(url, context, nextLoad) {
  if (url.endsWith('?raw')) {
    const text = await readFile(new URL(url.slice(0, -4)), 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
