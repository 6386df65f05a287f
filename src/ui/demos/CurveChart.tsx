/**
 * A uPlot chart of a running demo's curves: columns are read from the record in the frame loop (at most
 * every kRedrawMs and only when a step was added), never through React state.
 */
import { useRef, type RefObject } from 'react';
import type uPlot from 'uplot';
import { ChartFrame, formatValue, kAxisStyle, showData, usePlot } from '../charts/plot';
import { useFrame } from '../useFrame';
import type { DemoRecord } from './recorder';

export interface CurveLine {
  label: string;
  colour: string;
  /** 'y' (left axis) or 'r' (right axis) */
  scale?: 'y' | 'r';
  dash?: number[];
}

export interface CurveChartProps {
  title: string;
  lines: CurveLine[];
  /** [x, ...ys] from the record */
  columns: (r: DemoRecord) => number[][];
  logY?: boolean;
  logR?: boolean;
  yLabel?: string;
  rLabel?: string;
  record: RefObject<DemoRecord | null>;
  testId: string;
}

const kRedrawMs = 200;

export function CurveChart(p: CurveChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const seen = useRef<{ record: DemoRecord | null; version: number }>({ record: null, version: -1 });
  const last = useRef(0);
  const props = useRef(p);
  props.current = p;

  const plot = usePlot(host, (width) => {
    const hasRight = p.lines.some((l) => l.scale === 'r');
    return {
      width,
      height: 200,
      scales: { x: { time: false }, y: p.logY ? { distr: 3 } : {}, ...(hasRight ? { r: p.logR ? { distr: 3 } : {} } : {}) },
      axes: [
        kAxisStyle,
        { ...kAxisStyle, label: p.yLabel, size: 60 },
        ...(hasRight ? [{ ...kAxisStyle, scale: 'r', side: 1, grid: { show: false }, label: p.rLabel, size: 60 }] : []),
      ],
      legend: { live: true },
      series: [
        { label: 'iteration' },
        ...p.lines.map((l) => ({ label: l.label, stroke: l.colour, width: 1.6, scale: l.scale ?? 'y', dash: l.dash, value: (_u: uPlot, v: number | null) => formatValue(v) })),
      ],
    };
  }, p.lines.length, 240, 200);

  useFrame((t) => {
    const r = props.current.record.current;
    if (!plot.current || t - last.current < kRedrawMs) return;
    if (r === seen.current.record && (r === null || r.version === seen.current.version)) return;
    seen.current = { record: r, version: r?.version ?? -1 };
    last.current = t;
    const data = r ? props.current.columns(r) : [[], ...props.current.lines.map(() => [])];
    showData(plot.current, data as uPlot.AlignedData);
  });

  return <ChartFrame title={p.title} testId={p.testId} host={host} />;
}
