#!/usr/bin/env bash
# The GPU checks of issue 4, for a lent GPU machine: Linux x64 with an NVIDIA GPU, python3 and
# torch, but no Node and no network.
#
#   here:  npm run build:cli && bash scripts/gpu-check.sh --pack
#          packs .device/ (this machine's node and Dawn for Node's Linux binary, xz'd: ~30 MB)
#   there: carry .device and dist-cli, then  OUT=<a folder> bash scripts/gpu-check.sh [layers]
#
# It prints (and writes under $OUT):
#   1. gpu-bench: whether the WebGPU Gram passes its self-test on this GPU (the opaque barriers
#      against reassociating shader compilers), its time and σ error per shape, and
#      torch.linalg.svdvals on the same GPU;
#   2. the bench's webgpu backend (GPU Gram + eigenvalues on every core) next to WASM on every core;
#   3. a CLI scan of a Llama-3-8B-shaped checkpoint of [layers] layers (default 8; 32 is the whole
#      model, 15 GB) with --webgpu: wall time, MB/s, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --pack ]; then
  [ -f dist-cli/bench.mjs ] || { echo "gpu-check: run npm run build:cli first" >&2; exit 1; }
  mkdir -p .device/webgpu
  xz -T0 -6 -c "$(command -v node)" >.device/node.xz
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/webgpu/
  xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >.device/webgpu/dawn.node.xz
  du -sh .device dist-cli
  exit 0
fi

layers="${1:-8}"
out="${OUT:-.tmp/gpu-check}"
mkdir -p "$out" .tmp/gpu node_modules/webgpu/dist/linux-x64
xz -dc .device/node.xz >.tmp/gpu/node
chmod +x .tmp/gpu/node
cp .device/webgpu/index.js .device/webgpu/package.json node_modules/webgpu/
xz -dc .device/webgpu/dawn.node.xz >node_modules/webgpu/dist/linux-x64/dawn.node
node=.tmp/gpu/node
nvidia-smi -L || true
echo "== 1. the WebGPU Gram alone, next to torch =="
"$node" dist-cli/gpu-bench.mjs --shapes 1024x4096,4096x4096,14336x4096 --out "$out/gpu-bench.json"
echo "== 2. whole singular-value computation: webgpu vs wasm on every core =="
"$node" dist-cli/bench.mjs --shapes 4096x4096,14336x4096 --backends webgpu,wasm-threads --repeats 1 --no-scan --out "$out/bench.json"
echo "== 3. CLI scan, Llama-3-8B shapes, $layers layers, --webgpu =="
"$node" dist-cli/bench.mjs --shapes 576x1536 --backends wasm-1 --repeats 1 --no-scipy \
  --scan-layers "$layers" --scan-webgpu node_modules/webgpu/index.js --out "$out/scan.json"
