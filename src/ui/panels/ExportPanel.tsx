import { useRef, useState } from 'react';
import { engine, message } from '../workerClient';
import { bopResultsName } from '../../data/bopNames';
import { download } from '../format';
import { useApp } from '../state/store';

/** The bundle (zip) and BOP CSV downloads, and a bundle's import to evaluate or to continue training. */
export function ExportPanel() {
  const status = useApp((s) => s.status);
  const dataset = useApp((s) => s.dataset);
  const [busy, setBusy] = useState<string>();
  const [note, setNote] = useState<string>();
  const [error, setError] = useState<string>();
  const [mode, setMode] = useState<'evaluate' | 'continue'>('evaluate');
  const input = useRef<HTMLInputElement>(null);
  const hasModel = status !== 'idle' && status !== 'starting';

  const run = async (what: string, fn: () => Promise<void>) => {
    setBusy(what); setError(undefined); setNote(undefined);
    try { await fn(); } catch (e) { setError(message(e)); } finally { setBusy(undefined); }
  };
  const name = (dataset?.name ?? 'poselab').replace(/[^\w.-]+/g, '_');

  return (
    <section className="card" data-testid="export-panel">
      <h2>Export and import</h2>
      <div className="row gap wrap">
        <button type="button" disabled={!hasModel || !!busy} data-testid="btn-export-bundle"
          onClick={() => void run('bundle', async () => {
            const zip = await engine().exportBundle();
            download(`${name}-step${useApp.getState().step}-bundle.zip`, zip, 'application/zip');
            setNote(`Bundle saved: model.json + weights.bin (tf.loadLayersModel), poselab.json, checkpoint (${(zip.byteLength / 1024).toFixed(0)} KiB).`);
          })}>
          Download bundle (.zip)
        </button>
        <button type="button" disabled={!hasModel || !!busy} data-testid="btn-export-csv"
          onClick={() => void run('BOP CSV', async () => {
            const csv = await engine().exportBopCsv();
            // <method>_<dataset>-<split>.csv: the name the BOP toolkit's evaluation scripts parse.
            const testSplit = dataset?.splits.find((s) => !s.split.startsWith('train') && s.split !== 'all')?.split ?? 'test';
            download(bopResultsName('poselab', dataset?.name ?? 'dataset', testSplit), csv, 'text/csv');
            setNote(`BOP results saved: ${csv.trim().split('\n').length - 1} estimates on the test split.`);
          })}>
          BOP results (.csv)
        </button>
        <span className="sep" />
        <select value={mode} onChange={(e) => setMode(e.target.value as 'evaluate' | 'continue')} aria-label="import mode">
          <option value="evaluate">import to evaluate</option>
          <option value="continue">import to continue training</option>
        </select>
        <button type="button" disabled={!dataset?.usable || !!busy} onClick={() => input.current?.click()} data-testid="btn-import">Import bundle…</button>
        <input ref={input} type="file" accept=".zip" hidden data-testid="import-input"
          onChange={(e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) {
              void run('import', async () => {
                const r = await engine().importBundle(new Uint8Array(await f.arrayBuffer()), mode);
                setNote(`${f.name}: ${r.summary}${mode === 'evaluate' ? ' — evaluated on the test split.' : ' — training continues.'}`);
              });
            }
          }} />
      </div>
      {busy && <p className="muted small">Working on the {busy}… (evaluating the test split can take a while)</p>}
      {note && <p className="small" data-testid="export-note">{note}</p>}
      {error && <p className="error-text">{error}</p>}
    </section>
  );
}
