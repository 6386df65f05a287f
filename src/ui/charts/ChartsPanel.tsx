import { useApp, type AppState } from '../state/store';
import { debiasedEma } from './smoothing';
import { LiveChart } from './LiveChart';

const positive = (xs: number[]) => xs.map((v) => (v > 0 && Number.isFinite(v) ? v : null));
const smooth = (s: AppState, xs: number[]) => debiasedEma(xs, s.smoothing);
const pct = (xs: number[]) => xs.map((v) => 100 * v);

/** Losses (smoothed as TensorBoard does), learning rate and β, throughput, evaluation metrics. */
export function ChartsPanel() {
  const smoothing = useApp((s) => s.smoothing);
  const setSmoothing = useApp((s) => s.setSmoothing);
  return (
    <section className="card" data-testid="charts">
      <div className="row spread">
        <h2>Live charts</h2>
        <label className="small row gap">
          smoothing
          <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} />
          <span className="mono">{smoothing.toFixed(2)}</span>
        </label>
      </div>
      <div className="chart-grid">
        <LiveChart
          title="Loss (debiased EMA)"
          testId="chart-loss"
          logY
          lines={[
            { label: 'total', colour: '#e8eaed' },
            { label: 'heatmap', colour: '#4cc9f0' },
            { label: 'keypoint', colour: '#f7b801' },
            { label: 'pose', colour: '#f72585' },
            { label: 'localiser', colour: '#b388ff' },
          ]}
          columns={(s) => {
            const c = s.series;
            return [c.step, positive(smooth(s, c.total)), positive(smooth(s, c.heatmap)), positive(smooth(s, c.keypoint)), positive(smooth(s, c.pose)), positive(smooth(s, c.localiser))];
          }}
        />
        <LiveChart
          title="Learning rate and β"
          testId="chart-lr"
          yLabel="lr"
          rightLabel="β"
          lines={[{ label: 'lr', colour: '#3ddc97' }, { label: 'β', colour: '#f72585', scale: 'beta' }]}
          columns={(s) => [s.series.step, s.series.lr, s.series.beta]}
        />
        <LiveChart
          title="Throughput"
          testId="chart-throughput"
          yLabel="images / s"
          lines={[{ label: 'images/s', colour: '#b388ff' }]}
          columns={(s) => [s.series.step, smooth(s, s.series.imagesPerSec)]}
        />
        <LiveChart
          title="Evaluation (test split, crops from the localiser unless marked oracle)"
          testId="chart-eval"
          yLabel="% correct"
          fmt={(v) => `${v.toFixed(1)}%`}
          lines={[
            { label: 'ADD(-S) 0.1d', colour: '#3ddc97', points: true },
            { label: '2D proj. 5 px', colour: '#4cc9f0', points: true },
            { label: '5 cm 5°', colour: '#f7b801', points: true },
          ]}
          columns={(s) => [s.series.evalStep, pct(s.series.add01d), pct(s.series.proj5px), pct(s.series.cm5deg5)]}
        />
      </div>
    </section>
  );
}
