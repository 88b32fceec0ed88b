/** Node entry point of an engine worker (worker_threads + comlink's Node adapter). */
import '../src/engine/node-wasm-features.js';
import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { NodeFileSource } from '../src/core/bytesource-node.js';
import { createEngineWorker } from '../src/engine/worker-api.js';
import { installNodeWebGpu } from '../src/engine/node-webgpu.js';

// The CLI's --webgpu (checked there first): Dawn for Node, so that 'auto' finds the GPU.
const webgpuModule = (workerData as { webgpuModule?: string } | null)?.webgpuModule;
if (webgpuModule) await installNodeWebGpu(webgpuModule);

const open = new Map<string, Promise<NodeFileSource>>();
expose(
  createEngineWorker((ref) => {
    let src = open.get(ref.path!);
    if (!src) open.set(ref.path!, (src = NodeFileSource.open(ref.path!, ref.name)));
    return src;
  }),
  nodeEndpoint(parentPort!),
);
