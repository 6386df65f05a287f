import { lazy, Suspense, useEffect, useState, type ComponentType } from 'react';
import { ChartsPanel } from './charts/ChartsPanel';
import { connect, engine, message } from './workerClient';
import { DatasetReport } from './panels/DatasetReport';
import { DatasetView } from './panels/DatasetView';
import { DropZone } from './panels/DropZone';
import { ExportPanel } from './panels/ExportPanel';
import { Notices } from './panels/Notices';
import { Predictions } from './panels/Predictions';
import { TrainingPanel } from './panels/TrainingPanel';
import { useApp } from './state/store';
import { TryItView } from './tryit/TryItView';
import { useLiveText } from './useLive';

type Tab = 'dataset' | 'train' | 'tryit' | 'demos';

// The Demos view is its own chunk, loaded when its tab is first opened.
const demoModules = import.meta.glob<{ DemosView: ComponentType }>('./demos/DemosView.tsx');
const DemosView = demoModules['./demos/DemosView.tsx']
  ? lazy(async () => ({ default: (await demoModules['./demos/DemosView.tsx']()).DemosView }))
  : undefined;

/** Pauses training while the tab is hidden (browsers throttle it anyway) and resumes when it is back. */
function useBackgroundPause(): void {
  useEffect(() => {
    const onChange = () => {
      const s = useApp.getState();
      if (document.visibilityState === 'hidden' && s.status === 'running') {
        s.setPausedInBackground(true);
        void engine().pause();
      } else if (document.visibilityState === 'visible' && s.pausedInBackground) {
        void engine().resume();
      }
    };
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }, []);
}

/** The Train tab's '● step/total': the step is written on store changes, not rendered (useLive). */
function TabNote({ paused }: { paused: boolean }) {
  const progress = useLiveText((s) => `${s.step}/${s.totalSteps}`);
  return <span className="tab-note"> {paused ? '‖' : '●'} <span ref={progress} /></span>;
}

export function App() {
  const [tab, setTab] = useState<Tab>('dataset');
  const [fatal, setFatal] = useState<string>();
  const backend = useApp((s) => s.backend);
  const status = useApp((s) => s.status);
  useBackgroundPause();
  useEffect(() => {
    connect().catch((e: unknown) => setFatal(`The training worker could not start: ${message(e)}`));
  }, []);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo">◆</span> PoseLab
          <span className="tagline">6-DoF pose training in the browser, through a differentiable PnP layer</span>
        </div>
        <nav className="tabs" role="tablist">
          {(['dataset', 'train', 'tryit', 'demos'] as Tab[]).map((t) => (
            <button key={t} role="tab" type="button" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)} data-testid={`tab-${t}`}>
              {t === 'dataset' ? 'Dataset' : t === 'train' ? 'Train' : t === 'tryit' ? 'Try it' : 'Demos'}
              {/* '‖' rather than '⏸', which fonts without emoji (Linux's DejaVu among them) draw as an empty box. */}
              {t === 'train' && (status === 'running' || status === 'paused') && <TabNote paused={status === 'paused'} />}
            </button>
          ))}
        </nav>
        <span className={`badge ${backend?.webgpu ? 'ok' : backend ? 'warn' : ''}`} data-testid="gpu-status">
          {!backend ? 'starting…' : backend.webgpu ? `WebGPU · ${backend.adapter}` : `CPU · ${backend.backend} (no WebGPU)`}
        </span>
      </header>
      <main>
        {fatal && <div className="notice warn">{fatal}</div>}
        <Notices />
        <div hidden={tab !== 'dataset'} className="stack">
          <DropZone />
          <DatasetReport />
          <DatasetView />
        </div>
        {tab === 'train' && (
          <div className="train-layout">
            <div className="stack">
              <TrainingPanel />
              <ExportPanel />
            </div>
            <div className="stack">
              <ChartsPanel />
              <Predictions />
            </div>
          </div>
        )}
        {tab === 'tryit' && <TryItView />}
        {tab === 'demos' && (
          <div className="stack">
            {DemosView
              ? <Suspense fallback={<p className="muted">Loading the demos…</p>}><DemosView /></Suspense>
              : <section className="card muted">The demos are not part of this build yet.</section>}
          </div>
        )}
      </main>
    </div>
  );
}
