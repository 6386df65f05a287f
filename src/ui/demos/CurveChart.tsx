/**
 * A uPlot chart of a running demo's curves: columns are read from the record in the frame loop (at most
 * every kRedrawMs and only when a step was added), never through React state.
 */
import { useEffect, useRef, type RefObject } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
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
const axisStyle = { stroke: '#9aa4b2', grid: { stroke: '#2a313c' }, ticks: { stroke: '#2a313c' } };

function fmt(v: number | null): string {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toPrecision(4);
}

export function CurveChart(p: CurveChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const seen = useRef<{ record: DemoRecord | null; version: number }>({ record: null, version: -1 });
  const last = useRef(0);
  const props = useRef(p);
  props.current = p;

  useEffect(() => {
    const el = host.current!;
    const hasRight = p.lines.some((l) => l.scale === 'r');
    const opts: uPlot.Options = {
      width: Math.max(240, el.clientWidth),
      height: 200,
      scales: { x: { time: false }, y: p.logY ? { distr: 3 } : {}, ...(hasRight ? { r: p.logR ? { distr: 3 } : {} } : {}) },
      axes: [
        axisStyle,
        { ...axisStyle, label: p.yLabel, size: 60 },
        ...(hasRight ? [{ ...axisStyle, scale: 'r', side: 1, grid: { show: false }, label: p.rLabel, size: 60 }] : []),
      ],
      legend: { live: true },
      series: [
        { label: 'iteration' },
        ...p.lines.map((l) => ({ label: l.label, stroke: l.colour, width: 1.6, scale: l.scale ?? 'y', dash: l.dash, value: (_u: uPlot, v: number | null) => fmt(v) })),
      ],
    };
    plot.current = new uPlot(opts, [[], ...p.lines.map(() => [])] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(240, el.clientWidth), height: 200 }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = undefined; };
    // The chart's shape is fixed per mount (the parent remounts it per demo kind); data flows per frame.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useFrame((t) => {
    const r = props.current.record.current;
    if (!plot.current || t - last.current < kRedrawMs) return;
    if (r === seen.current.record && (r === null || r.version === seen.current.version)) return;
    seen.current = { record: r, version: r?.version ?? -1 };
    last.current = t;
    const data = r ? props.current.columns(r) : [[], ...props.current.lines.map(() => [])];
    plot.current.setData(data as uPlot.AlignedData);
    if (data[0].length > 0 && !((plot.current.cursor.left ?? -1) >= 0)) plot.current.setLegend({ idx: data[0].length - 1 });
  });

  return (
    <div className="chart" data-testid={p.testId}>
      <div className="chart-title">{p.title}</div>
      <div ref={host} />
    </div>
  );
}
