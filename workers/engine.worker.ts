/** Browser entry point of an engine worker: reads the dropped File by slices, computes, replies. */
import { expose } from 'comlink';
import { BlobSource } from '../src/core/bytesource.js';
import { createEngineWorker } from '../src/engine/worker-api.js';

expose(createEngineWorker((ref) => Promise.resolve(new BlobSource(ref.blob!, ref.name))));
