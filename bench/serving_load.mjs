// Load generator for bench/serving.sh: drives an OpenAI-compatible server (ortlm serve, or llama.cpp's
// llama-server) on loopback with raw streaming HTTP, prompts given as token ids so that both servers
// see the same tokens.
//   node serving_load.mjs BASE_URL throughput CONCURRENCY[,..] [N_TOKENS] [PROMPT_TOKENS] [VOCAB]
//   node serving_load.mjs BASE_URL ttft SYSTEM_TOKENS [VOCAB] [REPEAT]
// Prints one JSON line per measurement.
const [base, mode, ...rest] = process.argv.slice(2);

// Deterministic token ids (no tokenizer needed): a small LCG, kept away from ids 0..3 (special tokens).
function ids(seed, n, vocab) {
  let x = (seed * 2654435761 + 12345) >>> 0;
  return Array.from({ length: n }, () => { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; return 4 + (x % (vocab - 4)); });
}

// One streaming completion: resolves to {tokens, ttft, total} (seconds).
async function stream(prompt, maxTokens) {
  const start = performance.now();
  const r = await fetch(`${base}/v1/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, max_tokens: maxTokens, temperature: 0, stream: true, ignore_eos: true,
                           stream_options: { include_usage: true } }),
  });
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  let ttft = null, tokens = 0, buffer = '';
  const decoder = new TextDecoder();
  for await (const bytes of r.body) {
    buffer += decoder.decode(bytes, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 2);
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const chunk = JSON.parse(event.slice(6));
      if (chunk.usage?.completion_tokens) tokens = chunk.usage.completion_tokens;
      if (ttft === null && chunk.choices?.length) ttft = (performance.now() - start) / 1000;
    }
  }
  return { tokens, ttft, total: (performance.now() - start) / 1000 };
}

if (mode === 'throughput') {
  const levels = rest[0].split(',').map(Number);
  const n = Number(rest[1] ?? 64), promptTokens = Number(rest[2] ?? 32), vocab = Number(rest[3] ?? 49152);
  await stream(ids(999, promptTokens, vocab), 8);  // warm-up
  for (const c of levels) {
    const start = performance.now();
    const results = await Promise.all(Array.from({ length: c }, (_, i) => stream(ids(1000 * c + i, promptTokens, vocab), n)));
    const seconds = (performance.now() - start) / 1000;
    const tokens = results.reduce((s, r) => s + r.tokens, 0);
    if (tokens !== c * n) throw new Error(`expected ${c * n} tokens, got ${tokens}`);
    const ttfts = results.map((r) => r.ttft).sort((a, b) => a - b);
    console.log(JSON.stringify({ concurrency: c, tokens, seconds, tokens_per_second: tokens / seconds,
                                 median_ttft: ttfts[Math.floor(c / 2)] }));
  }
} else if (mode === 'ttft') {
  const systemTokens = Number(rest[0] ?? 500), vocab = Number(rest[1] ?? 49152), repeat = Number(rest[2] ?? 3);
  for (let k = 0; k < repeat; ++k) {
    const system = ids(5000 + k, systemTokens, vocab);  // a prefix no earlier request had
    const cold = await stream(system.concat(ids(7000 + k, 8, vocab)), 1);
    const cached = await stream(system.concat(ids(8000 + k, 8, vocab)), 1);
    console.log(JSON.stringify({ system_tokens: systemTokens, cold_ttft: cold.ttft, cached_ttft: cached.ttft,
                                 ratio: cold.ttft / cached.ttft }));
  }
} else {
  throw new Error('usage: node serving_load.mjs BASE_URL throughput|ttft ...');
}
