/**
 * After `stryker run` (npm run test:mutation): the mutation score per module from Stryker's JSON report
 * (test-results/mutation/mutation.json, the mutation-testing-report-schema), written to
 * bench/results/mutation.json, and every surviving mutant with its line and replacement to
 * bench/results/mutation-survivors.md, so a run leaves a record beside the benchmarks.
 *
 * Score = detected / (detected + undetected), detected = killed + timed out, undetected = survived + no
 * coverage; mutants that do not compile (the TypeScript checker) or crash the runner are not counted, as
 * Stryker counts them.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

interface Location { line: number; column: number }
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: 'Killed' | 'Survived' | 'NoCoverage' | 'Timeout' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';
  location: { start: Location; end: Location };
}
interface Report { files: Record<string, { source: string; mutants: Mutant[] }> }

const [inPath = 'test-results/mutation/mutation.json', outJson = 'bench/results/mutation.json', outMd = 'bench/results/mutation-survivors.md'] = process.argv.slice(2);
const report = JSON.parse(readFileSync(inPath, 'utf8')) as Report;

const rows: Record<string, Record<string, number> & { score: number }> = {};
const lines: string[] = ['# Surviving mutants', '', `From \`npm run test:mutation\` (${new Date().toISOString().slice(0, 10)}); what each means and why it is left: README, "Mutation testing".`, ''];
for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
  const count = (s: Mutant['status']) => mutants.filter((m) => m.status === s).length;
  const detected = count('Killed') + count('Timeout');
  const undetected = count('Survived') + count('NoCoverage');
  rows[file] = {
    mutants: mutants.length, killed: count('Killed'), timeout: count('Timeout'), survived: count('Survived'), noCoverage: count('NoCoverage'),
    compileError: count('CompileError'), runtimeError: count('RuntimeError'), score: detected + undetected ? (100 * detected) / (detected + undetected) : 100,
  };
  const left = mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage').sort((a, b) => a.location.start.line - b.location.start.line);
  if (!left.length) continue;
  lines.push(`## ${file} (${left.length})`, '');
  const src = source.split('\n');
  for (const m of left) {
    const { start, end } = m.location;
    const original = start.line === end.line ? src[start.line - 1].slice(start.column - 1, end.column - 1) : `${src[start.line - 1].slice(start.column - 1)} ...`;
    const one = (s: string) => s.replace(/\s+/g, ' ').trim().slice(0, 140);
    lines.push(`- line ${start.line} ${m.mutatorName}${m.status === 'NoCoverage' ? ' (no test reaches it)' : ''}: \`${one(original)}\` -> \`${one(m.replacement ?? '')}\``);
  }
  lines.push('');
}
const total = Object.values(rows).reduce((a, r) => ({ d: a.d + r.killed + r.timeout, u: a.u + r.survived + r.noCoverage }), { d: 0, u: 0 });
mkdirSync(dirname(outJson), { recursive: true });
writeFileSync(outJson, `${JSON.stringify({ date: new Date().toISOString(), files: rows, score: (100 * total.d) / (total.d + total.u) }, null, 2)}\n`);
writeFileSync(outMd, `${lines.join('\n')}\n`);
console.log('| module | mutants | killed | timed out | survived | no coverage | did not compile | score |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const [file, r] of Object.entries(rows)) {
  console.log(`| ${file} | ${r.mutants} | ${r.killed} | ${r.timeout} | ${r.survived} | ${r.noCoverage} | ${r.compileError} | ${r.score.toFixed(1)}% |`);
}
console.log(`all: ${((100 * total.d) / (total.d + total.u)).toFixed(1)}%; ${outJson}, ${outMd}`);
