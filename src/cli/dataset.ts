/**
 * `npm run dataset -- inspect <folder-or-zip> [--json] [--deep] [--models <models folder>]`
 * Loads a BOP or PVNet-LINEMOD dataset from a folder or a .zip and prints its format, objects, splits,
 * counts, cameras and every problem found. Exit 0 when something usable loaded, 2 when nothing did,
 * 1 on a usage error. Every image's and mask's header is read; --deep decodes them all (slow). --models names
 * the BOP model folder to take meshes from (models_reconst instead of T-LESS's models_cad).
 */
import { decodePure } from '../data/decode/pure';
import { loadDataset } from '../data/load';
import { reportOf, reportText } from '../data/inspect';
import { openNodePath } from '../data/source/node';
import { ZipError } from '../data/source/zip';

const kUsage = 'usage: npm run dataset -- inspect <folder-or-zip> [--json] [--deep] [--models <models folder>]';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  // --models takes a value ('--models models_reconst' or '--models=models_reconst'); the other options are switches.
  let modelsDir: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--models') modelsDir = args[++i] ?? '';
    else if (args[i].startsWith('--models=')) modelsDir = args[i].slice('--models='.length);
    else rest.push(args[i]);
  }
  if (modelsDir === '') {
    console.error(`--models needs a folder name\n${kUsage}`);
    return 1;
  }
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const paths = rest.filter((a) => !a.startsWith('--'));
  const unknown = [...flags].filter((f) => f !== '--json' && f !== '--deep');
  if (command !== 'inspect' || paths.length !== 1 || unknown.length > 0) {
    console.error(unknown.length ? `unknown option ${unknown.join(', ')}\n${kUsage}` : kUsage);
    return 1;
  }
  const json = flags.has('--json');
  let source;
  try {
    source = await openNodePath(paths[0]);
  } catch (e) {
    const message = e instanceof ZipError ? e.message : `${paths[0]}: ${e instanceof Error ? e.message : String(e)}`;
    if (json) console.log(JSON.stringify({ source: paths[0], usable: false, problems: [{ file: paths[0], field: '', message }] }, null, 2));
    else console.error(message);
    return 2;
  }
  const ds = await loadDataset(source, { checkFiles: flags.has('--deep') ? { decode: decodePure } : true, modelsDir });
  const report = reportOf(ds);
  console.log(json ? JSON.stringify(report, null, 2) : reportText(report));
  return report.usable ? 0 : 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(2);
  },
);
