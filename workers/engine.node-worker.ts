/** Node entry point of an engine worker (worker_threads + comlink's Node adapter). */
import '../src/engine/node-wasm-features.js';
import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { NodeFileSource } from '../src/core/bytesource-node.js';
import { createEngineWorker } from '../src/engine/worker-api.js';

const open = new Map<string, Promise<NodeFileSource>>();
expose(
  createEngineWorker((ref) => {
    let src = open.get(ref.path!);
    if (!src) open.set(ref.path!, (src = NodeFileSource.open(ref.path!, ref.name)));
    return src;
  }),
  nodeEndpoint(parentPort!),
);
