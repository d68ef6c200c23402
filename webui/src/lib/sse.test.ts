import { describe, expect, it } from 'vitest';
import { ApiError, SseParser, streamChat, type ChatStreamEvent } from './sse';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usage = (p: number, c: number) =>
  `data: ${JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } })}\n\n`;

// A fetch that answers with `body` cut into the given pieces (to split
// events, lines and UTF-8 characters across reads).
function fakeFetch(pieces: (string | Uint8Array)[], status = 200, captured: { body?: unknown } = {}): typeof fetch {
  return (async (_url: RequestInfo | URL, init?: RequestInit) => {
    captured.body = JSON.parse(String(init?.body));
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of pieces) c.enqueue(typeof p === 'string' ? enc.encode(p) : p);
        c.close();
      },
    });
    return new Response(stream, { status, headers: { 'Content-Type': status === 200 ? 'text/event-stream' : 'application/json' } });
  }) as typeof fetch;
}

async function collect(f: typeof fetch): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const e of streamChat({ body: { model: 'm', messages: [] }, fetch: f })) out.push(e);
  return out;
}

describe('SseParser', () => {
  it('joins data lines, skips comments, handles CRLF and CR and split reads', () => {
    const p = new SseParser();
    const evs = [
      ...p.push(': keep-alive\n'),
      ...p.push('data: a\r\nda'),
      ...p.push('ta: b\r'),
      ...p.push('\n\r\nevent: x\ndata:c\r'),
      ...p.push('\r'), // a lone \r at the end may still become \r\n: held until more text or the end
    ];
    expect(evs).toHaveLength(1);
    evs.push(...p.end());
    expect(evs).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'x', data: 'c' },
    ]);
  });

  it('drops an event that never got its blank line', () => {
    const p = new SseParser();
    expect(p.push('data: half')).toEqual([]);
    expect(p.end()).toEqual([]);
  });
});

describe('streamChat', () => {
  it('yields reasoning_content and content deltas, finish and usage, and stops at [DONE]', async () => {
    const captured: { body?: unknown } = {};
    const body =
      chunk({ role: 'assistant', content: '' }) +
      chunk({ reasoning_content: 'Let me ' }) +
      chunk({ reasoning_content: 'think.' }) +
      chunk({ content: 'The answer is ' }) +
      chunk({ content: '42.' }, 'stop') +
      usage(12, 5) +
      'data: [DONE]\n\n' +
      chunk({ content: 'after done is ignored' });
    // Cut at awkward places: inside "data:", inside the JSON, between \n\n.
    const pieces = [body.slice(0, 3), body.slice(3, 50), body.slice(50, 51), body.slice(51, 200), body.slice(200)];
    const evs = await collect(fakeFetch(pieces, 200, captured));
    expect(evs).toEqual([
      { type: 'reasoning', text: 'Let me ' },
      { type: 'reasoning', text: 'think.' },
      { type: 'content', text: 'The answer is ' },
      { type: 'content', text: '42.' },
      { type: 'finish', reason: 'stop' },
      { type: 'usage', usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } },
    ]);
    expect(captured.body).toMatchObject({ stream: true, stream_options: { include_usage: true }, model: 'm' });
  });

  it('decodes a UTF-8 character split across reads', async () => {
    const bytes = new TextEncoder().encode(chunk({ content: 'π≈3.14 ✓' }) + 'data: [DONE]\n\n');
    const cut = bytes.indexOf(0xcf) + 1; // inside the two bytes of π
    const evs = await collect(fakeFetch([bytes.slice(0, cut), bytes.slice(cut)]));
    expect(evs).toEqual([{ type: 'content', text: 'π≈3.14 ✓' }]);
  });

  it('reports finish_reason length (the answer was cut)', async () => {
    const evs = await collect(fakeFetch([chunk({ content: 'partial' }, 'length') + usage(3, 16) + 'data: [DONE]\n\n']));
    expect(evs.find((e) => e.type === 'finish')).toEqual({ type: 'finish', reason: 'length' });
  });

  it('throws the error event the server sends inside the stream', async () => {
    const err = `data: ${JSON.stringify({ error: { message: 'engine failed', type: 'InternalServerError', param: null, code: 500 } })}\n\n`;
    const f = fakeFetch([chunk({ content: 'a' }) + err + 'data: [DONE]\n\n']);
    const seen: ChatStreamEvent[] = [];
    await expect(
      (async () => {
        for await (const e of streamChat({ body: {}, fetch: f })) seen.push(e);
      })(),
    ).rejects.toMatchObject({ name: 'ApiError', message: 'engine failed', status: 500 });
    expect(seen).toEqual([{ type: 'content', text: 'a' }]);
  });

  it('throws the HTTP error with the OpenAI message and status', async () => {
    const f = fakeFetch([JSON.stringify({ error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })], 401);
    const e = await collect(f).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 401, message: 'Incorrect API key provided.', type: 'invalid_request_error' });
  });

  it('throws when the stream ends without [DONE]', async () => {
    await expect(collect(fakeFetch([chunk({ content: 'a' })]))).rejects.toThrow(/before \[DONE\]/);
  });

  it('throws on an event that is not JSON', async () => {
    await expect(collect(fakeFetch(['data: {oops\n\n']))).rejects.toThrow(/not JSON/);
  });

  it('stops with the AbortError when the signal aborts mid-stream', async () => {
    const ctrl = new AbortController();
    const f = (async (_u: RequestInfo | URL, init?: RequestInit) => {
      const enc = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(enc.encode(chunk({ content: 'first' })));
          init?.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
        },
      });
      return new Response(stream, { status: 200 });
    }) as typeof fetch;
    const seen: string[] = [];
    const run = (async () => {
      for await (const e of streamChat({ body: {}, fetch: f, signal: ctrl.signal })) {
        if (e.type === 'content') {
          seen.push(e.text);
          ctrl.abort();
        }
      }
    })();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toEqual(['first']);
  });
});
