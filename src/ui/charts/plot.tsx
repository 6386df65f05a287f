/**
 * What the page's uPlot charts share (the training charts of LiveChart.tsx and the demos' CurveChart.tsx):
 * axis style, value format, a chart mounted once and kept at its host's width, data handed over in the
 * frame loop, and the titled frame it sits in.
 */
import { useEffect, useRef, type RefObject } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const kAxisStyle = { stroke: '#9aa4b2', grid: { stroke: '#2a313c' }, ticks: { stroke: '#2a313c' } };

/** A legend value: 4 significant digits, exponent form for the very small and very large, a dash for none. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : v.toPrecision(4);
}

/**
 * A uPlot chart in host, made once per mount from options(width) with `lines` empty series after x,
 * at least minWidth px wide and `height` px high, resized with its host and destroyed on unmount.
 */
export function usePlot(host: RefObject<HTMLDivElement | null>, options: (width: number) => uPlot.Options, lines: number,
  minWidth: number, height: number): RefObject<uPlot | undefined> {
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = host.current!;
    const empty = [[], ...Array.from({ length: lines }, () => [])] as uPlot.AlignedData;
    plot.current = new uPlot({ ...options(Math.max(minWidth, el.clientWidth)), height }, empty, el);
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(minWidth, el.clientWidth), height }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = undefined; };
    // The chart's shape is fixed per mount; data flows through the frame loop.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  return plot;
}

/** New columns [x, ...ys]; off the plot, the legend shows the latest values (on it, the values under the cursor). */
export function showData(plot: uPlot, data: uPlot.AlignedData): void {
  plot.setData(data);
  if (data[0].length > 0 && !((plot.cursor.left ?? -1) >= 0)) plot.setLegend({ idx: data[0].length - 1 });
}

export function ChartFrame({ title, testId, host }: { title: string; testId: string; host: RefObject<HTMLDivElement | null> }) {
  return (
    <div className="chart" data-testid={testId}>
      <div className="chart-title">{title}</div>
      <div ref={host} />
    </div>
  );
}
