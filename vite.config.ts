import { defineConfig } from 'vite';

// React is compiled by esbuild's automatic JSX runtime (tsconfig "jsx": "react-jsx"), so no plugin is needed.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  server: { host: '127.0.0.1', port: 5173 },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
});
