// The official OpenAI client, unchanged, against `ember serve` on the
// tiny-r1vocab GGUF (random weights, the real DeepSeek tokenizer and chat
// template) with --api-key: chat and completions, streamed and not,
// include_usage, n = 2, logprobs, stop, seeds, the errors as the client's
// APIError classes, 401 without the key, and vLLM's /tokenize, /detokenize
// and /generate. The model writes gibberish, so expected texts come from the
// server itself (the same request another way) or from the fixtures.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { FIXTURES, MAX_MODEL_LEN, MODEL_NAME, startServer } from './lib/server.mjs';
import { collectChat, collectCompletion, expectApiError, usageChunk, userChat } from './lib/util.mjs';

const KEY = 'e2e-secret';
let server, client, root;

before(async () => {
  server = await startServer({ apiKey: KEY });
  client = server.client();
  root = server.rootClient();
});
after(async () => {
  await server?.stop();
});

// The chat prompt's token count as the server renders it.
async function promptTokens(messages) {
  const r = await root.post('/tokenize', { body: { model: MODEL_NAME, messages } });
  return r.count;
}

test('GET /v1/models lists the served model', async () => {
  const page = await client.models.list();
  assert.equal(page.data.length, 1);
  assert.equal(page.data[0].id, MODEL_NAME);
  assert.equal(page.data[0].object, 'model');
  assert.equal(page.data[0].max_model_len, MAX_MODEL_LEN);
});

test('chat completion, not streamed', async () => {
  const messages = userChat('Hello');
  const { data: r, response } = await client.chat.completions
    .create({ model: MODEL_NAME, messages, max_tokens: 4, seed: 1 })
    .withResponse();
  assert.equal(response.headers.get('content-type'), 'application/json');
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.model, MODEL_NAME);
  assert.ok(Number.isInteger(r.created));
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.finish_reason, 'length');
  assert.equal(c.message.role, 'assistant');
  assert.equal(c.logprobs, null);
  // The template opens <think>; without </think> everything is reasoning.
  assert.equal(c.message.content, null);
  assert.equal(typeof c.message.reasoning_content, 'string');
  const prompt = await promptTokens(messages);
  assert.deepEqual(r.usage, { prompt_tokens: prompt, completion_tokens: 4, total_tokens: prompt + 4 });
});

test('chat completion streamed with include_usage: the same reply as not streamed (same seed)', async () => {
  const req = { model: MODEL_NAME, messages: userChat('Hello'), max_tokens: 5, seed: 3, temperature: 1 };
  const whole = await client.chat.completions.create(req);
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  const { chunks, choices } = await collectChat(stream);
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  assert.match(chunks[0].id, /^chatcmpl-/);
  for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
  assert.deepEqual([...choices.keys()], [0]);
  const acc = choices.get(0);
  assert.deepEqual(acc.roles, ['assistant']);
  assert.deepEqual(acc.finish, ['length']);
  assert.equal(acc.reasoning, whole.choices[0].message.reasoning_content);
  assert.equal(acc.content, '');
  assert.deepEqual(usageChunk(chunks), whole.usage);
});

test('chat stream without include_usage has no usage chunk', async () => {
  const stream = await client.chat.completions.create({
    model: MODEL_NAME, messages: userChat('Hi'), max_tokens: 3, seed: 2, stream: true,
  });
  const { chunks } = await collectChat(stream);
  for (const c of chunks) assert.ok(c.usage == null);
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
});

test("the client's stream helper assembles our chunks", async () => {
  const runner = client.chat.completions.stream({
    model: MODEL_NAME, messages: userChat('Hi'), max_tokens: 3, seed: 2, stream_options: { include_usage: true },
  });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].finish_reason, 'length');
  assert.equal(final.choices[0].message.role, 'assistant');
  assert.equal(final.usage.completion_tokens, 3);
});

test('completions, streamed and not, text and token-id prompts', async () => {
  const req = { model: MODEL_NAME, prompt: 'Once upon a time', max_tokens: 6, seed: 11 };
  const whole = await client.completions.create(req);
  assert.equal(whole.object, 'text_completion');
  assert.match(whole.id, /^cmpl-/);
  assert.equal(whole.choices.length, 1);
  assert.equal(whole.choices[0].finish_reason, 'length');
  const ids = (await root.post('/tokenize', { body: { model: MODEL_NAME, prompt: 'Once upon a time' } })).tokens;
  assert.deepEqual(whole.usage, { prompt_tokens: ids.length, completion_tokens: 6, total_tokens: ids.length + 6 });
  const text = whole.choices[0].text;

  const stream = await client.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  const { chunks, choices } = await collectCompletion(stream);
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  assert.equal(choices.get(0).text, text);
  assert.deepEqual(choices.get(0).finish, ['length']);
  assert.deepEqual(usageChunk(chunks), whole.usage);

  // The prompt as the ids /tokenize gave: the same completion.
  const byIds = await client.completions.create({ ...req, prompt: ids });
  assert.equal(byIds.choices[0].text, text);
  // A list of prompts: one choice each.
  const two = await client.completions.create({ ...req, prompt: [ids, ids] });
  assert.deepEqual(two.choices.map((c) => [c.index, c.text]), [[0, text], [1, text]]);
  assert.equal(two.usage.prompt_tokens, 2 * ids.length);
});

test('n = 2: two choices, reproducible with a seed, streamed too', async () => {
  const req = { model: MODEL_NAME, messages: userChat('Tell me'), max_tokens: 5, n: 2, seed: 42, temperature: 1 };
  const a = await client.chat.completions.create(req);
  const b = await client.chat.completions.create(req);
  assert.deepEqual(a.choices.map((c) => c.index), [0, 1]);
  assert.equal(a.usage.completion_tokens, 10);
  assert.deepEqual(a.choices, b.choices);
  assert.notEqual(a.choices[0].message.reasoning_content, a.choices[1].message.reasoning_content);

  const { chunks, choices } = await collectChat(
    await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } }));
  assert.deepEqual([...choices.keys()].sort(), [0, 1]);
  for (const i of [0, 1]) {
    assert.deepEqual(choices.get(i).roles, ['assistant']);
    assert.deepEqual(choices.get(i).finish, ['length']);
    assert.equal(choices.get(i).reasoning, a.choices[i].message.reasoning_content);
  }
  assert.equal(usageChunk(chunks).completion_tokens, 10);
});

test('seeds: the same seed repeats, another seed differs', async () => {
  const req = { model: MODEL_NAME, prompt: 'The weather', max_tokens: 8, temperature: 1 };
  const one = await client.completions.create({ ...req, seed: 1 });
  const again = await client.completions.create({ ...req, seed: 1 });
  const other = await client.completions.create({ ...req, seed: 2 });
  assert.equal(again.choices[0].text, one.choices[0].text);
  assert.notEqual(other.choices[0].text, one.choices[0].text);
});

test('chat logprobs: greedy picks the top token, top_logprobs sorted, streamed the same', async () => {
  const req = { model: MODEL_NAME, messages: userChat('Hi'), max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3 };
  const r = await client.chat.completions.create(req);
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, 4);
  let bytes = [];
  for (const t of content) {
    assert.equal(t.top_logprobs.length, 3);
    const values = t.top_logprobs.map((x) => x.logprob);
    assert.deepEqual(values, [...values].sort((x, y) => y - x));
    assert.ok(values[0] <= 0);
    assert.equal(t.logprob, values[0]);  // temperature 0 takes the most likely token
    assert.ok(values.reduce((s, v) => s + Math.exp(v), 0) <= 1 + 1e-6);
    bytes = bytes.concat(t.bytes);
  }
  const text = r.choices[0].message.reasoning_content;
  if (!text.includes('\uFFFD')) assert.equal(Buffer.from(bytes).toString('utf8'), text);

  const stream = await client.chat.completions.create({ ...req, stream: true });
  const streamed = [];
  for await (const chunk of stream) streamed.push(...(chunk.choices[0]?.logprobs?.content ?? []));
  assert.deepEqual(streamed, content);
});

test('completions logprobs: tokens spell the text, offsets advance', async () => {
  const r = await client.completions.create({ model: MODEL_NAME, prompt: 'Hi there', max_tokens: 4, temperature: 0, logprobs: 2 });
  const lp = r.choices[0].logprobs;
  assert.equal(lp.tokens.length, 4);
  assert.equal(lp.tokens.join(''), r.choices[0].text);
  let offset = 0;
  for (let i = 0; i < 4; ++i) {
    assert.equal(lp.text_offset[i], offset);
    offset += lp.tokens[i].length;
    const top = Object.values(lp.top_logprobs[i]);
    assert.ok(top.length >= 1 && top.length <= 2);
    assert.equal(lp.token_logprobs[i], Math.max(...top));
  }
});

test('stop strings cut the text, streamed and not', async () => {
  const req = { model: MODEL_NAME, prompt: 'The story', max_tokens: 12, seed: 9, temperature: 1 };
  const full = await client.completions.create({ ...req, logprobs: 0 });
  const text = full.choices[0].text;
  const tokens = full.choices[0].logprobs.tokens;
  // A stop string: a token in the middle that decodes cleanly.
  const stop = tokens.slice(3).find((t) => t.trim() !== '' && !t.includes('\uFFFD') && text.includes(t));
  assert.ok(stop, `no usable stop token in ${JSON.stringify(tokens)}`);
  const expected = text.slice(0, text.indexOf(stop));

  const r = await client.completions.create({ ...req, stop });
  assert.equal(r.choices[0].text, expected);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].stop_reason, stop);

  const { choices } = await collectCompletion(await client.completions.create({ ...req, stop: [stop], stream: true }));
  assert.equal(choices.get(0).text, expected);
  assert.deepEqual(choices.get(0).finish, ['stop']);
});

test('400: malformed JSON, wrong types, max_tokens beyond the context', async () => {
  const bad = async (promise, param) => {
    const e = await expectApiError(promise, OpenAI.BadRequestError, 400);
    assert.equal(typeof e.error.message, 'string');
    assert.ok(e.message.startsWith('400 '), e.message);
    assert.equal(e.type, 'BadRequestError');
    assert.equal(e.param, param);
    return e;
  };
  // The client only sends valid JSON; its low-level post sends raw bytes.
  const raw = (body) => client.post('/chat/completions', { body, headers: { 'content-type': 'application/json' } });
  await bad(raw('{"messages": ['), null);
  await bad(raw('[1, 2]'), null);
  const chat = (extra) => client.chat.completions.create({ model: MODEL_NAME, messages: userChat('x'), max_tokens: 2, ...extra });
  await bad(chat({ messages: 'hi' }), 'messages');
  await bad(chat({ temperature: 'hot' }), 'temperature');
  await bad(chat({ n: 0 }), 'n');
  await bad(chat({ stream: 'yes' }), 'stream');
  await bad(chat({ max_tokens: 'five' }), 'max_tokens');
  await bad(client.completions.create({ model: MODEL_NAME, prompt: 5 }), 'prompt');
  await bad(client.completions.create({ model: MODEL_NAME, prompt: 'x', logit_bias: { abc: 1 } }), 'logit_bias');

  const e = await bad(client.completions.create({ model: MODEL_NAME, prompt: 'x', max_tokens: MAX_MODEL_LEN }), 'max_tokens');
  assert.match(e.message, new RegExp(`maximum context length is ${MAX_MODEL_LEN} tokens`));
  await bad(chat({ max_tokens: undefined, max_completion_tokens: MAX_MODEL_LEN }), 'max_tokens');
  await bad(client.completions.create({ model: MODEL_NAME, prompt: new Array(MAX_MODEL_LEN).fill(100) }), 'prompt');
  // A streamed request that is refused fails before any chunk: create() rejects.
  await bad(chat({ max_tokens: MAX_MODEL_LEN, stream: true }), 'max_tokens');
});

test('unknown model: NotFoundError (404, as vLLM)', async () => {
  for (const request of [
    () => client.chat.completions.create({ model: 'gpt-4', messages: userChat('x') }),
    () => client.completions.create({ model: 'gpt-4', prompt: 'x', stream: true }),
  ]) {
    const e = await expectApiError(request(), OpenAI.NotFoundError, 404);
    assert.equal(e.param, 'model');
    assert.match(e.message, /gpt-4/);
  }
});

test('401 without the key or with a wrong one; /health needs none', async () => {
  const wrong = server.client({ apiKey: 'not-the-key' });
  await expectApiError(wrong.models.list(), OpenAI.AuthenticationError, 401);
  const e = await expectApiError(
    wrong.chat.completions.create({ model: MODEL_NAME, messages: userChat('x'), max_tokens: 1 }),
    OpenAI.AuthenticationError, 401);
  assert.equal(typeof e.error.message, 'string');
  // No Authorization header at all (null removes the client's).
  const none = server.client({ defaultHeaders: { Authorization: null } });
  await expectApiError(none.completions.create({ model: MODEL_NAME, prompt: 'x', max_tokens: 1 }),
    OpenAI.AuthenticationError, 401);
  await expectApiError(server.rootClient({ apiKey: 'nope' }).post('/tokenize', { body: { prompt: 'x' } }),
    OpenAI.AuthenticationError, 401);
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
  // And the right key works (every other test here uses it).
  assert.equal((await client.models.list()).data[0].id, MODEL_NAME);
});

// vLLM's extra routes through the client's low-level post (rooted at the
// server, not /v1), authenticated like the rest.
test('/tokenize and /detokenize agree with Hugging Face on the tokenizer fixture', async () => {
  const cases = readFileSync(path.join(FIXTURES, 'tokenizer/public.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(cases.length >= 200);
  for (const c of cases) {
    const withSpecial = await root.post('/tokenize', { body: { model: MODEL_NAME, prompt: c.text } });
    assert.deepEqual(withSpecial.tokens, c.ids_with_special_tokens, c.id);
    assert.equal(withSpecial.count, c.ids_with_special_tokens.length);
    assert.equal(withSpecial.max_model_len, MAX_MODEL_LEN);
    const plain = await root.post('/tokenize', { body: { prompt: c.text, add_special_tokens: false, return_token_strs: true } });
    assert.deepEqual(plain.tokens, c.ids, c.id);
    assert.deepEqual(plain.token_strs, c.tokens, c.id);
    const back = await root.post('/detokenize', { body: { tokens: c.ids } });
    assert.equal(back.prompt, c.decoded, c.id);
  }
});

test('/tokenize with messages counts what chat completions bill', async () => {
  const messages = [{ role: 'system', content: 'Be brief.' }, ...userChat('What is 2+2?')];
  const t = await root.post('/tokenize', { body: { model: MODEL_NAME, messages } });
  const r = await client.chat.completions.create({ model: MODEL_NAME, messages, max_tokens: 1 });
  assert.equal(r.usage.prompt_tokens, t.count);
  assert.equal(t.tokens.length, t.count);
});

test('/generate: the completion text, whole and as NDJSON lines', async () => {
  const req = { prompt: 'Once upon a time', max_tokens: 5, seed: 7, temperature: 1 };
  const expected = (await client.completions.create({ model: MODEL_NAME, ...req })).choices[0].text;
  const whole = await root.post('/generate', { body: req });
  assert.deepEqual(whole, { response: expected });

  const res = await root.post('/generate', { body: { ...req, stream: true } }).asResponse();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
  const lines = (await res.text()).split('\n');
  assert.equal(lines.pop(), '', 'the body ends with a newline');
  const events = lines.map((l) => JSON.parse(l));
  const last = events.pop();
  assert.deepEqual(last, { response: '', done: true, finish_reason: 'length' });
  assert.equal(events.map((e) => e.response).join(''), expected);
  for (const e of events) assert.deepEqual(Object.keys(e), ['response']);
});

// Last: SIGTERM shuts the server down cleanly.
test('SIGTERM: ember serve exits 0', async () => {
  const { code, signal } = await server.stop();
  assert.equal(signal, null, server.output);
  assert.equal(code, 0, server.output);
});
