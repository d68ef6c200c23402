// The deepseek_r1 reasoning split through the official client, on the
// tiny-r1vocab hf/ directory (its chat template opens `<think>\n` in the
// generation prompt, so the reply starts inside the reasoning). `</think>`
// is forced with logit_bias; the expected split comes from the raw
// completion of the same prompt ids with the same seed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MODEL_NAME, TINY_HF, startServer } from './lib/server.mjs';
import { collectChat, userChat } from './lib/util.mjs';

const CLOSE = '</think>';
let server, client, root, thinkId;

before(async () => {
  server = await startServer({ model: TINY_HF });
  client = server.client();
  root = server.rootClient();
  const t = await root.post('/tokenize', { body: { prompt: CLOSE, add_special_tokens: false } });
  assert.equal(t.tokens.length, 1, `${CLOSE} is one token`);
  thinkId = t.tokens[0];
});
after(async () => {
  await server?.stop();
});

const messages = userChat('Why?');

// A sampled reply with text before and after exactly one </think>: the
// first seed (of 40) whose raw completion of the chat prompt has it.
async function findSplit() {
  const ids = (await root.post('/tokenize', { body: { model: MODEL_NAME, messages } })).tokens;
  for (let seed = 0; seed < 40; ++seed) {
    const params = { max_tokens: 12, seed, temperature: 1, top_p: 1, logit_bias: { [thinkId]: 10 } };
    const raw = (await client.completions.create({ model: MODEL_NAME, prompt: ids, ...params })).choices[0].text;
    const at = raw.indexOf(CLOSE);
    if (at <= 0 || at + CLOSE.length === raw.length || raw.indexOf(CLOSE, at + 1) !== -1) continue;
    return { params, raw, reasoning: raw.slice(0, at), content: raw.slice(at + CLOSE.length) };
  }
  assert.fail('no seed gave text around one </think>');
}

// Reasoning and content never share a delta, and reasoning never follows
// content; the closing tag is in neither (unless the content repeats it).
function checkDeltaOrder(chunks, contentHasClose = false) {
  let contentSeen = false;
  for (const chunk of chunks) {
    for (const c of chunk.choices) {
      const hasReasoning = typeof c.delta.reasoning_content === 'string';
      const hasContent = typeof c.delta.content === 'string' && c.delta.content !== '';
      assert.ok(!(hasReasoning && hasContent), `a delta mixes reasoning and content: ${JSON.stringify(c.delta)}`);
      if (hasReasoning) {
        assert.ok(!contentSeen, 'reasoning after content');
        assert.equal(c.delta.reasoning, c.delta.reasoning_content);
        assert.ok(!c.delta.reasoning_content.includes('think>'));
      }
      if (hasContent) {
        if (!contentHasClose) assert.ok(!c.delta.content.includes(CLOSE));
        contentSeen = true;
      }
    }
  }
}

// vLLM's deepseek_r1 parser (extract_reasoning): reasoning_content is a
// string, '' when </think> comes first; content is what follows </think>,
// null when nothing does. Streamed, a delta that is only </think> has no
// chunk, so no delta carries reasoning_content here.
const noReasoningDelta = (chunks) =>
  chunks.every((chunk) => chunk.choices.every((c) => !('reasoning_content' in c.delta) && !('reasoning' in c.delta)));

test('</think> first (bias +100): reasoning "", the rest is content, streamed and not', async () => {
  const req = { model: MODEL_NAME, messages, max_tokens: 3, seed: 1, logit_bias: { [thinkId]: 100 } };
  const r = await client.chat.completions.create(req);
  const m = r.choices[0].message;
  // Every token is </think>: the first ends the (empty) reasoning, the
  // other two are content.
  assert.equal(m.content, CLOSE + CLOSE);
  assert.equal(m.reasoning_content, '');
  assert.equal(m.reasoning, '');
  assert.equal(r.usage.completion_tokens, 3);

  const { chunks, choices } = await collectChat(await client.chat.completions.create({ ...req, stream: true }));
  checkDeltaOrder(chunks, true);
  assert.ok(noReasoningDelta(chunks), JSON.stringify(chunks.map((c) => c.choices[0]?.delta)));
  assert.equal(choices.get(0).content, CLOSE + CLOSE);
});

test('only </think>: reasoning "", content null; streamed, neither has a delta', async () => {
  const req = { model: MODEL_NAME, messages, max_tokens: 1, seed: 1, logit_bias: { [thinkId]: 100 } };
  const m = (await client.chat.completions.create(req)).choices[0].message;
  assert.equal(m.reasoning_content, '');
  assert.equal(m.content, null);

  const { chunks, choices } = await collectChat(await client.chat.completions.create({ ...req, stream: true }));
  assert.ok(noReasoningDelta(chunks), JSON.stringify(chunks.map((c) => c.choices[0]?.delta)));
  assert.equal(choices.get(0).content, '');
  assert.deepEqual(choices.get(0).finish, ['length']);
});

test('one </think> mid-reply: reasoning_content before it, content after, not streamed', async () => {
  const t = await findSplit();
  const r = await client.chat.completions.create({ model: MODEL_NAME, messages, ...t.params });
  const m = r.choices[0].message;
  assert.equal(m.reasoning_content, t.reasoning);
  assert.equal(m.reasoning, t.reasoning);
  assert.equal(m.content, t.content);

  const hidden = await client.chat.completions.create({ model: MODEL_NAME, messages, ...t.params, include_reasoning: false });
  assert.equal(hidden.choices[0].message.reasoning_content ?? null, null);
  assert.equal(hidden.choices[0].message.content, t.content);
});

test('one </think> mid-reply: reasoning deltas, then content deltas, streamed', async () => {
  const t = await findSplit();
  const req = { model: MODEL_NAME, messages, ...t.params, stream: true };
  const { chunks, choices } = await collectChat(await client.chat.completions.create(req));
  checkDeltaOrder(chunks);
  assert.equal(choices.get(0).reasoning, t.reasoning);
  assert.equal(choices.get(0).content, t.content);
  assert.deepEqual(choices.get(0).finish, ['length']);

  const hidden = await collectChat(await client.chat.completions.create({ ...req, include_reasoning: false }));
  assert.equal(hidden.choices.get(0).reasoning, '');
  assert.equal(hidden.choices.get(0).content, t.content);
});

test('no </think> (bias -100): all reasoning, content null', async () => {
  const ids = (await root.post('/tokenize', { body: { model: MODEL_NAME, messages } })).tokens;
  const params = { max_tokens: 6, seed: 5, logit_bias: { [thinkId]: -100 } };
  const raw = (await client.completions.create({ model: MODEL_NAME, prompt: ids, ...params })).choices[0].text;
  const m = (await client.chat.completions.create({ model: MODEL_NAME, messages, ...params })).choices[0].message;
  assert.equal(m.content, null);
  assert.equal(m.reasoning_content, raw);
});

test('SIGTERM: ember serve exits 0', async () => {
  const { code, signal } = await server.stop();
  assert.equal(signal, null, server.output);
  assert.equal(code, 0, server.output);
});
