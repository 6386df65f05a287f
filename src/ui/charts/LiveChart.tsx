import { useRef } from 'react';
import type uPlot from 'uplot';
import { useApp } from '../state/store';
import type { AppState } from '../state/store';
import { useFrame } from '../useFrame';
import { ChartFrame, formatValue, kAxisStyle, showData, usePlot } from './plot';

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
  const seen = useRef(-1);
  const last = useRef(0);
  const props = useRef(p);
  props.current = p;

  const plot = usePlot(host, (width) => {
    const scales: uPlot.Scales = { x: { time: false }, y: p.logY ? { distr: 3 } : {} };
    const axes: uPlot.Axis[] = [kAxisStyle, { ...kAxisStyle, label: p.yLabel, size: 56 }];
    const right = p.lines.find((l) => l.scale && l.scale !== 'y');
    if (right) {
      // Right-axis series here are weights that start at 0 (β's warm-up): keep 0 at the bottom.
      scales[right.scale!] = { range: (_u, _min, max) => [0, max > 0 ? 1.1 * max : 0.01] };
      axes.push({ scale: right.scale, side: 1, stroke: kAxisStyle.stroke, grid: { show: false }, label: p.rightLabel, size: 56 });
    }
    return {
      width,
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
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : (p.fmt ?? formatValue)(v)),
        })),
      ],
    };
  }, p.lines.length, 200, p.height ?? 190);

  useFrame((t) => {
    const s = useApp.getState();
    if (!plot.current || s.chartsVersion === seen.current || t - last.current < kRedrawMs) return;
    seen.current = s.chartsVersion;
    last.current = t;
    showData(plot.current, props.current.columns(s) as uPlot.AlignedData);
  });

  return <ChartFrame title={p.title} testId={p.testId} host={host} />;
}
