// Hugging Face `tokenizers` (the Rust library through its official Node binding) timed the way
// bench_tokenizer.cpp times ortlm, on the same documents: tokenizer.json load time and single-threaded
// encode throughput. Run it through bench/tokenizer_vs_hf.sh, which also keeps Rust single-threaded
// (RAYON_NUM_THREADS=1, TOKENIZERS_PARALLELISM=false).
//
//   node hf_tokenizer_bench.mjs --corpus CORPUS.json --out HF.json NAME=tokenizer.json ...
//
// HF.json: {"version": ..., "tokenizers": {NAME: {"load_ms", "encode_mb_s", "encode_batch_mb_s", "tokens"}}}
// - load_ms: median of LOAD_RUNS Tokenizer.fromFile calls.
// - encode_mb_s: best of ENCODE_PASSES passes of `await encode(doc)` over every document, one at a time
//   (each call crosses the N-API boundary and copies the text to UTF-8: the binding's real cost).
// - encode_batch_mb_s: the same with one encodeBatch call per pass, which amortises the call overhead.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const LOAD_RUNS = 5;
const ENCODE_PASSES = 3;

const referenceDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../tests/reference');
const require = createRequire(path.join(referenceDir, 'package.json'));
const { Tokenizer } = require('tokenizers');

function parseArgs(argv) {
  const options = { corpus: null, out: null, tokenizers: [] };
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--corpus') options.corpus = argv[++i];
    else if (argv[i] === '--out') options.out = argv[++i];
    else if (argv[i].includes('=')) {
      const at = argv[i].indexOf('=');
      options.tokenizers.push({ name: argv[i].slice(0, at), file: argv[i].slice(at + 1) });
    } else {
      console.error(`hf_tokenizer_bench: unknown argument ${argv[i]}`);
      process.exit(2);
    }
  }
  if (!options.corpus || !options.out || options.tokenizers.length === 0) {
    console.error('usage: node hf_tokenizer_bench.mjs --corpus CORPUS.json --out HF.json NAME=tokenizer.json ...');
    process.exit(2);
  }
  return options;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeLoads(file) {
  const times = [];
  let tokenizer = null;
  for (let run = 0; run < LOAD_RUNS; ++run) {
    const start = nowMs();
    tokenizer = Tokenizer.fromFile(file);
    times.push(nowMs() - start);
  }
  return { tokenizer, loadMs: median(times) };
}

// Best of ENCODE_PASSES passes of `pass()`, which returns the number of tokens it produced.
async function bestThroughput(bytes, pass) {
  let bestMs = Infinity;
  let tokens = 0;
  for (let i = 0; i < ENCODE_PASSES; ++i) {
    const start = nowMs();
    tokens = await pass();
    bestMs = Math.min(bestMs, nowMs() - start);
  }
  return { mbPerS: bytes / 1e6 / (bestMs / 1e3), tokens };
}

async function benchOne(spec, docs, bytes) {
  const { tokenizer, loadMs } = timeLoads(spec.file);
  const single = await bestThroughput(bytes, async () => {
    let tokens = 0;
    for (const doc of docs) tokens += (await tokenizer.encode(doc, null, { addSpecialTokens: true })).getLength();
    return tokens;
  });
  const batch = await bestThroughput(bytes, async () => {
    const encodings = await tokenizer.encodeBatch(docs, { addSpecialTokens: true });
    return encodings.reduce((sum, e) => sum + e.getLength(), 0);
  });
  if (single.tokens !== batch.tokens) throw new Error(`${spec.name}: encode and encodeBatch disagree`);
  console.error(`hf_tokenizer_bench: ${spec.name}: load ${loadMs.toFixed(1)} ms, encode ` +
                `${single.mbPerS.toFixed(2)} MB/s, encodeBatch ${batch.mbPerS.toFixed(2)} MB/s`);
  return { load_ms: loadMs, encode_mb_s: single.mbPerS, encode_batch_mb_s: batch.mbPerS, tokens: single.tokens };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const docs = JSON.parse(fs.readFileSync(options.corpus, 'utf8'));
  const bytes = docs.reduce((sum, d) => sum + Buffer.byteLength(d), 0);
  const results = {};
  for (const spec of options.tokenizers) results[spec.name] = await benchOne(spec, docs, bytes);
  const version = require('tokenizers/package.json').version;
  fs.writeFileSync(options.out, JSON.stringify({ version, tokenizers: results }, null, 1));
}

main().catch((e) => {
  console.error(`hf_tokenizer_bench: ${e.stack || e}`);
  process.exit(1);
});
