#!/usr/bin/env bash
# ONNX Runtime's 4-bit MatMulNBits (MLAS) against ortlm.Int4MatMul, the operator ortlm's load-time
# rewrite puts in its place on CPUs with AVX-512 VNNI, on one matrix of the 135M model's shape, in the
# same run: milliseconds per product at several row counts (1 = a decode step) and thread counts.
#   bench/int4_matmul.sh
# Environment: BENCH (binary), K (576), N (3072: a stacked gate/up projection), BLOCK (32), ROWS
#   (1,4,16,64,256), THREADS (1,2), TURN_SECONDS (0.3), MIN_RATIO (1.0).
# Exits non-zero if Int4MatMul is not at least MIN_RATIO x faster than MatMulNBits for one row on every
# thread count, or if the two outputs differ by more than int8 rounding explains (relative 1e-2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH=${BENCH:-build/bench/bench_int4_matmul}
K=${K:-576}
N=${N:-3072}
BLOCK=${BLOCK:-32}
ROWS=${ROWS:-1,4,16,64,256}
THREADS=${THREADS:-1,2}
TURN_SECONDS=${TURN_SECONDS:-0.3}
MIN_RATIO=${MIN_RATIO:-1.0}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

die() { echo "error: $*" >&2; exit 2; }
[[ -x $BENCH ]] || die "$BENCH not built (cmake --build build --target bench_int4_matmul)"

# One MatMulNBits node with random 4-bit weights, scales and zero points (as ortlm quantize writes them).
"$PY" - "$TMP/matmul.onnx" "$K" "$N" "$BLOCK" <<'PYEOF'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
out, K, N, block = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(1)
blocks = K // block
weights = rng.integers(0, 256, size=(N, blocks, block // 2), dtype=np.uint8)
scales = (rng.random(N * blocks, dtype=np.float32) * 0.01).astype(np.float32)
zero_points = rng.integers(0, 256, size=(N, (blocks + 1) // 2), dtype=np.uint8)
node = helper.make_node("MatMulNBits", ["A", "B", "scales", "zero_points"], ["Y"], domain="com.microsoft",
                        K=K, N=N, bits=4, block_size=block, accuracy_level=4)
graph = helper.make_graph([node], "matmul", [helper.make_tensor_value_info("A", TensorProto.FLOAT, ["M", K])],
                          [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["M", N])],
                          [numpy_helper.from_array(weights, "B"), numpy_helper.from_array(scales, "scales"),
                           numpy_helper.from_array(zero_points, "zero_points")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
model.ir_version = 8
onnx.save(model, out)
PYEOF

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
"$BENCH" "$TMP/matmul.onnx" --rows "$ROWS" --threads "$THREADS" --seconds "$TURN_SECONDS" >"$TMP/out.json" \
  2>"$TMP/err.txt" || { cat "$TMP/err.txt" >&2; die "bench_int4_matmul failed"; }
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$TMP/out.json" "$MIN_RATIO" "$load_before" "$load_after" "$(nproc)" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
min_ratio = float(sys.argv[2])
print(f"4-bit product [M, {r['k']}] x [{r['k']}, {r['n']}], block {r['block']}, best of 3 turns "
      f"(load {sys.argv[3]} -> {sys.argv[4]} on {sys.argv[5]} CPUs)")
print("| threads | rows | MatMulNBits ms | Int4MatMul ms | speed-up | Int4MatMul GMAC/s | max rel. difference |")
print("|---|---|---|---|---|---|---|")
ok = True
for run in r["runs"]:
    ratio = run["matmulnbits_ms"] / run["int4matmul_ms"]
    gmacs = run["rows"] * r["k"] * r["n"] / run["int4matmul_ms"] / 1e6
    print(f"| {run['threads']} | {run['rows']} | {run['matmulnbits_ms']:.3f} | {run['int4matmul_ms']:.3f} | "
          f"{ratio:.2f}x | {gmacs:.1f} | {run['max_difference']:.1e} |")
    if run["rows"] == 1 and ratio < min_ratio:
        ok = False
    if run["max_difference"] > 1e-2:
        ok = False
print(f"{'PASS' if ok else 'FAIL'}: one row at least {min_ratio}x MatMulNBits on every thread count, outputs within int8 rounding")
sys.exit(0 if ok else 1)
PYEOF
