// Greedy ids of one ONNX decoder file in onnxruntime-node (CPU), an independent runtime for tests:
//   node tools/greedy_ids.mjs MODEL.onnx 1,403,407 N      -> prints the N new ids as a JSON array
// Batch 1, KV-cache loop (optimum layout: input_ids, attention_mask, [position_ids], past_key_values.*;
// float32 or float16 KV and logits).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'reference', 'package.json'));
const ort = require('onnxruntime-node');

// IEEE half bits -> number (float16 logits come back as raw Uint16 values).
function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const [file, idsArg, nArg] = process.argv.slice(2);
if (!file || !idsArg || !nArg) {
  console.error('usage: node tools/greedy_ids.mjs MODEL.onnx ID,ID,... N');
  process.exit(2);
}
const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
const meta = Object.fromEntries(session.inputMetadata.map((m) => [m.name, m]));
const pastNames = session.inputNames.filter((n) => n.startsWith('past'));
const ints = (rows) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0].length]);
let past = {};
for (const n of pastNames) {
  let sym = 0;
  const dims = meta[n].shape.map((x) => (typeof x === 'number' ? x : (sym++ === 0 ? 1 : 0)));
  const type = meta[n].type === 'float16' ? 'float16' : 'float32';  // float16 KV: raw half bits
  past[n] = new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
}
let tokens = idsArg.split(',').map(Number), length = 0;
const out = [];
for (let step = 0; step < Number(nArg); step++) {
  const feeds = { input_ids: ints([tokens]), attention_mask: ints([Array(length + tokens.length).fill(1)]), ...past };
  if ('position_ids' in meta) feeds.position_ids = ints([tokens.map((_, i) => length + i)]);
  const result = await session.run(feeds);
  const [, S, V] = result.logits.dims;
  let last = result.logits.data.subarray((S - 1) * V, S * V);
  if (result.logits.type === 'float16') last = Float32Array.from(last, halfToFloat);
  const next = last.reduce((best, x, i) => (x > last[best] ? i : best), 0);
  out.push(next);
  length += tokens.length;
  tokens = [next];
  past = Object.fromEntries(pastNames.map((n) => [n, result[n.replace(/^past_key_values\./, 'present.')]]));
}
console.log(JSON.stringify(out));
