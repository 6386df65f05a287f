import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { useApp } from '../state/store';
import type { AppState } from '../state/store';
import { useFrame } from '../useFrame';

export interface ChartLine {
  label: string;
  colour: string;
  /** y scale key: 'y' (left axis) or another key drawn on a right axis. */
  scale?: string;
  points?: boolean;
}

export interface LiveChartProps {
  title: string;
  testId: string;
  lines: ChartLine[];
  /** Reads the columns [x, ...ys] from the store's state (called in the frame loop, at most kRedrawMs). */
  columns: (s: AppState) => (number | null)[][];
  logY?: boolean;
  yLabel?: string;
  rightLabel?: string;
  height?: number;
  /** Format of y values in the legend. */
  fmt?: (v: number) => string;
}

/** Charts redraw at most this often (and only when the series changed): >= 1/s, never stalls a frame. */
const kRedrawMs = 250;

/**
 * One uPlot chart over fast state: the series are read with getState() in the frame loop and handed
 * to uPlot's setData; React renders the frame once.
 */
export function LiveChart(p: LiveChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const seen = useRef(-1);
  const last = useRef(0);
  const props = useRef(p);
  props.current = p;

  useEffect(() => {
    const el = host.current!;
    const scales: uPlot.Scales = { x: { time: false }, y: p.logY ? { distr: 3 } : {} };
    const axes: uPlot.Axis[] = [
      { stroke: '#9aa4b2', grid: { stroke: '#2a313c' }, ticks: { stroke: '#2a313c' } },
      { stroke: '#9aa4b2', grid: { stroke: '#2a313c' }, ticks: { stroke: '#2a313c' }, label: p.yLabel, size: 56 },
    ];
    const right = p.lines.find((l) => l.scale && l.scale !== 'y');
    if (right) {
      // Right-axis series here are weights that start at 0 (β's warm-up): keep 0 at the bottom.
      scales[right.scale!] = { range: (_u, _min, max) => [0, max > 0 ? 1.1 * max : 0.01] };
      axes.push({ scale: right.scale, side: 1, stroke: '#9aa4b2', grid: { show: false }, label: p.rightLabel, size: 56 });
    }
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: p.height ?? 190,
      scales,
      axes,
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      series: [
        { label: 'step' },
        ...p.lines.map((l) => ({
          label: l.label, stroke: l.colour, width: 1.6, scale: l.scale ?? 'y', spanGaps: true,
          points: { show: l.points ?? false, size: 5, fill: l.colour },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : (p.fmt ?? defaultFmt)(v)),
        })),
      ],
    };
    const empty = [[], ...p.lines.map(() => [])] as uPlot.AlignedData;
    plot.current = new uPlot(opts, empty, el);
    seen.current = -1;
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: p.height ?? 190 }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = undefined; };
    // The chart's shape is fixed per mount; data flows through the frame loop.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useFrame((t) => {
    const s = useApp.getState();
    if (!plot.current || s.chartsVersion === seen.current || t - last.current < kRedrawMs) return;
    seen.current = s.chartsVersion;
    last.current = t;
    const data = props.current.columns(s) as uPlot.AlignedData;
    plot.current.setData(data);
    // Off the plot, the legend shows the latest values (on it, the values under the cursor).
    if (data[0].length > 0 && !((plot.current.cursor.left ?? -1) >= 0)) plot.current.setLegend({ idx: data[0].length - 1 });
  });

  return (
    <div className="chart" data-testid={p.testId}>
      <div className="chart-title">{p.title}</div>
      <div ref={host} />
    </div>
  );
}

function defaultFmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toPrecision(4);
}
