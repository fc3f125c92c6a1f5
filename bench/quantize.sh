#!/usr/bin/env bash
# int4 / int8 decode speed of `ortlm quantize` against the float32 original, in one run:
#   bench/quantize.sh [MODEL_DIR]     # default: the smollm2-135m preset (random weights, SmolLM2-135M's shape)
# Quantizes MODEL_DIR to 4 bits (block 32, LM head and embedding included), 8 bits, 4 bits with
# float16 activations (q4f16, --fp16) and 4 bits in blocks of 64 (the speed option) into $BENCH_MODELS/quant-*, then decodes N tokens greedily with
# each model on THREADS threads (ortlm's load-time rewrites as FUSION says, its KV cache as KV says), the engines
# alternating, REPEAT rounds, best tokens/s kept. Prints file sizes, tokens/s and the ratios to float32;
# with LLAMACPP_PAIR=DIR (a folder written by ../shared/anchors/llamacpp/make_pair.sh) the float32 model is
# that pair's ONNX model and llama.cpp's F32 / Q8_0 / Q4_0 GGUF files of the same weights run in the same
# rounds. Exits 1 if 4-bit decode is below MIN_RATIO (3.5) x float32.
# Environment: ORTLM (binary), N (128), THREADS (2), REPEAT (3), MIN_RATIO (3.5), BENCH_MODELS,
# FUSION (auto | on | off: ortlm's --fusion), KV (auto | paged | dense: ortlm's --kv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ORTLM=${ORTLM:-build/ortlm}
N=${N:-128}
THREADS=${THREADS:-2}
REPEAT=${REPEAT:-3}
MIN_RATIO=${MIN_RATIO:-3.5}
BENCH_MODELS=${BENCH_MODELS:-build/bench_models}
FUSION=${FUSION:-auto}
KV=${KV:-auto}
LLAMACPP_PAIR=${LLAMACPP_PAIR:-}
LLAMACPP=../shared/anchors/llamacpp/run
PY=/usr/bin/python3
IDS=1,403,407,261,378
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

die() { echo "error: $*" >&2; exit 2; }
[[ -x $ORTLM ]] || die "$ORTLM not built (cmake --build build --target ortlm_cli)"

if [[ $# -gt 0 ]]; then
  MODEL=$1
elif [[ -n $LLAMACPP_PAIR ]]; then
  MODEL=$LLAMACPP_PAIR/onnx-model
else
  MODEL=$BENCH_MODELS/smollm2-135m
  if [[ ! -f $MODEL/onnx/model.onnx_data ]]; then
    echo "(generating the smollm2-135m preset into $BENCH_MODELS)"
    "$PY" tools/gen_test_models.py --out "$BENCH_MODELS" --preset smollm2-135m >/dev/null
  fi
fi
[[ -d $MODEL ]] || die "no model folder $MODEL"
tag=$(basename "$(cd "$MODEL" && pwd)")

declare -A DIRS=([f32]=$MODEL)
for variant in q4 q8 q4f16 q4b64; do
  out=$BENCH_MODELS/quant-$tag-$variant
  if [[ ! -d $out/onnx ]]; then
    bits=${variant:1:1}
    extra=()
    [[ $variant == *f16 ]] && extra=(--fp16)
    [[ $variant == *b64 ]] && extra=(--block 64)
    start=$(date +%s.%N)
    "$ORTLM" quantize "$MODEL" "$out" --bits "$bits" --lm-head --embeddings "${extra[@]}" >/dev/null
    printf '(quantized to %s bits in %.1f s: %s)\n' "$bits" "$(echo "$(date +%s.%N) - $start" | bc)" "$out"
  fi
  DIRS[$variant]=$out
done

size_mb() { du -sb "$1"/onnx 2>/dev/null | awk '{printf "%.1f", $1 / 1e6}'; }
ortlm_tps() {
  "$ORTLM" generate "$1" --ids "$IDS" -n "$N" --greedy --ignore-eos --json --threads "$THREADS" \
    --fusion "$FUSION" --kv "$KV" 2>/dev/null |
    "$PY" -c 'import json, sys; print(json.loads(sys.stdin.readline())["tokens_per_second"])'
}
llama_tps() {
  "$LLAMACPP" llama-bench -m "$1" -t "$THREADS" -p 0 -n "$N" -r 1 -o jsonl 2>/dev/null |
    "$PY" -c 'import json, sys; print([json.loads(l) for l in sys.stdin if l.strip()][-1]["avg_ts"])'
}

ENGINES=(f32 q4 q8 q4f16 q4b64)
declare -A GGUF=()
if [[ -n $LLAMACPP_PAIR ]]; then
  for q in f32 q8_0 q4_0; do
    [[ -f $LLAMACPP_PAIR/model-$q.gguf ]] && GGUF[llama.cpp-$q]=$LLAMACPP_PAIR/model-$q.gguf && ENGINES+=(llama.cpp-$q)
  done
fi

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= REPEAT; round++)); do
  for e in "${ENGINES[@]}"; do
    if [[ -n ${GGUF[$e]:-} ]]; then tps=$(llama_tps "${GGUF[$e]}"); else tps=$(ortlm_tps "${DIRS[$e]}"); fi
    echo "$e $tps" >>"$TMP/runs.txt"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

for e in "${ENGINES[@]}"; do
  if [[ -n ${GGUF[$e]:-} ]]; then
    echo "$e $(du -b "${GGUF[$e]}" | awk '{printf "%.1f", $1 / 1e6}')"
  else
    echo "$e $(size_mb "${DIRS[$e]}")"
  fi
done >"$TMP/sizes.txt"

"$PY" - "$TMP/runs.txt" "$TMP/sizes.txt" "$MIN_RATIO" "$load_before" "$load_after" "$(nproc)" "$THREADS" "$N" \
  "$FUSION" "$KV" <<'PYEOF'
import sys
runs, sizes = {}, {}
for line in open(sys.argv[1]):
    e, tps = line.split()
    runs.setdefault(e, []).append(float(tps))
for line in open(sys.argv[2]):
    e, mb = line.split()
    sizes[e] = mb
min_ratio = float(sys.argv[3])
best = {e: max(v) for e, v in runs.items()}
names = {"f32": "ortlm float32", "q4": "ortlm 4-bit (MatMulNBits, block 32)", "q8": "ortlm 8-bit (MatMulNBits, block 32)",
         "q4f16": "ortlm q4f16 (4-bit, float16 activations)", "q4b64": "ortlm 4-bit, block 64 (speed option)",
         "llama.cpp-f32": "llama.cpp F32", "llama.cpp-q8_0": "llama.cpp Q8_0", "llama.cpp-q4_0": "llama.cpp Q4_0"}
print(f"decode, {sys.argv[8]} new tokens, {sys.argv[7]} threads, best of {len(runs['f32'])} rounds "
      f"(load {sys.argv[4]} -> {sys.argv[5]} on {sys.argv[6]} CPUs), ortlm --fusion {sys.argv[9]} --kv {sys.argv[10]}")
print("| model | file MB | decode tok/s | x float32 | runs |")
print("|---|---|---|---|---|")
for e in runs:
    print(f"| {names.get(e, e)} | {sizes[e]} | {best[e]:,.1f} | {best[e] / best['f32']:.2f} | "
          f"{', '.join(f'{x:,.0f}' for x in runs[e])} |")
ratio = best["q4"] / best["f32"]
if "llama.cpp-q4_0" in best:
    print(f"ortlm 4-bit / llama.cpp Q4_0: {best['q4'] / best['llama.cpp-q4_0']:.2f}; "
          f"ortlm float32 / llama.cpp F32: {best['f32'] / best['llama.cpp-f32']:.2f}")
ok = ratio >= min_ratio
print(f"{'PASS' if ok else 'FAIL'}: 4-bit decode is {ratio:.2f}x float32 (target >= {min_ratio})")
sys.exit(0 if ok else 1)
PYEOF
