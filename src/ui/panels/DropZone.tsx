import { useRef, useState, type DragEvent } from 'react';
import { collectDataTransfer } from '../../data/source/dropped';
import { loadBundled, loadDropped } from '../workerClient';
import { useApp } from '../state/store';

/**
 * Where a dataset comes in: drop a folder, files or a zip (BOP or PVNet LINEMOD layout), or pick them.
 * Entries are taken from the DataTransfer synchronously (it is emptied when the handler returns) and
 * walked afterwards; the files themselves go to the worker, which opens zips and validates.
 */
export function DropZone() {
  const [over, setOver] = useState(false);
  const loading = useApp((s) => s.loading);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const dropped = collectDataTransfer(e.dataTransfer);
    void (async () => {
      // Unreadable entries and ignored litter travel with the files and are shown with the dataset's problems.
      const { label, files, problems } = await dropped;
      if (files.length === 0) {
        const why = problems.map((p) => `${p.file}: ${p.message}`).join('; ');
        useApp.getState().setLoadError(`Nothing readable was dropped.${why ? ` ${why}` : ''}`);
      } else await loadDropped(label, files, problems);
    })();
  };

  const onPick = (list: FileList | null) => {
    if (!list || list.length === 0) return;
    const files = Array.from(list, (f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob }));
    const root = files[0].path.split('/')[0];
    void loadDropped(files.length === 1 ? files[0].path : root || `${files.length} files`, files);
  };

  const p = loading?.progress;
  const frac = p && p.phase === 'checking' && p.total > 0 ? p.done / p.total : undefined;
  return (
    <section
      className={`dropzone${over ? ' over' : ''}`}
      data-testid="dropzone"
      onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; setOver(true); }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <div className="dropzone-text">
        <strong>Drop a dataset here</strong>
        <span className="muted">a folder, files or a .zip — BOP (LINEMOD, LM-O…) or PVNet's LINEMOD layout</span>
      </div>
      <div className="row gap">
        <button type="button" onClick={() => filesInput.current?.click()}>Choose files or zip…</button>
        <button type="button" onClick={() => folderInput.current?.click()}>Choose folder…</button>
        <button type="button" className="ghost" onClick={() => void loadBundled()}>Bundled dataset</button>
      </div>
      <input ref={filesInput} type="file" multiple hidden onChange={(e) => onPick(e.target.files)} />
      <input ref={folderInput} type="file" hidden {...{ webkitdirectory: '' }} onChange={(e) => onPick(e.target.files)} />
      {loading && (
        <div className="load-progress" data-testid="load-progress">
          <div className="muted">
            {loading.label}: {p?.phase === 'listing' && 'reading the file list…'}
            {p?.phase === 'indexing' && `indexing ${p.total} files…`}
            {p?.phase === 'checking' && `checking images and masks ${p.done} / ${p.total}`}
            {p?.phase === 'done' && 'done'}
          </div>
          <progress max={1} value={frac} />
        </div>
      )}
    </section>
  );
}
