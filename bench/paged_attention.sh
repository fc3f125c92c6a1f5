#!/usr/bin/env bash
# The packed, paged forward path (ortlm.PagedAttention over a KV block pool) against the dense padded
# path (ModelRunner + PaddedKvCache), in the same run: prefill tokens/s of one prompt, decode tokens/s
# at batch 16, 4 and 1 at each context, and the paged attention kernel's share of a paged step.
#   bench/paged_attention.sh [MODEL_DIR]   # default: the smollm2-135m preset (generated if missing)
# Environment: BENCH_PAGED (binary), CONTEXTS (512,2048), BATCHES (16,4,1), STEPS (8), THREADS (0),
#   BLOCK_SIZE (16), MIN_RATIO (1.0), BENCH_MODELS (preset folder).
# Exits non-zero if a check fails: both paths give the same greedy ids at every step (they read the
# same KV), and paged decode at batch 16 is >= MIN_RATIO x dense at the largest context.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BENCH_PAGED=${BENCH_PAGED:-build/bench/bench_paged}
CONTEXTS=${CONTEXTS:-512,2048}
BATCHES=${BATCHES:-16,4,1}
STEPS=${STEPS:-8}
THREADS=${THREADS:-0}
BLOCK_SIZE=${BLOCK_SIZE:-16}
MIN_RATIO=${MIN_RATIO:-1.0}
BENCH_MODELS=${BENCH_MODELS:-build/bench_models}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

die() { echo "error: $*" >&2; exit 2; }
[[ -x $BENCH_PAGED ]] || die "$BENCH_PAGED not built (cmake --build build --target bench_paged)"

MODEL=${1:-$BENCH_MODELS/smollm2-135m}
if [[ $# -eq 0 && ! -f $MODEL/onnx/model.onnx_data ]]; then
  echo "(generating the smollm2-135m preset into $BENCH_MODELS)"
  "$PY" tools/gen_test_models.py --out "$BENCH_MODELS" --preset smollm2-135m >/dev/null
fi
[[ -d $MODEL ]] || die "no model folder $MODEL"

load() { cut -d' ' -f1-3 /proc/loadavg; }
load_before=$(load)
"$BENCH_PAGED" "$MODEL" --contexts "$CONTEXTS" --batches "$BATCHES" --steps "$STEPS" --threads "$THREADS" \
  --block-size "$BLOCK_SIZE" >"$TMP/out.json" 2>"$TMP/err.txt" || { cat "$TMP/err.txt" >&2; die "bench_paged failed"; }
load_after=$(load)

"$PY" - "$TMP/out.json" "$MIN_RATIO" "$load_before" "$load_after" "$(nproc)" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
min_ratio, load_before, load_after, cpus = float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
print(f"== {d['model']}: {d['steps']} timed decode steps per batch size, blocks of {d['block_size']} tokens, "
      f"kernel {d['kernel']}")
print(f"   dense: {d['dense']}")
print(f"   paged: {d['paged']}; rewrite + session + probe {d['paged_session_seconds']:.1f} s")
print(f"   load average {load_before} -> {load_after} on {cpus} CPUs")
rows = []
for c in d["contexts"]:
    p = c["prefill"]
    rows.append((f"prefill {p['tokens']} tokens", f"{p['dense_tokens_per_second']:,.1f}",
                 f"{p['paged_tokens_per_second']:,.1f}",
                 f"{p['paged_tokens_per_second'] / p['dense_tokens_per_second']:.2f}x", "-"))
    for r in c["decode"]:
        rows.append((f"decode, context {c['prefix']}, batch {r['batch']}", f"{r['dense_tokens_per_second']:,.1f}",
                     f"{r['paged_tokens_per_second']:,.1f}", f"{r['paged_over_dense']:.2f}x",
                     f"{100 * r['kernel_share']:.0f}%"))
head = ("measure (tok/s)", "dense", "paged", "paged/dense", "kernel share")
w = [max(len(r[i]) for r in rows + [head]) for i in range(5)]
print("| " + " | ".join(f"{h:<{w[i]}}" if i == 0 else f"{h:>{w[i]}}" for i, h in enumerate(head)) + " |")
print("|" + "|".join("-" * (w[i] + 2) if i == 0 else "-" * (w[i] + 1) + ":" for i in range(5)) + "|")
for r in rows:
    print("| " + " | ".join(f"{x:<{w[i]}}" if i == 0 else f"{x:>{w[i]}}" for i, x in enumerate(r)) + " |")

failed = False
def check(label, ok):
    global failed
    print(f"  {label:<70} {'PASS' if ok else 'FAIL'}")
    failed = failed or not ok
for c in d["contexts"]:
    check(f"context {c['prefix']}: greedy ids, paged = dense at every step and batch size", c["ids_match"])
largest = max(d["contexts"], key=lambda c: c["prefix"])
b16 = [r for r in largest["decode"] if r["batch"] == 16]
if b16:
    ratio = b16[0]["paged_over_dense"]
    check(f"decode batch 16, context {largest['prefix']}: paged / dense = {ratio:.2f}x >= {min_ratio:g}x",
          ratio >= min_ratio)
sys.exit(1 if failed else 0)
EOF
