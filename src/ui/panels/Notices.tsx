import { resumeSaved, engine } from '../workerClient';
import { fmtTime } from '../format';
import { useApp } from '../state/store';

/** Plain-language notices: no WebGPU, paused in the background, a run that can be resumed. */
export function Notices() {
  const backend = useApp((s) => s.backend);
  const background = useApp((s) => s.pausedInBackground);
  const saved = useApp((s) => s.savedRun);
  const setSavedRun = useApp((s) => s.setSavedRun);
  const status = useApp((s) => s.status);
  const runError = useApp((s) => s.runError);
  const runNotice = useApp((s) => s.runNotice);
  return (
    <div className="notices">
      {backend?.notice && <div className="notice warn" data-testid="no-webgpu">{backend.notice}</div>}
      {runNotice && <div className="notice warn" data-testid="run-notice">{runNotice}</div>}
      {status === 'error' && runError && <div className="notice warn" data-testid="run-error-notice">Training stopped: {runError}</div>}
      {background && (
        <div className="notice info" data-testid="background-notice">
          Training is paused while this tab is in the background; it resumes when you come back.
        </div>
      )}
      {saved && status !== 'running' && (
        <div className="notice resume" data-testid="resume-offer">
          <span>
            A run was left at step <b>{saved.step}</b> of {saved.totalSteps} ({saved.settings.preset} preset), saved {fmtTime(saved.savedAt)},
            on {saved.dataset.label}.{' '}
            {saved.dataset.readable ? 'Its dataset is still readable.' : `Its dataset cannot be reloaded: ${saved.dataset.why ?? 'unknown reason'}.`}
          </span>
          <span className="row gap">
            <button type="button" className="primary" data-testid="btn-resume-saved" onClick={() => void resumeSaved()}>Resume from checkpoint</button>
            <button type="button" className="ghost" onClick={() => { setSavedRun(undefined); void engine().discardSaved(); }}>Discard</button>
          </span>
        </div>
      )}
    </div>
  );
}
