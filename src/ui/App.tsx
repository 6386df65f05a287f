import { useEffect, useState } from 'react';

type GpuState = { kind: 'checking' } | { kind: 'webgpu'; adapter: string } | { kind: 'none'; why: string };

/** App shell: says plainly whether WebGPU is there, since every later panel depends on it. */
export function App() {
  const [gpu, setGpu] = useState<GpuState>({ kind: 'checking' });
  useEffect(() => {
    (async () => {
      if (!('gpu' in navigator) || !navigator.gpu) return setGpu({ kind: 'none', why: 'navigator.gpu is missing' });
      const adapter = await navigator.gpu.requestAdapter();
      if (!adapter) return setGpu({ kind: 'none', why: 'no WebGPU adapter was offered' });
      setGpu({ kind: 'webgpu', adapter: adapter.info?.description || adapter.info?.vendor || 'unnamed adapter' });
    })().catch((e: unknown) => setGpu({ kind: 'none', why: String(e) }));
  }, []);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', margin: '2rem', color: '#1d232b' }}>
      <h1>PoseLab</h1>
      <p>Object-pose training in the browser, end to end through a batched differentiable PnP layer.</p>
      <p data-testid="gpu-status">
        {gpu.kind === 'checking' && 'Looking for WebGPU…'}
        {gpu.kind === 'webgpu' && `WebGPU: ${gpu.adapter}`}
        {gpu.kind === 'none' && `WebGPU is not available (${gpu.why}); PoseLab will run on the CPU backend, much more slowly.`}
      </p>
    </main>
  );
}
