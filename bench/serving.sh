#!/usr/bin/env bash
# `ortlm serve` under load on loopback (bench/serving_load.mjs): aggregate generated tokens/s at
# concurrency 1, 4, 16 and 32 (streams of N tokens, greedy, ignore_eos), and time to first token of
# a request with a SYSTEM-token prefix, cold and then with the prefix cached. With llama.cpp's anchor
# (../shared/anchors/llamacpp) and a weight pair in $PAIR (made by its make_pair.sh), llama-server
# with 4 slots runs the same load on the same weights in the same run. Each KV kind in $KVS (paged,
# then dense) serves the same load in turn, so the two are compared in one run.
#   bench/serving.sh [MODEL_DIR]      # default: $PAIR/onnx-model if present, else the smollm2-135m preset
# Environment: LEVELS (1,4,16,32), N (64), PROMPT (32), SYSTEM (500), THREADS (2), PAIR
#   (build/llamacpp-pair), KVS ("paged dense"; "auto" for what `serve` picks), MIN_RATIO_16 (4),
#   MIN_TTFT_RATIO (5).
# Exits non-zero if a target is missed by the first kind: 16 streams >= MIN_RATIO_16 x one stream;
# the cached prefix cuts time to first token >= MIN_TTFT_RATIO x.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

LEVELS=${LEVELS:-1,4,16,32}
N=${N:-64}
PROMPT=${PROMPT:-32}
SYSTEM=${SYSTEM:-500}
THREADS=${THREADS:-2}
PAIR=${PAIR:-build/llamacpp-pair}
KVS=${KVS:-paged dense}
MIN_RATIO_16=${MIN_RATIO_16:-4}
MIN_TTFT_RATIO=${MIN_TTFT_RATIO:-5}
ORTLM=${ORTLM:-build/ortlm}
ANCHOR=../shared/anchors/llamacpp
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

MODEL=${1:-}
if [[ -z $MODEL ]]; then
  if [[ -f $PAIR/onnx-model/onnx/model.onnx ]]; then
    MODEL=$PAIR/onnx-model
  else
    MODEL=build/bench_models/smollm2-135m
    [[ -f $MODEL/onnx/model.onnx_data ]] ||
      /usr/bin/python3 tools/gen_test_models.py --out build/bench_models --preset smollm2-135m >/dev/null
  fi
fi
VOCAB=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['vocab_size'])" "$MODEL/config.json")

wait_port() {  # LOG_FILE PATTERN -> port
  for _ in $(seq 600); do
    if port=$(grep -oE "$2" "$1" | grep -oE '[0-9]+$' | head -1) && [[ -n $port ]]; then echo "$port"; return; fi
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$1" >&2; exit 2
}

echo "model: $MODEL (vocab $VOCAB), $THREADS threads, $N tokens per stream, $PROMPT-token prompts; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for kv in $KVS; do
  echo "--kv $kv"
  "$ORTLM" serve "$MODEL" --port 0 --quiet --threads "$THREADS" --batch-size 32 --max-requests 64 \
    --cache-mib 1024 --kv "$kv" 2>"$TMP/ortlm-$kv.log" &
  pid=$!
  PIDS+=($pid)
  port=$(wait_port "$TMP/ortlm-$kv.log" 'http://127.0.0.1:[0-9]+')
  grep -h "KV cache" "$TMP/ortlm-$kv.log" || true
  node bench/serving_load.mjs "http://127.0.0.1:$port" throughput "$LEVELS" "$N" "$PROMPT" "$VOCAB" | tee "$TMP/ortlm-$kv.jsonl"
  node bench/serving_load.mjs "http://127.0.0.1:$port" ttft "$SYSTEM" "$VOCAB" 3 | tee "$TMP/ttft-$kv.jsonl"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

if [[ -x $ANCHOR/run && -f $PAIR/model-f32.gguf && $MODEL == "$PAIR/onnx-model" ]]; then
  "$ANCHOR/run" llama-server -m "$PAIR/model-f32.gguf" -t "$THREADS" -np 4 -c 4096 --port 0 --host 127.0.0.1 \
    >"$TMP/llama.log" 2>&1 &
  PIDS+=($!)
  port=$(wait_port "$TMP/llama.log" 'listening on http://127.0.0.1:[0-9]+')
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
  node bench/serving_load.mjs "http://127.0.0.1:$port" throughput 1,4 "$N" "$PROMPT" "$VOCAB" | tee "$TMP/llama.jsonl"
else
  echo "(llama.cpp comparison skipped: needs $ANCHOR and $PAIR from make_pair.sh, and MODEL=$PAIR/onnx-model)"
fi

/usr/bin/python3 - "$TMP" "$MIN_RATIO_16" "$MIN_TTFT_RATIO" $KVS <<'PY'
import json, os, statistics, sys
tmp, min16, min_ttft, kinds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]
load = lambda name: [json.loads(l) for l in open(os.path.join(tmp, name))]
runs = {k: {r['concurrency']: r for r in load(f'ortlm-{k}.jsonl')} for k in kinds}
ones = {k: runs[k][1]['tokens_per_second'] for k in kinds}
print('\n| streams | ' + ' | '.join(f'{k} tok/s | x one stream' for k in kinds) +
      (' | ' + ' / '.join(kinds) if len(kinds) > 1 else '') + ' |')
print('|---|' + '---|---|' * len(kinds) + ('---|' if len(kinds) > 1 else ''))
for c in runs[kinds[0]]:
    cells = [f"{runs[k][c]['tokens_per_second']:.1f} | {runs[k][c]['tokens_per_second'] / ones[k]:.2f}" for k in kinds]
    ratio = (f" | {runs[kinds[0]][c]['tokens_per_second'] / runs[kinds[1]][c]['tokens_per_second']:.2f}"
             if len(kinds) > 1 else '')
    print(f"| {c} | " + ' | '.join(cells) + ratio + ' |')
first = kinds[0]
one = ones[first]
llama = os.path.join(tmp, 'llama.jsonl')
if os.path.exists(llama):
    l = {json.loads(x)['concurrency']: json.loads(x)['tokens_per_second'] for x in open(llama)}
    o4 = runs[first][4]['tokens_per_second']
    print(f"\nllama-server (4 slots, f32): 1 stream {l[1]:.1f} tok/s, 4 streams {l[4]:.1f} tok/s = {l[4] / l[1]:.2f}x;"
          f" ortlm ({first}) 4 streams = {o4 / one:.2f}x, {o4 / l[4]:.2f}x llama-server's 4-stream tok/s")
cuts = {}
for k in kinds:
    t = load(f'ttft-{k}.jsonl')
    cold = statistics.median(x['cold_ttft'] for x in t); cached = statistics.median(x['cached_ttft'] for x in t)
    cuts[k] = cold / cached
    print(f"\n{k}: time to first token, {t[0]['system_tokens']}-token system prompt: cold {cold * 1000:.0f} ms, "
          f"cached {cached * 1000:.0f} ms = {cold / cached:.1f}x")
r16 = runs[first][16]['tokens_per_second'] / one if 16 in runs[first] else None
ok = (r16 is None or r16 >= min16) and cuts[first] >= min_ttft
if r16 is not None: print(f"{first}: 16 streams / 1 stream = {r16:.2f}x (target >= {min16}x)")
print(f"{first}: cached prefix TTFT cut = {cuts[first]:.1f}x (target >= {min_ttft}x)")
sys.exit(0 if ok else 1)
PY
