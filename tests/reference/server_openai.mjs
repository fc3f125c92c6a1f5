// `ortlm serve` driven by the official OpenAI client (npm `openai`) and by raw HTTP for what a client
// library would never send. Starts the server on a free loopback port, runs every case, stops it with
// SIGTERM and checks it exits 0. Oracles: the same request served alone, Hugging Face `tokenizers`
// decoding the bundled model's llama2.c reference ids, and the OpenAI API's documented shapes.
//
//   node server_openai.mjs ORTLM_BINARY MODEL_FOLDER
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';
import { Tokenizer } from 'tokenizers';

const [binary, modelDir] = process.argv.slice(2);
if (!binary || !modelDir) throw new Error('usage: node server_openai.mjs ORTLM_BINARY MODEL_FOLDER');
const API_KEY = 'test-key-123';
const MAX_BODY = 65536;

function startServer(extra = []) {
  const child = spawn(binary, ['serve', modelDir, '--port', '0', '--api-key', API_KEY, '--max-body', String(MAX_BODY),
                               '--read-timeout', '1', '--max-requests', '48', '--cache-mib', '16', '--block-size', '4',
                               ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      log += d;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening:\n${log}`)));
  });
  return { child, port, log: () => log };
}

const server = startServer();
const port = await server.port;
const base = `http://127.0.0.1:${port}`;
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: API_KEY, maxRetries: 0, timeout: 120000 });
const modelId = path.basename(path.resolve(modelDir));
const failures = [];
async function test(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n${e.stack}`);
  }
}
const greedy = { model: modelId, temperature: 0 };
const chat = (content, extra = {}) => ({ ...greedy, messages: [{ role: 'user', content }], max_tokens: 24, ...extra });

async function metrics() {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name) => Number((new RegExp(`^${name} (\\S+)$`, 'm').exec(text) || [])[1]);
  return { text, value };
}

await test('models', async () => {
  const list = await client.models.list();
  assert.deepEqual(list.data.map((m) => m.id), [modelId]);
  assert.equal((await client.models.retrieve(modelId)).id, modelId);
});

await test('completions reproduce the reference greedy ids', async () => {
  const ref = JSON.parse(fs.readFileSync(path.join(modelDir, 'reference.json'))).references[0];
  const hf = Tokenizer.fromFile(path.join(modelDir, 'tokenizer.json'));
  const n = 16;
  const whole = await hf.decode(ref.prompt_ids.concat(ref.greedy_new_ids.slice(0, n)), false);
  const prompt = await hf.decode(ref.prompt_ids, false);
  const r = await client.completions.create({ ...greedy, prompt: ref.prompt_ids, max_tokens: n });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].text, whole.slice(prompt.length));
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.deepEqual(r.usage, { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n,
                              prompt_tokens_details: { cached_tokens: 0 } });
});

await test('chat, streamed and not, agree; usage', async () => {
  const whole = await client.chat.completions.create(chat('Tell me a story about a cat.'));
  const content = whole.choices[0].message.content;
  assert.equal(whole.choices[0].message.role, 'assistant');
  assert.ok(content.length > 0);
  assert.equal(whole.usage.completion_tokens, 24);
  assert.equal(whole.usage.total_tokens, whole.usage.prompt_tokens + 24);
  const stream = await client.chat.completions.create({ ...chat('Tell me a story about a cat.'), stream: true,
                                                        stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, role = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      text += c.delta.content ?? '';
      finish = c.finish_reason ?? finish;
    }
  }
  assert.equal(role, 'assistant');
  assert.equal(text, content);
  assert.equal(finish, 'length');
  // The same prompt again: its blocks come from the prefix cache.
  assert.ok(usage.prompt_tokens_details.cached_tokens > 0);
  for (const key of ['prompt_tokens', 'completion_tokens', 'total_tokens']) assert.equal(usage[key], whole.usage[key]);
});

await test('n > 1: greedy choices agree, seeded sampling repeats', async () => {
  const r = await client.chat.completions.create(chat('Hello', { n: 3 }));
  assert.equal(r.choices.length, 3);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  assert.ok(r.choices.every((c) => c.message.content === r.choices[0].message.content));
  assert.equal(r.usage.completion_tokens, 3 * 24);
  const sampled = chat('Hello', { n: 2, temperature: 1, seed: 42 });
  const a = await client.chat.completions.create(sampled), b = await client.chat.completions.create(sampled);
  assert.deepEqual(a.choices.map((c) => c.message.content), b.choices.map((c) => c.message.content));
});

await test('stop strings end the text before them', async () => {
  const full = (await client.completions.create({ ...greedy, prompt: 'Once upon a time', max_tokens: 30 })).choices[0].text;
  const stop = full.slice(12, 17);
  const r = await client.completions.create({ ...greedy, prompt: 'Once upon a time', max_tokens: 30, stop: [stop] });
  assert.equal(r.choices[0].text, full.slice(0, full.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, 'stop');
});

await test('logprobs: one entry per token, greedy picks the top one', async () => {
  const r = await client.chat.completions.create(chat('Hi', { logprobs: true, top_logprobs: 3, max_tokens: 8 }));
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, 8);
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 3);
    assert.ok(t.logprob <= 0);
    assert.equal(t.token, t.top_logprobs[0].token);
    assert.ok(Math.abs(t.logprob - t.top_logprobs[0].logprob) < 1e-6);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob);
  }
  assert.equal(content.map((t) => t.token).join(''), r.choices[0].message.content);
  const c = await client.completions.create({ ...greedy, prompt: 'Once upon a time', max_tokens: 5, logprobs: 2 });
  assert.equal(c.choices[0].logprobs.tokens.length, 5);
  assert.equal(c.choices[0].logprobs.tokens.join(''), c.choices[0].text);
});

await test('32 concurrent streams each equal the request served alone', async () => {
  const prompts = Array.from({ length: 32 }, (_, i) => `Story number ${i}: once upon a time a ${['cat', 'dog', 'bird', 'fish'][i % 4]}`);
  const alone = [];
  for (const p of prompts.slice(0, 8))
    alone.push((await client.completions.create({ ...greedy, prompt: p, max_tokens: 20 })).choices[0].text);
  const streamed = await Promise.all(prompts.map(async (p) => {
    const s = await client.completions.create({ ...greedy, prompt: p, max_tokens: 20, stream: true });
    let text = '';
    for await (const chunk of s) text += chunk.choices[0]?.text ?? '';
    return text;
  }));
  for (let i = 0; i < 8; ++i) assert.equal(streamed[i], alone[i], `request ${i}`);
  for (let i = 8; i < 32; ++i) {
    const one = (await client.completions.create({ ...greedy, prompt: prompts[i], max_tokens: 20 })).choices[0].text;
    assert.equal(streamed[i], one, `request ${i}`);
  }
});

await test('shared system prompt is served from the prefix cache', async () => {
  const system = 'You are a kind storyteller who tells short stories to children about animals in the forest.';
  const before = (await metrics()).value('ortlm_prompt_tokens_cached_total');
  const messages = (q) => [{ role: 'system', content: system }, { role: 'user', content: q }];
  const first = await client.chat.completions.create({ ...greedy, messages: messages('A fox?'), max_tokens: 8 });
  await client.chat.completions.create({ ...greedy, messages: messages('A bear?'), max_tokens: 8 });
  const after = (await metrics()).value('ortlm_prompt_tokens_cached_total');
  assert.ok(after - before >= 16, `cached ${after - before} tokens`);
  const again = await client.chat.completions.create({ ...greedy, messages: messages('A fox?'), max_tokens: 8 });
  assert.equal(again.choices[0].message.content, first.choices[0].message.content);
  assert.equal(first.usage.prompt_tokens_details.cached_tokens, 0);
  const cached = again.usage.prompt_tokens_details.cached_tokens;
  assert.ok(cached > 0 && cached < again.usage.prompt_tokens && cached % 4 === 0, `cached_tokens ${cached}`);
});

await test('a client that disconnects mid-stream is cancelled and its blocks freed', async () => {
  const controller = new AbortController();
  const s = await client.completions.create({ ...greedy, prompt: 'Once upon a time', max_tokens: 400, stream: true },
                                            { signal: controller.signal });
  let chunks = 0;
  try {
    for await (const _ of s) if (++chunks === 3) controller.abort();
  } catch { /* aborted */ }
  let m;
  for (let i = 0; i < 100; ++i) {
    m = await metrics();
    if (m.value('ortlm_sequences_running') === 0 && m.value('ortlm_kv_blocks_used') === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(m.value('ortlm_sequences_running'), 0);
  assert.equal(m.value('ortlm_kv_blocks_used'), 0);
  assert.equal(m.value('ortlm_kv_paged'), 1, 'serve pages the bundled Llama model\'s KV (--kv auto)');
  assert.ok(m.value('ortlm_sequences_cancelled_total') >= 1);
  assert.match(m.text, /ortlm_time_to_first_token_seconds_count [1-9]/);
});

async function raw(pathname, body, headers = {}) {
  const r = await fetch(`${base}${pathname}`, { method: body === undefined ? 'GET' : 'POST', body,
                                                headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json', ...headers } });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

await test('hostile requests get OpenAI-shaped 4xx errors', async () => {
  const cases = [
    ['/v1/chat/completions', '{"messages": [', 400],
    ['/v1/chat/completions', '[1, 2]', 400],
    ['/v1/chat/completions', JSON.stringify({ messages: 'hi' }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }], max_tokens: -1 }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }], max_tokens: 1e12 }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }], n: 1000 }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'wizard', content: 'x' }] }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }], logit_bias: { abc: 1 } }), 400],
    ['/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'x' }], model: 'gpt-9' }), 404],
    ['/v1/completions', JSON.stringify({ prompt: [1, 2, 999999] }), 400],
    ['/v1/completions', JSON.stringify({ prompt: 'x'.repeat(20000) }), 400],  // beyond the context
    ['/v1/completions', JSON.stringify({}), 400],
    ['/v1/nothing', '{}', 404],
  ];
  for (const [where, body, status] of cases) {
    const r = await raw(where, body);
    assert.equal(r.status, status, `${body.slice(0, 80)} -> ${r.text}`);
    assert.equal(typeof r.json?.error?.message, 'string', r.text);
  }
  // Invalid UTF-8 inside a JSON string.
  const bytes = Buffer.concat([Buffer.from('{"prompt": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
  assert.equal((await raw('/v1/completions', bytes)).status, 400);
  // Too large: 413 (the server may close the connection early instead; either way it goes on serving).
  try {
    const big = await raw('/v1/completions', JSON.stringify({ prompt: 'y'.repeat(MAX_BODY * 2) }));
    assert.equal(big.status, 413);
  } catch (e) { /* closed while we were sending */ }
  // Wrong key, no key.
  assert.equal((await raw('/v1/models', undefined, { Authorization: 'Bearer wrong' })).status, 401);
  assert.equal((await raw('/v1/models', undefined, { Authorization: '' })).status, 401);
  assert.equal((await raw('/health')).status, 200);
});

await test('a slow-loris connection is closed and others are served meanwhile', async () => {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.on('connect', r));
  socket.write('POST /v1/completions HTTP/1.1\r\nHost: x\r\n');  // never finishes its headers
  const closed = new Promise((r) => socket.on('close', r));
  socket.on('data', () => {});  // the server may answer 408/400 before it closes
  const r = await client.completions.create({ ...greedy, prompt: 'Once', max_tokens: 4 });
  assert.ok(r.choices[0].text.length > 0);
  const result = await Promise.race([closed.then(() => 'closed'), new Promise((r) => setTimeout(() => r('open'), 8000))]);
  socket.destroy();
  assert.equal(result, 'closed');
});

await test('SIGTERM ends the server cleanly', async () => {
  const exited = new Promise((r) => server.child.on('exit', (code, signal) => r({ code, signal })));
  server.child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0, server.log());
  assert.match(server.log(), /POST \/v1\/chat\/completions 200 prompt=\d+ completion=24/);
});

if (failures.length) {
  console.log(`${failures.length} failed: ${failures.join(', ')}`);
  server.child.kill('SIGKILL');
  process.exit(1);
}
console.log('all server tests passed');
