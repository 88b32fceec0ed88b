#!/usr/bin/env bash
# The GPU checks of issue 4, for a lent GPU machine: Linux x64 with an NVIDIA GPU, python3 and
# torch, but no Node, maybe no Vulkan loader, and no network.
#
#   here:  npm run build:cli && bash scripts/gpu-check.sh --pack
#          packs .device/: this machine's node and Dawn for Node's Linux binary (xz'd), and
#          Debian's Vulkan loader (libvulkan1) in case the GPU machine has none (~30 MB in all)
#   there: carry .device and dist-cli, then  OUT=<a folder> bash scripts/gpu-check.sh [layers]
#          (the steps stop at 150 + 90 + 120 + 110 + 110 s: under the device tool's 600 s a call)
#          (a dry run here on SwiftShader: GPU_CHECK_DRY=1 bash scripts/gpu-check.sh 1)
#
# It prints (and writes under $OUT, with the whole log in $OUT/gpu-check.log):
#   0. the Vulkan loader and driver Dawn will use, and the adapter it finds;
#   1. gpu-bench: whether the WebGPU Gram passes its self-test on this GPU (the opaque barriers
#      against reassociating shader compilers), its time and σ error per shape, the experimental
#      GPU dense → band reduction on the same Gram (band-gpu.ts: time, GPU wait, host time, σ
#      error), and torch.linalg.svdvals on the same GPU;
#   2. the bench's webgpu backend (GPU Gram + eigenvalues on every core) next to WASM on every core;
#   3. a CLI scan of a Llama-3-8B-shaped checkpoint of [layers] layers (default 8; 32 is the whole
#      model, 15 GB) with --webgpu: wall time, MB/s, peak RSS;
#   4. the same scan on the CPU cores alone, for the ratio;
#   5. the same scan with the experimental --gpu-eigen (the reductions on the GPU too).
# Each step has its own time limit, and a step that fails does not stop the next one.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --pack ]; then
  set -e
  [ -f dist-cli/bench.mjs ] || { echo "gpu-check: run npm run build:cli first" >&2; exit 1; }
  mkdir -p .device/webgpu .device/gl
  xz -T0 -6 -c "$(command -v node)" >.device/node.xz
  cp node_modules/webgpu/index.js node_modules/webgpu/package.json .device/webgpu/
  xz -T0 -6 -c node_modules/webgpu/dist/linux-x64/dawn.node >.device/webgpu/dawn.node.xz
  # Dawn dlopens libvulkan.so.1; CUDA-only images often lack it. Debian's amd64 package, fetched
  # with a private package list so this machine's apt state is left alone.
  lists=$(mktemp -d)
  o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
  mkdir -p "$lists/partial"
  rm -f .device/gl/*.deb
  if apt-get "${o[@]}" -qq update && (cd .device/gl && apt-get "${o[@]}" -qq download libvulkan1); then
    ls .device/gl
  else
    echo "gpu-check: could not fetch libvulkan1; the GPU machine must have its own Vulkan loader" >&2
  fi
  rm -rf "$lists"
  du -sh .device dist-cli
  exit 0
fi

layers="${1:-8}"
out="${OUT:-.tmp/gpu-check}"
mkdir -p "$out" .tmp/gpu node_modules/webgpu/dist/linux-x64
exec > >(tee "$out/gpu-check.log") 2>&1
xz -dc .device/node.xz >.tmp/gpu/node
chmod +x .tmp/gpu/node
cp .device/webgpu/index.js .device/webgpu/package.json node_modules/webgpu/
xz -dc .device/webgpu/dawn.node.xz >node_modules/webgpu/dist/linux-x64/dawn.node
node=.tmp/gpu/node

echo "== 0. Vulkan and the adapter =="
nvidia-smi -L || true
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  echo "vulkan loader: the machine's own"
elif compgen -G '.device/gl/*.deb' >/dev/null; then
  # Unpacked under .tmp, not /: nothing of the machine's is replaced.
  rm -rf .tmp/gl && mkdir -p .tmp/gl
  for f in .device/gl/*.deb; do dpkg -x "$f" .tmp/gl; done
  export LD_LIBRARY_PATH="$PWD/.tmp/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "vulkan loader: packed one, $(ls .tmp/gl/usr/lib/x86_64-linux-gnu/ | tr '\n' ' ')"
else
  echo "vulkan loader: NONE (and none packed: run --pack where apt works)"
fi
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && ! compgen -G '/usr/share/vulkan/icd.d/nvidia*.json' >/dev/null &&
  ! compgen -G '/etc/vulkan/icd.d/nvidia*.json' >/dev/null; then
  # Containers with the driver mounted under /usr/local/nvidia keep its ICD there.
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then
      export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
      break
    fi
  done
fi
if [ -n "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ]; then
  echo "vulkan driver: ${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}"
else
  echo "vulkan driver: from the loader search path: $(ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null | tr '\n' ' ')"
fi

step() {
  local limit="$1" name="$2"
  shift 2
  echo "== $name =="
  local t0=$SECONDS
  timeout "$limit" "$@"
  local rc=$?
  echo "-- $name: exit $rc after $((SECONDS - t0)) s$([ "$rc" = 124 ] && echo " (stopped at its $limit s limit)")"
}
dry=()
if [ -n "${GPU_CHECK_DRY:-}" ]; then
  shapes=576x1536
  big=576x1536
  dry=(--allow-software)
else
  shapes=1024x4096,4096x4096,14336x4096
  big=4096x4096,14336x4096
fi
step 150 "1. the WebGPU Gram alone, next to torch" "$node" dist-cli/gpu-bench.mjs --shapes "$shapes" --out "$out/gpu-bench.json" "${dry[@]}"
step 90 "2. whole singular-value computation: webgpu vs wasm on every core" \
  "$node" dist-cli/bench.mjs --shapes "$big" --backends webgpu,wasm-threads --repeats 1 --no-scan --out "$out/bench.json"
step 120 "3. CLI scan, Llama-3-8B shapes, $layers layers, --webgpu" \
  "$node" dist-cli/bench.mjs --shapes 576x1536 --backends wasm-1 --repeats 1 --no-scipy \
  --scan-layers "$layers" --scan-webgpu node_modules/webgpu/index.js --out "$out/scan.json"
step 110 "4. the same scan on the CPU cores alone" \
  "$node" dist-cli/bench.mjs --shapes 576x1536 --backends wasm-1 --repeats 1 --no-scipy \
  --scan-layers "$layers" --out "$out/scan-cpu.json"
step 110 "5. the same scan with --gpu-eigen (experimental: the reductions on the GPU too)" \
  "$node" dist-cli/bench.mjs --shapes 576x1536 --backends wasm-1 --repeats 1 --no-scipy \
  --scan-layers "$layers" --scan-webgpu node_modules/webgpu/index.js --scan-gpu-eigen --out "$out/scan-gpu-eigen.json"
