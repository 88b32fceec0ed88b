#!/usr/bin/env bash
# The GPU checks of issue 4, for a lent GPU machine: Linux x64 with an NVIDIA GPU, python3 and
# torch, but no Node, maybe no Vulkan loader, and no network.
#
#   here:  npm run build:cli && bash scripts/gpu-check.sh --pack
#          packs .device/: this machine's node and Dawn for Node's Linux binary (xz'd), and
#          Debian's Vulkan loader and glvnd libraries, which the GPU machine lacks (~30 MB in all)
#   there: carry .device and dist-cli, then  OUT=<a folder> bash scripts/gpu-check.sh [layers]
#          (each step has its own limit, and all of them together stop at GPU_CHECK_BUDGET,
#          570 s by default: under the device tool's 600 s a call; GPU_CHECK_STEPS=1,5 runs
#          only those steps)
#          (a dry run here on SwiftShader: GPU_CHECK_DRY=1 VK_ICD_FILENAMES=
#          /usr/lib/chromium/vk_swiftshader_icd.json bash scripts/gpu-check.sh 1)
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
#   5. the same scan with the experimental --gpu-eigen (the reductions on the GPU too);
#   6. when the time left allows, the whole 32-layer model with the faster of 3 and 5.
# Each step has its own time limit, and a step that fails does not stop the next one. When step 1
# finds no usable GPU, the GPU steps are skipped and the Vulkan loader's own messages are printed
# instead, so that a failed first call costs little of the device time and says why.
set -uo pipefail
cd "$(dirname "$0")/.."

GL_PACKAGES='libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2'
if [ "${1:-}" = --pack ]; then
  set -e
  [ -f dist-cli/bench.mjs ] || { echo "gpu-check: run npm run build:cli first" >&2; exit 1; }
  [ -s node_modules/webgpu/dist/linux-x64/dawn.node ] || { echo "gpu-check: node_modules/webgpu/dist/linux-x64/dawn.node is missing or empty: run npm ci" >&2; exit 1; }
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
  # The Vulkan loader alone was not enough on an H100 machine (2026-11-28): NVIDIA's ICD,
  # libGLX_nvidia, loaded but gave no vkCreateInstance until the glvnd libraries were there too.
  if apt-get "${o[@]}" -qq update &&
    (cd .device/gl && apt-get "${o[@]}" -qq download $GL_PACKAGES); then
    ls .device/gl
  else
    echo "gpu-check: could not fetch $GL_PACKAGES; the GPU machine must have its own" >&2
  fi
  rm -rf "$lists"
  du -sh .device dist-cli
  exit 0
fi

layers="${1:-8}"
out="${OUT:-.tmp/gpu-check}"
for f in .device/node.xz .device/webgpu/dawn.node.xz .device/webgpu/index.js; do
  [ -s "$f" ] || { echo "gpu-check: $f is missing: run bash scripts/gpu-check.sh --pack first" >&2; exit 1; }
done
mkdir -p "$out" .tmp/gpu node_modules/webgpu/dist/linux-x64
exec > >(tee "$out/gpu-check.log") 2>&1
xz -dc .device/node.xz >.tmp/gpu/node
chmod +x .tmp/gpu/node
cp .device/webgpu/index.js .device/webgpu/package.json node_modules/webgpu/
# Through a temporary file: a failed unpack must not leave a truncated dawn.node behind (here,
# that would break the dev dependency the tests use).
xz -dc .device/webgpu/dawn.node.xz >node_modules/webgpu/dist/linux-x64/dawn.node.tmp &&
  mv node_modules/webgpu/dist/linux-x64/dawn.node.tmp node_modules/webgpu/dist/linux-x64/dawn.node
node=.tmp/gpu/node

echo "== 0. Vulkan and the adapter =="
nvidia-smi -L || true
missing=$(for l in libvulkan.so.1 libGLdispatch.so.0 libEGL.so.1; do ldconfig -p 2>/dev/null | grep -q "$l" || echo "$l"; done | tr '\n' ' ')
if [ -z "$missing" ]; then
  echo "vulkan loader and glvnd: the machine's own"
elif ! compgen -G '.device/gl/*.deb' >/dev/null; then
  echo "vulkan loader: missing $missing (and none packed: run --pack where apt works)"
elif [ "$(id -u)" = 0 ] && [ -z "${GPU_CHECK_DRY:-}" ]; then
  # What worked on the H100 machine (and what the device tool's README advises): these Debian
  # libraries unpacked into / of the bare, disposable GPU machine, then ldconfig.
  for f in .device/gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  echo "vulkan loader and glvnd: packed ones, unpacked into / (missing were: $missing)"
else
  # Not root, or a dry run here: unpacked under .tmp, nothing of the machine's is replaced.
  rm -rf .tmp/gl && mkdir -p .tmp/gl
  for f in .device/gl/*.deb; do dpkg -x "$f" .tmp/gl; done
  export LD_LIBRARY_PATH="$PWD/.tmp/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "vulkan loader and glvnd: packed ones under .tmp/gl (missing were: $missing)"
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
# The ICD names its driver library by file name alone; a driver mounted under /usr/local/nvidia
# may not be in the loader's cache.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && [[ ":${LD_LIBRARY_PATH:-}:" != *":$d:"* ]] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
done
echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
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
# GPU_CHECK_STEPS=5,6 (say) runs only those steps, in the script's order.
want() { [ -z "${GPU_CHECK_STEPS:-}" ] || [[ ",$GPU_CHECK_STEPS," == *",$1,"* ]]; }
# The whole script stays under the device tool's 600 s a call: each step gets at most what is left.
budget=${GPU_CHECK_BUDGET:-570}
left() { echo $((budget - SECONDS)); }
run_step() {
  local limit="$1"
  shift
  [ "$(left)" -lt "$limit" ] && limit=$(left)
  if [ "$limit" -lt 20 ]; then
    echo "== $1 == skipped: $(left) s left of the ${budget} s budget"
    return
  fi
  step "$limit" "$@"
}
scan() { # scan <limit> <name> <layers> <json> [extra bench args]
  local limit="$1" name="$2" n="$3" json="$4"
  shift 4
  run_step "$limit" "$name" "$node" dist-cli/bench.mjs --shapes 576x1536 --backends wasm-1 --repeats 1 --no-scipy \
    --scan-layers "$n" --out "$out/$json" "$@"
}
wall() { sed -n 's/.*"wall_seconds": *\([0-9.]*\).*/\1/p' "$out/$1" 2>/dev/null | head -1; }
gpu=(--scan-webgpu node_modules/webgpu/index.js)

want 1 && run_step 150 "1. the WebGPU Gram alone, next to torch" "$node" dist-cli/gpu-bench.mjs --shapes "$shapes" --out "$out/gpu-bench.json" "${dry[@]}"
if want 1 && ! grep -q 'backend ready' "$out/gpu-check.log"; then
  echo "== no usable WebGPU adapter: what the Vulkan loader says =="
  ldd node_modules/webgpu/dist/linux-x64/dawn.node | grep -i -E 'vulkan|not found' || true
  for lib in /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0; do
    [ -e "$lib" ] && { echo "$lib:"; ldd "$lib" | grep -E 'not found|GLdispatch|nvidia' || true; }
  done
  ls -l /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1 | head -20
  cat "${VK_DRIVER_FILES:-/dev/null}" 2>/dev/null | head -20
  VK_LOADER_DEBUG=error,warn,driver timeout 60 "$node" dist-cli/gpu-bench.mjs --shapes 64x64 --no-torch 2>&1 | head -80
  want 4 || exit 0
  echo "== only the CPU scan, for the record =="
  scan 110 "4. the CPU scan, $layers layers" "$layers" scan-cpu.json
  exit 0
fi
want 3 && scan 120 "3. CLI scan, Llama-3-8B shapes, $layers layers, --webgpu" "$layers" scan.json "${gpu[@]}"
want 5 && scan 110 "5. the same scan with --gpu-eigen (experimental: the reductions on the GPU too)" "$layers" scan-gpu-eigen.json "${gpu[@]}" --scan-gpu-eigen
want 2 && run_step 80 "2. whole singular-value computation: webgpu vs wasm on every core" \
  "$node" dist-cli/bench.mjs --shapes "$big" --backends webgpu,wasm-threads --repeats 1 --no-scipy --no-scan --out "$out/bench.json"
want 4 && scan 110 "4. the same scan on the CPU cores alone" "$layers" scan-cpu.json
# 6. The whole model, when what is left covers 32/layers times the faster GPU scan plus writing 15 GB.
a=$(wall scan.json) b=$(wall scan-gpu-eigen.json)
best=$(printf '%s\n%s\n' "${a:-1e9} plain" "${b:-1e9} eigen" | sort -g | head -1)
estimate=$(awk -v t="${best% *}" -v n="$layers" 'BEGIN { printf "%d", t * 32 / n * 1.2 + 60 }')
if [ "${best% *}" = 1e9 ]; then
  echo "no GPU scan finished: no whole-model run"
elif [ "$layers" -lt 32 ]; then
  echo "faster GPU scan: ${best#* } (${best% *} s for $layers layers); whole model estimated ${estimate} s; $(left) s left"
fi
if want 6 && [ "$layers" -lt 32 ] && [ "${best% *}" != 1e9 ] && [ "$estimate" -lt "$(left)" ]; then
  extra=("${gpu[@]}")
  [ "${best#* }" = eigen ] && extra+=(--scan-gpu-eigen)
  scan "$(left)" "6. the whole model, 32 layers (${best#* })" 32 scan-32.json "${extra[@]}"
fi
echo "gpu-check: done after $SECONDS s"
