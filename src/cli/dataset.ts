/**
 * `npm run dataset -- inspect <folder-or-zip> [--json] [--deep] [--models <models folder>]`
 * Loads a BOP or PVNet-LINEMOD dataset from a folder or a .zip and prints its format, objects, splits,
 * counts, cameras and every problem found. Exit 0 when something usable loaded, 1 when nothing did,
 * 2 on bad arguments (a usage error, a path that cannot be opened, a --models folder that is not there). Every image's and mask's header is read; --deep
 * decodes them all (slow). --models names the BOP model folder at the dataset's root to take meshes from
 * (models_reconst instead of T-LESS's models_cad); a name that is not there is an input error.
 */
import { decodePure } from '../data/decode/pure';
import { bopModelFolders } from '../data/formats/bopModels';
import { detectFormat } from '../data/formats/detect';
import { loadDataset } from '../data/load';
import { reportOf, reportText } from '../data/inspect';
import { openNodePath } from '../data/source/node';
import type { ByteSource } from '../data/source/source';
import { ZipError } from '../data/source/zip';
import { InputError, notFound, parseCommandLine, runMain, UsageError } from './common';

const kUsage = 'usage: npm run dataset -- inspect <folder-or-zip> [--json] [--deep] [--models <models folder>]';

const kHelp = `${kUsage}

Loads a BOP or PVNet-LINEMOD dataset from a folder or a .zip and prints what it found: the format, the
objects (id, vertices, diameter), the splits with image, instance and mask counts, the cameras, the
evaluation models and test targets when present, the OS or tool litter ignored, and every problem, each
naming its file, field and value.
--json    the same report as JSON on stdout.
--deep    decodes every image and mask (slow); without it, every image's and mask's header is read.
--models  the BOP model folder at the dataset's root to take the meshes from (models_reconst instead of
          T-LESS's models_cad); a name that is not there is an error listing the model folders found.
Exit codes: 0 something usable loaded (read the problems all the same), 1 nothing usable loaded, 2 bad
            arguments or a path that cannot be opened.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' }, deep: { type: 'boolean' }, models: { type: 'string' } }, 2);
  const [command, path] = positionals;
  if (command !== 'inspect') throw new UsageError(command === undefined ? 'expected a command: inspect' : `unknown command ${command}`);
  if (path === undefined) throw new UsageError('inspect: expected the dataset\'s folder or zip');
  let source;
  try {
    source = await openNodePath(path);
  } catch (e) {
    // One clear line (or the JSON report), not the usage: the arguments were well formed.
    // openNodePath's own messages begin with the path; others get it in front.
    const text = e instanceof Error ? e.message : String(e);
    const message = text === `${path}: no such file or folder` ? `${path}: ${notFound(path)}`
      : e instanceof ZipError || text.startsWith(`${path}: `) ? text : `${path}: ${text}`;
    if (values.json) console.log(JSON.stringify({ source: path, usable: false, problems: [{ file: path, field: '', message }] }, null, 2));
    else console.error(message);
    return 2;
  }
  if (values.models !== undefined) checkModelsFolder(source, path, values.models);
  const ds = await loadDataset(source, { checkFiles: values.deep ? { decode: decodePure } : true, modelsDir: values.models });
  const report = reportOf(ds);
  console.log(values.json ? JSON.stringify(report, null, 2) : reportText(report));
  return report.usable ? 0 : 1;
}

/** --models names a model folder at the BOP dataset's root; one that is not there is an input error naming it, no fallback. */
function checkModelsFolder(source: ByteSource, path: string, models: string): void {
  const found = detectFormat(source.paths, source.label);
  if (found.format !== 'bop') {
    throw new InputError(`--models ${models}: names a BOP model folder, and ${path} is ${found.format === 'none' ? 'no dataset PoseLab recognises' : `a ${found.format} dataset`}`);
  }
  const folders = [...bopModelFolders(source.paths, found.root)].sort();
  if (!folders.includes(models)) {
    throw new InputError(`--models ${models}: no such model folder in ${path}${found.root ? ` (at ${found.root})` : ''}; ` +
      `its model folders: ${folders.join(', ') || 'none'} (give the folder's name, e.g. models_cad)`);
  }
}

runMain(() => main(process.argv.slice(2)), kUsage, kHelp);
