// Greedy generation with transformers.js (@huggingface/transformers, onnxruntime-node CPU), the
// reference that ortlm is compared against:
//   node bench/transformers_js_generate.mjs MODEL_DIR --ids 1,403,407 -n 400 [--dtype fp32] [--warmup 16]
// Generates exactly N tokens (EOS does not stop it and is not suppressed, like `ortlm --ignore-eos`),
// after one short warm-up generation, and prints one JSON line:
//   {"new_ids": [...], "seconds": total, "tokens_per_second": N/total,
//    "prefill_seconds": time to the first new token, "decode_tokens_per_second": (N-1)/(total-prefill)}
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'reference', 'package.json'));
const { AutoModelForCausalLM, Tensor, env } = await import(require.resolve('@huggingface/transformers'));

function parseArgs(argv) {
  const a = { dtype: 'fp32', n: 400, warmup: 16, ids: null, dir: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--ids') a.ids = argv[++i].split(',').map(Number);
    else if (k === '-n' || k === '--max-new-tokens') a.n = Number(argv[++i]);
    else if (k === '--dtype') a.dtype = argv[++i];
    else if (k === '--warmup') a.warmup = Number(argv[++i]);
    else if (!a.dir && !k.startsWith('-')) a.dir = k;
    else throw new Error(`unknown argument ${k}`);
  }
  if (!a.dir || !a.ids || !(a.n > 0)) {
    throw new Error('usage: transformers_js_generate.mjs MODEL_DIR --ids 1,2,3 -n N [--dtype fp32] [--warmup N]');
  }
  return a;
}

// Records when each new token arrives (generate() calls put() once with the prompt, then per token).
class Clock {
  constructor() { this.times = []; }
  put() { this.times.push(performance.now()); }
  end() {}
}

async function generate(model, ids, n) {
  const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
  const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const clock = new Clock();
  const t0 = performance.now();
  const out = await model.generate({
    input_ids, attention_mask, max_new_tokens: n, do_sample: false,
    eos_token_id: null,  // no EOS stop (min_new_tokens would instead mask EOS and change the tokens)
    streamer: clock,
  });
  const t1 = performance.now();
  const newIds = out.tolist()[0].slice(ids.length).map(Number);
  if (newIds.length !== n) throw new Error(`generated ${newIds.length} tokens, expected ${n}`);
  const seconds = (t1 - t0) / 1e3, prefill = (clock.times[1] - t0) / 1e3;
  return {
    new_ids: newIds, seconds, tokens_per_second: n / seconds, prefill_seconds: prefill,
    decode_tokens_per_second: n > 1 ? (n - 1) / (seconds - prefill) : null,
  };
}

const args = parseArgs(process.argv.slice(2));
const dir = path.resolve(args.dir);
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(dir) + path.sep;
const model = await AutoModelForCausalLM.from_pretrained(path.basename(dir), {
  dtype: args.dtype, device: 'cpu', local_files_only: true,
});
if (args.warmup > 0) await generate(model, args.ids, Math.min(args.warmup, args.n));
const result = await generate(model, args.ids, args.n);
await model.dispose();
console.log(JSON.stringify(result));
