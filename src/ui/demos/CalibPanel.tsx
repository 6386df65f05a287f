/**
 * The calibration demo: the four intrinsics against their true values, as a chart over the iterations
 * and a table of the latest estimate, written into the DOM in the frame loop.
 */
import { useRef, type RefObject } from 'react';
import type { CalibrationDemo, CalibrationStep } from '../../demos/createDemo';
import { kIntrinsicNames } from '../../demos/calibration';
import { useFrame } from '../useFrame';
import { CurveChart } from './CurveChart';
import type { DemoRecord } from './recorder';

const kColours = ['#4cc9f0', '#f7b801', '#3ddc97', '#ff5d73'];

export function CalibPanel({ record }: { record: RefObject<DemoRecord | null> }) {
  const cells = useRef<(HTMLTableCellElement | null)[]>([]);
  const seen = useRef<{ r: DemoRecord | null; v: number }>({ r: null, v: -1 });

  useFrame(() => {
    const r = record.current;
    if (!r || r.demo.kind !== 'calib' || (r === seen.current.r && r.version === seen.current.v)) return;
    seen.current = { r, v: r.version };
    const { trueIntrinsics, initialIntrinsics } = (r.demo as CalibrationDemo).scene;
    const step = r.last as CalibrationStep | null;
    kIntrinsicNames.forEach((_, i) => {
      const row = cells.current.slice(4 * i, 4 * i + 4);
      const texts = [
        initialIntrinsics[i].toFixed(2),
        step ? step.intrinsics[i].toFixed(3) : '—',
        trueIntrinsics[i].toFixed(3),
        step ? `${(100 * step.relativeErrors[i]).toFixed(4)}%` : '—',
      ];
      row.forEach((c, j) => { if (c) c.textContent = texts[j]; });
    });
  });

  return (
    <div className="stack" style={{ gap: '0.6rem' }}>
      <table className="mono small" data-testid="demo-calib-table" style={{ borderCollapse: 'collapse' }}>
        <thead>
          <tr className="muted">
            <th style={{ textAlign: 'left' }}>px</th><th>start</th><th>estimate</th><th>truth</th><th>relative error</th>
          </tr>
        </thead>
        <tbody>
          {kIntrinsicNames.map((name, i) => (
            <tr key={name}>
              <td style={{ color: kColours[i] }}>{name}</td>
              {[0, 1, 2, 3].map((j) => (
                <td key={j} ref={(c) => { cells.current[4 * i + j] = c; }} style={{ textAlign: 'right', padding: '0.1rem 0.8rem' }}>—</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <CurveChart
        title="Intrinsics (solid) against their true values (dashed), px"
        testId="demo-calib-chart"
        record={record}
        yLabel="px"
        lines={[
          ...kIntrinsicNames.map((name, i) => ({ label: name, colour: kColours[i] })),
          ...kIntrinsicNames.map((name, i) => ({ label: `true ${name}`, colour: kColours[i], dash: [5, 4] })),
        ]}
        columns={(r) => {
          // Between a switch of demo and the old run's release, the record may still be another demo's.
          if (r.demo.kind !== 'calib') return [[], ...Array.from({ length: 8 }, () => [])];
          const truth = r.demo.scene.trueIntrinsics;
          return [r.iteration, ...r.intrinsics, ...Array.from(truth, (t) => r.iteration.map(() => t))];
        }}
      />
    </div>
  );
}
