#!/usr/bin/env bash
# Side-by-side: ortlm vs transformers.js (and vs a bare ONNX Runtime loop) on CPU, greedy decoding.
#   bench/vs_transformers_js.sh            # from anywhere; uses build/ortlm, build/bench/bench_bare_ort_loop
# Environment: ORTLM, BARE (binaries), N (new tokens, 400), REPEAT (runs per engine, best kept; 3),
#   SKIP_SMOLLM2=1 (bundled model only), BENCH_MODELS (where the smollm2 preset is generated).
# Exits non-zero if any check fails: identical new_ids, ortlm/transformers.js >= 5 (stories260k),
# ortlm/transformers.js >= 1.0 and ortlm/bare >= 0.95 (smollm2-135m preset).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ORTLM=${ORTLM:-build/ortlm}
BARE=${BARE:-build/bench/bench_bare_ort_loop}
N=${N:-400}
REPEAT=${REPEAT:-3}
IDS=1,403,407,261,378
BENCH_MODELS=${BENCH_MODELS:-build/bench_models}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILED=0

die() { echo "error: $*" >&2; exit 2; }
[[ -x $ORTLM ]] || die "$ORTLM not built (cmake --build build)"

# field FILE WHAT: reads the first JSON object in FILE; WHAT = ids (new_ids, comma-separated) or tps
# (decode tokens/s: timings.decode_tokens_per_second, else the nearest field that exists).
field() {
  "$PY" - "$1" "$2" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
obj, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
if sys.argv[2] == "ids":
    print(",".join(str(i) for i in obj["new_ids"]))
    sys.exit(0)
t = obj.get("timings") or {}
for src, key in ((t, "decode_tokens_per_second"), (obj, "decode_tokens_per_second"),
                 (t, "tokens_per_second"), (obj, "tokens_per_second")):
    if isinstance(src.get(key), (int, float)):
        print(src[key])
        sys.exit(0)
sys.exit(f"no tokens/s field in {sys.argv[1]} (timings keys: {sorted(t)})")
EOF
}

# run_best NAME OUTFILE CMD...: runs CMD REPEAT times, keeps the output with the highest tokens/s.
run_best() {
  local name=$1 out=$2 best=0 tps i
  shift 2
  for ((i = 0; i < REPEAT; i++)); do
    "$@" >"$TMP/run.json" 2>"$TMP/run.err" || { cat "$TMP/run.err" >&2; die "$name failed: $*"; }
    tps=$(field "$TMP/run.json" tps)
    if "$PY" -c "import sys; sys.exit(not float(sys.argv[1]) > float(sys.argv[2]))" "$tps" "$best"; then
      best=$tps
      cp "$TMP/run.json" "$out"
    fi
  done
}

check() {  # check LABEL OK(0|1)
  if [[ $2 == 1 ]]; then printf '  %-52s PASS\n' "$1"; else printf '  %-52s FAIL\n' "$1"; FAILED=1; fi
}

same_ids() {  # same_ids A.json B.json: identical new_ids (prints where they first differ)
  local a b
  a=$(field "$1" ids) b=$(field "$2" ids)
  if [[ $a == "$b" ]]; then check "new_ids identical ($(tr ',' '\n' <<<"$a" | wc -l) tokens)" 1; return; fi
  check "new_ids identical" 0
  "$PY" - "$a" "$b" <<'EOF'
import sys
a, b = (s.split(",") for s in sys.argv[1:])
i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
print(f"    first difference at new token {i}: ortlm {a[i:i+5]} vs transformers.js {b[i:i+5]} (lengths {len(a)}, {len(b)})")
EOF
}

ratio() {  # ratio LABEL NUM DEN MIN
  local r ok
  r=$("$PY" -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$2" "$3")
  ok=$("$PY" -c "import sys; print(int(float(sys.argv[1]) >= float(sys.argv[2])))" "$r" "$4")
  check "$(printf 'ratio %-26s %7s (>= %s)' "$1" "$r" "$4")" "$ok"
}

row() { printf '  %-22s %12.1f tok/s\n' "$1" "$2"; }

bench_model() {  # bench_model TITLE DIR
  echo "== $1 ($2): $N new tokens, prompt ids $IDS, greedy, CPU, best of $REPEAT"
  # Both engines get a short untimed warm-up run, as transformers_js_generate.mjs does.
  run_best ortlm "$TMP/ortlm.json" "$ORTLM" generate "$2" --ids "$IDS" -n "$N" --greedy --ignore-eos --json --warmup 16
  run_best transformers.js "$TMP/js.json" node bench/transformers_js_generate.mjs "$2" --ids "$IDS" -n "$N"
  same_ids "$TMP/ortlm.json" "$TMP/js.json"
  T_ORTLM=$(field "$TMP/ortlm.json" tps) T_JS=$(field "$TMP/js.json" tps)
  row ortlm "$T_ORTLM"
  row transformers.js "$T_JS"
}

bench_model "stories260k" models/stories260k
ratio "ortlm / transformers.js" "$T_ORTLM" "$T_JS" 5

if [[ ${SKIP_SMOLLM2:-0} != 1 ]]; then
  SMOL=$BENCH_MODELS/smollm2-135m
  if [[ ! -f $SMOL/onnx/model.onnx_data ]]; then
    echo "(generating the smollm2-135m preset into $BENCH_MODELS)"
    "$PY" tools/gen_test_models.py --out "$BENCH_MODELS" --preset smollm2-135m >/dev/null
  fi
  echo
  bench_model "smollm2-135m preset (random weights)" "$SMOL"
  if [[ -x $BARE ]]; then
    run_best bare "$TMP/bare.json" "$BARE" "$SMOL" --ids "$IDS" -n "$N"
    T_BARE=$(field "$TMP/bare.json" tps)
    row "bare ORT loop" "$T_BARE"
  else
    echo "  bare ORT loop: $BARE not built"
  fi
  ratio "ortlm / transformers.js" "$T_ORTLM" "$T_JS" 1.0
  if [[ -x $BARE ]]; then ratio "ortlm / bare ORT loop" "$T_ORTLM" "$T_BARE" 0.95; else check "ortlm / bare ORT loop" 0; fi
fi

echo
if [[ $FAILED == 0 ]]; then echo "PASS"; else echo "FAIL"; fi
exit "$FAILED"
