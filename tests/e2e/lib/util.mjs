// Helpers shared by the test files.
import assert from 'node:assert/strict';

export const userChat = (text) => [{ role: 'user', content: text }];

// Reads a chat completion stream (the client's Stream) into per-choice
// text, reasoning and finish reasons, plus the chunk list.
export async function collectChat(stream) {
  const chunks = [];
  const choices = new Map();
  for await (const chunk of stream) {
    chunks.push(chunk);
    for (const c of chunk.choices) {
      if (!choices.has(c.index)) choices.set(c.index, { content: '', reasoning: '', finish: [], roles: [] });
      const acc = choices.get(c.index);
      if (c.delta.role) acc.roles.push(c.delta.role);
      if (typeof c.delta.content === 'string') acc.content += c.delta.content;
      if (typeof c.delta.reasoning_content === 'string') acc.reasoning += c.delta.reasoning_content;
      if (c.finish_reason) acc.finish.push(c.finish_reason);
    }
  }
  return { chunks, choices };
}

// Reads a completions stream into per-choice text and finish reasons.
export async function collectCompletion(stream) {
  const chunks = [];
  const choices = new Map();
  for await (const chunk of stream) {
    chunks.push(chunk);
    for (const c of chunk.choices) {
      if (!choices.has(c.index)) choices.set(c.index, { text: '', finish: [] });
      const acc = choices.get(c.index);
      acc.text += c.text;
      if (c.finish_reason) acc.finish.push(c.finish_reason);
    }
  }
  return { chunks, choices };
}

// The usage chunk that include_usage adds: last, with no choices; every
// other chunk carries usage null (or none).
export function usageChunk(chunks) {
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage, 'the last chunk carries usage');
  for (const c of chunks.slice(0, -1)) assert.ok(c.usage == null, `usage before the last chunk: ${JSON.stringify(c)}`);
  return last.usage;
}

// Awaits `promise` to reject with the client's error class `cls`; returns it.
export async function expectApiError(promise, cls, status) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.status, status);
    return true;
  });
  return promise.catch((e) => e);
}
