#!/usr/bin/env python3
"""Generates accuracy fixtures for src/engine/kernels (run by hand; NOT needed at test time).

Writes src/engine/kernels/fixtures/{manifest.json, matrices.f32}:
  matrices.f32  concatenated little-endian float32 matrices (row-major)
  manifest.json per case: name, rows, cols, where the matrix is (float offset into
                matrices.f32, or an LCG recipe the test re-generates bit-exactly), and the
                reference singular values: scipy.linalg.svdvals (LAPACK dgesdd) in float64
                of the float32 data, descending.
Usage: python3 scripts/kernel-fixtures.py
"""
import json
import os

import numpy as np
import scipy.linalg

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "engine", "kernels", "fixtures")


def gauss(rows, cols, seed):
    return np.random.default_rng(seed).standard_normal((rows, cols)).astype(np.float32)


def rank3(rows, cols, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, 3)) @ rng.standard_normal((3, cols))).astype(np.float32)


def conditioned(rows, cols, cond, seed):
    rng = np.random.default_rng(seed)
    k = min(rows, cols)
    u, _ = np.linalg.qr(rng.standard_normal((rows, k)))
    v, _ = np.linalg.qr(rng.standard_normal((cols, k)))
    s = np.logspace(0, -np.log10(cond), k)
    return ((u * s) @ v.T).astype(np.float32)


def outliers(rows, cols, seed):
    # LLM weights have a few huge entries; make sure they do not wreck the small values.
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((rows, cols)) * 0.02
    idx = rng.choice(rows * cols, size=6, replace=False)
    a.flat[idx] *= 500.0
    return a.astype(np.float32)


def lcg(rows, cols, seed):
    """Uniform in [-1, 1), exactly representable in float32; mirrored in linalg.test.ts."""
    s = seed & 0xFFFFFFFF
    out = np.empty(rows * cols, dtype=np.float32)
    for i in range(rows * cols):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = ((s >> 8) - 8388608) / 8388608.0
    return out.reshape(rows, cols)


def main():
    stored = [
        ("gauss_40x90", gauss(40, 90, 1)),
        ("gauss_90x40", gauss(90, 40, 2)),
        ("gauss_64x64", gauss(64, 64, 3)),
        ("gauss_1x17", gauss(1, 17, 4)),
        ("gauss_17x1", gauss(17, 1, 5)),
        ("rank3_50x30", rank3(50, 30, 6)),
        ("cond1e6_60x40", conditioned(60, 40, 1e6, 7)),
        ("tall_200x64", gauss(200, 64, 8)),
        ("zeros_8x5", np.zeros((8, 5), dtype=np.float32)),
        ("tiny_30x20", (gauss(30, 20, 9) * np.float32(1e-20)).astype(np.float32)),
        ("huge_20x30", (gauss(20, 30, 10) * np.float32(1e18)).astype(np.float32)),
        ("outliers_48x80", outliers(48, 80, 11)),
    ]
    cases = []
    blobs = []
    offset = 0
    for name, a in stored:
        a = np.ascontiguousarray(a, dtype=np.float32)
        sv = scipy.linalg.svdvals(a.astype(np.float64))
        cases.append({"name": name, "rows": a.shape[0], "cols": a.shape[1], "offset": offset, "sv": sv.tolist()})
        blobs.append(a.astype("<f4").tobytes())
        offset += a.size
    for name, rows, cols, seed in [("lcg_300x500", 300, 500, 12345)]:
        a = lcg(rows, cols, seed)
        sv = scipy.linalg.svdvals(a.astype(np.float64))
        cases.append({"name": name, "rows": rows, "cols": cols, "lcgSeed": seed, "sv": sv.tolist()})
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "matrices.f32"), "wb") as f:
        f.write(b"".join(blobs))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(
            {
                "generator": "scripts/kernel-fixtures.py",
                "reference": f"scipy {scipy.__version__} linalg.svdvals (float64 on the float32 data)",
                "cases": cases,
            },
            f,
            separators=(",", ":"),
        )
        f.write("\n")
    print(f"wrote {len(cases)} cases, {offset * 4} bytes of matrices, to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
