// comlink ships its Node adapter as node-adapter.mjs beside a node-adapter.d.ts; Node needs the .mjs
// name, TypeScript finds the types under the other.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  export { default } from 'comlink/dist/esm/node-adapter';
}
