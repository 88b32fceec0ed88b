#!/usr/bin/env bash
# One-shot check of the WebGPU Gram on a machine with a real GPU: the accuracy suite plus timings,
# through headless Chromium on Vulkan. Writes everything to ${OUT:-/tmp}/gpu-report.txt.
OUT=${OUT:-/tmp}
{
  echo "== environment"
  node --version; command -v chromium google-chrome chromium-browser; ls -l /usr/bin/chromium 2>&1
  nvidia-smi -L 2>&1 | head -3
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
if [ ! -x /usr/bin/chromium ]; then echo "no chromium here: nothing to run"; exit 0; fi
timeout "${1:-420}" node src/engine/webgpu/gram-gpu.browser-test.mjs --gpu >"$OUT/gpu-report.txt" 2>"$OUT/gpu-stderr.txt"
echo "rc=$?"
cat "$OUT/gpu-report.txt"; tail -c 3000 "$OUT/gpu-stderr.txt"
