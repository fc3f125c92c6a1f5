// Oracle for the generated test models (tools/gen_test_models.py), run with onnxruntime-node (CPU):
//   node tools/check_test_models.mjs DIR [NAME...]
// For every model folder in DIR (or the named ones) it runs greedy decoding three ways and requires
// the same tokens and logits (max abs diff <= 1e-4; fp16 logits: <= 1e-4 or one fp16 ulp):
//   1. KV-cache loop, batch 1, for each of two prompts;
//   2. full recompute without cache (empty past every step), batch 1;
//   3. KV-cache loop with both prompts in one batch of 2, padded (left padding; GenAI
//      GroupQueryAttention models: right padding, as that op counts each row's length from 0).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'reference', 'package.json'));
const ort = require('onnxruntime-node');

const N_NEW = 20;
const PROMPTS = [[1, 403, 407, 261, 378, 300], [1, 300, 25]];
const TOL = 1e-4;

// ---- float16 helpers (onnxruntime-node carries float16 as Uint16Array) ----
function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
const halfUlp = (x) => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(x) || 2 ** -14)), -14) - 10);

function modelFile(dir) {
  const genai = path.join(dir, 'genai_config.json');
  if (fs.existsSync(genai)) return path.join(dir, JSON.parse(fs.readFileSync(genai, 'utf8')).model.decoder.filename);
  for (const f of ['onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/decoder_model_merged.onnx', 'model.onnx',
                   'decoder_model_merged.onnx']) {
    if (fs.existsSync(path.join(dir, f))) return path.join(dir, f);
  }
  throw new Error(`no model file in ${dir}`);
}

class Decoder {
  static async load(dir) {
    const d = new Decoder();
    d.file = modelFile(dir);
    d.session = await ort.InferenceSession.create(d.file, { executionProviders: ['cpu'] });
    const meta = Object.fromEntries(d.session.inputMetadata.map((m) => [m.name, m]));
    d.meta = meta;
    d.idsType = meta.input_ids.type;
    d.hasPos = 'position_ids' in meta;
    d.hasBranch = 'use_cache_branch' in meta;
    d.pastNames = d.session.inputNames.filter((n) => n.startsWith('past'));
    d.kvType = meta[d.pastNames[0]].type;
    d.presentOf = (n) => n.replace(/^past_key_values\./, 'present.').replace(/^past_/, 'present_');
    // GenAI models with GroupQueryAttention (no position_ids): rows are right-padded.
    d.rightPad = fs.existsSync(path.join(dir, 'genai_config.json')) && !d.hasPos;
    return d;
  }

  tensorI(rows) {
    const B = rows.length, S = rows[0].length, flat = rows.flat();
    return this.idsType === 'int32'
      ? new ort.Tensor('int32', Int32Array.from(flat), [B, S])
      : new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [B, S]);
  }

  emptyPast(B) {
    const past = {};
    for (const n of this.pastNames) {
      let sym = 0;  // first symbolic dim is the batch, the second the past length
      const dims = this.meta[n].shape.map((x) => (typeof x === 'number' ? x : (sym++ === 0 ? B : 0)));
      past[n] = new ort.Tensor(this.kvType, this.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
    }
    return past;
  }

  // One forward step; returns logits as Float32Array rows per [b][s] and the next past.
  async step(ids, mask, pos, past, pastLen) {
    const feeds = { input_ids: this.tensorI(ids), attention_mask: this.tensorI(mask), ...past };
    if (this.hasPos) feeds.position_ids = this.tensorI(pos);
    if (this.hasBranch) feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.from([pastLen > 0 ? 1 : 0]), [1]);
    const out = await this.session.run(feeds);
    const lg = out.logits, [B, S, V] = lg.dims;
    const data = lg.type === 'float16' ? Float32Array.from(lg.data, halfToFloat) : lg.data;
    const row = (b, s) => data.subarray((b * S + s) * V, (b * S + s + 1) * V);
    const next = {};
    for (const n of this.pastNames) next[n] = out[this.presentOf(n)];
    return { row, next };
  }
}

const argmax = (a) => a.reduce((best, x, i) => (x > a[best] ? i : best), 0);

// Greedy KV-cache loop over a batch of prompts; returns per row {tokens, logits[]}.
async function greedyCached(m, prompts) {
  const B = prompts.length, lens = prompts.map((p) => p.length), L = Math.max(...lens);
  const padded = (p, fill) => (m.rightPad ? [...p, ...Array(L - p.length).fill(fill)]
                                          : [...Array(L - p.length).fill(fill), ...p]);
  const ids = prompts.map((p) => padded(p, 0));
  let mask = prompts.map((p) => padded(p.map(() => 1), 0));
  const count = lens.slice();  // real tokens per row
  // HF convention: position = cumsum(mask) - 1, padding positions set to 1.
  const pos = mask.map((r) => { let c = 0; return r.map((x) => (x ? c++ : 1)); });
  const res = prompts.map(() => ({ tokens: [], logits: [] }));
  let { row, next } = await m.step(ids, mask, pos, m.emptyPast(B), 0);
  let last = prompts.map((p, b) => (m.rightPad ? lens[b] - 1 : L - 1));
  for (let t = 0; t < N_NEW; t++) {
    const toks = res.map((r, b) => {
      const l = row(b, last[b]), k = argmax(l);
      r.logits.push(Float32Array.from(l));
      r.tokens.push(k);
      return k;
    });
    if (t === N_NEW - 1) break;
    const width = mask[0].length + 1;
    count.forEach((_, b) => count[b]++);
    mask = m.rightPad ? count.map((c) => Array.from({ length: width }, (_, j) => (j < c ? 1 : 0)))
                      : mask.map((r) => [...r, 1]);
    const stepPos = count.map((c) => [c - 1]);
    ({ row, next } = await m.step(toks.map((k) => [k]), mask, stepPos, next, width - 1));
    last = prompts.map(() => 0);
  }
  return res;
}

// Greedy without cache: the whole sequence every step, empty past (batch 1).
async function greedyRecompute(m, prompt) {
  const seq = prompt.slice(), res = { tokens: [], logits: [] };
  for (let t = 0; t < N_NEW; t++) {
    const { row } = await m.step([seq], [seq.map(() => 1)], [seq.map((_, i) => i)], m.emptyPast(1), 0);
    const l = row(0, seq.length - 1);
    res.logits.push(Float32Array.from(l));
    const k = argmax(l);
    res.tokens.push(k);
    seq.push(k);
  }
  return res;
}

// Max |a-b| over all steps; ok if within TOL (fp16: or one fp16 ulp of the reference).
function compare(a, b, fp16) {
  let maxDiff = 0, ok = a.tokens.join() === b.tokens.join();
  a.logits.forEach((la, t) => la.forEach((x, i) => {
    const d = Math.abs(x - b.logits[t][i]);
    maxDiff = Math.max(maxDiff, d);
    if (!(d <= TOL || (fp16 && d <= halfUlp(b.logits[t][i]) * 1.0001))) ok = false;
  }));
  return { ok, maxDiff };
}

async function checkModel(dir) {
  const m = await Decoder.load(dir);
  const fp16 = m.kvType === 'float16';
  const single = [];
  for (const p of PROMPTS) single.push(await greedyCached(m, [p]).then((r) => r[0]));
  const results = [];
  for (const [i, p] of PROMPTS.entries()) {
    results.push(['cache-vs-recompute', i, compare(single[i], await greedyRecompute(m, p), fp16)]);
  }
  const batch = await greedyCached(m, PROMPTS);
  const padSide = m.rightPad ? 'right' : 'left';
  batch.forEach((r, i) => results.push([`batch2-${padSide}-pad`, i, compare(r, single[i], fp16)]));
  const ok = results.every(([, , r]) => r.ok);
  const maxDiff = Math.max(...results.map(([, , r]) => r.maxDiff));
  const distinct = new Set(single[0].tokens).size;
  console.log(`${ok ? 'OK  ' : 'FAIL'} ${path.basename(dir)} (${path.relative(dir, m.file)}): ` +
              `tokens ${single[0].tokens.join(',')} (${distinct} distinct); max logit diff ${maxDiff.toExponential(2)}`);
  for (const [what, i, r] of results) {
    if (!r.ok) console.log(`     ${what} prompt ${i}: tokens or logits differ (max diff ${r.maxDiff})`);
  }
  return ok;
}

const [dir, ...names] = process.argv.slice(2);
if (!dir) { console.error('usage: node tools/check_test_models.mjs DIR [NAME...]'); process.exit(2); }
const folders = names.length ? names
  : fs.readdirSync(dir).filter((n) => fs.statSync(path.join(dir, n)).isDirectory()).sort();
let allOk = true;
for (const n of folders) {
  try {
    allOk = (await checkModel(path.join(dir, n))) && allOk;
  } catch (e) {
    console.log(`FAIL ${n}: ${e.message}`);
    allOk = false;
  }
}
process.exit(allOk ? 0 : 1);
