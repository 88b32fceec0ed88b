// comlink ships its Node adapter without a package export map; point TypeScript at its types.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  export { default } from 'comlink/dist/esm/node-adapter';
}
