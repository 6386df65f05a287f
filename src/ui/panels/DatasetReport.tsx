import type { DatasetSummary } from '../../worker/protocol';
import { useApp } from '../state/store';

/** What was loaded, and the validation report: every problem with its file and field. */
const kLayoutNames: Record<DatasetSummary['format'], string> = {
  bop: 'BOP', pvnet: 'PVNet LINEMOD', 'pvnet-custom': "clean-pvnet's custom", unknown: 'unknown',
};

export function DatasetReport() {
  const d = useApp((s) => s.dataset);
  const error = useApp((s) => s.loadError);
  if (error) return <section className="card error-card" data-testid="load-error">{error}</section>;
  if (!d) return null;
  const byFile = new Map<string, { field: string; message: string }[]>();
  for (const p of d.problems) {
    const l = byFile.get(p.file);
    if (l) l.push(p);
    else byFile.set(p.file, [p]);
  }
  return (
    <section className="card" data-testid="dataset-report">
      <div className="row spread">
        <h2>{d.name} <span className="muted small">{d.label !== d.name ? d.label : ''}</span></h2>
        <span className={`badge ${d.usable ? 'ok' : 'bad'}`}>{d.usable ? 'ready to train' : 'not usable'}</span>
      </div>
      <div className="facts">
        <span><b>{kLayoutNames[d.format]}</b> layout</span>
        <span><b>{d.images}</b> images</span>
        <span><b>{d.instances}</b> instances</span>
        <span><b>{d.objects.length}</b> object{d.objects.length === 1 ? '' : 's'}</span>
        {d.splits.map((s) => <span key={s.split}>{s.split}: <b>{s.images}</b></span>)}
      </div>
      <div className="objects">
        {d.objects.map((o) => (
          <span key={o.id} className="chip">
            #{o.id} {o.name} · {Number.isFinite(o.diameterMm) ? `${o.diameterMm.toFixed(0)} mm` : 'size unknown'}{o.symmetric ? ' · symmetric' : ''}{o.hasMesh ? '' : ' · no mesh'} · {o.instances} inst.
          </span>
        ))}
      </div>
      {d.images > 0 && !d.splits.some((s) => s.split.startsWith('train')) && (
        <p className="muted small" data-testid="auto-split">
          No training split in this dataset: training takes a seeded 15% of each scene's images, and evaluation, during
          training and of the exported model, covers the other 85%.
        </p>
      )}
      {d.problems.length === 0
        ? <p className="muted small" data-testid="no-problems">Validation: no problems found.</p>
        : (
          <details open={!d.usable || d.problems.length <= 12} data-testid="problems">
            <summary>Validation: {d.problems.length} problem{d.problems.length === 1 ? '' : 's'} in {byFile.size} file{byFile.size === 1 ? '' : 's'}</summary>
            <table className="problems">
              <thead><tr><th>file</th><th>field</th><th>problem</th></tr></thead>
              <tbody>
                {[...byFile].flatMap(([file, ps]) => ps.map((p, i) => (
                  <tr key={`${file}|${i}`} className="problem-line">
                    <td className="mono">{i === 0 ? file : ''}</td>
                    <td className="mono">{p.field}</td>
                    <td>{p.message}</td>
                  </tr>
                )))}
              </tbody>
            </table>
          </details>
        )}
    </section>
  );
}
