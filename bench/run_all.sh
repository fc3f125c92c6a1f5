#!/usr/bin/env bash
# Every benchmark, one after the other (`make bench`). Each prints its own table and ratios.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
for script in bench/vs_transformers_js.sh bench/tokenizer_vs_hf.sh bench/engine_batching.sh bench/paged_attention.sh \
  bench/serving.sh bench/llmzip.sh bench/quantize.sh bench/int4_matmul.sh; do
  [ -f "$script" ] || continue
  echo "== $script"
  bash "$script" || status=1
done
exit $status
