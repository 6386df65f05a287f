import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';
import { useApp, type AppState } from './state/store';

/**
 * Keeps a DOM node in step with the store without React: `write` runs on every store change (and after
 * each render) and updates the node itself. For per-step fields (step counter, throughput, ETA), which a
 * reactive binding would turn into a re-render of the panel at every batch of steps from the worker
 * (STYLE.md 9: fast state is read with subscribe/getState, never bound reactively). `write` must read the
 * store only through its argument, and touch the DOM only where a value changed.
 */
export function useLiveNode<T extends Element>(write: (el: T, s: AppState) => void): RefObject<T | null> {
  const ref = useRef<T>(null);
  const fn = useRef(write);
  fn.current = write;
  useLayoutEffect(() => { if (ref.current) fn.current(ref.current, useApp.getState()); });
  useEffect(() => useApp.subscribe((s) => { if (ref.current) fn.current(ref.current, s); }), []);
  return ref;
}

/** A node whose text is `text(state)`, written only when it changes. */
export function useLiveText<T extends Element = HTMLElement>(text: (s: AppState) => string): RefObject<T | null> {
  return useLiveNode<T>((el, s) => {
    const t = text(s);
    if (el.textContent !== t) el.textContent = t;
  });
}
