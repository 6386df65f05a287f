import { useEffect, useRef } from 'react';

/**
 * Calls fn on every animation frame while the component is mounted (the latest fn, without
 * restarting the loop). Fast state is read inside fn with getState(); nothing here re-renders React.
 */
export function useFrame(fn: (timeMs: number) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    let id = 0;
    const loop = (t: number) => {
      ref.current(t);
      id = requestAnimationFrame(loop);
    };
    id = requestAnimationFrame(loop);
    return () => cancelAnimationFrame(id);
  }, []);
}
