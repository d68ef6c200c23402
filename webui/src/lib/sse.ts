// Server-sent events as the OpenAI streaming endpoints write them, and a
// client for POST /v1/chat/completions with stream: true that turns the
// chunks into reasoning / content deltas, the finish reason and the usage.

export interface SseEvent {
  event: string;
  data: string;
}

// Incremental parser of the text/event-stream format (WHATWG HTML §9.2):
// lines end with \n, \r\n or \r; "data:" lines of one event are joined with
// \n; an empty line dispatches; lines starting with ":" are comments.
export class SseParser {
  private buf = '';
  private data: string[] = [];
  private event = '';

  push(chunk: string): SseEvent[] {
    this.buf += chunk;
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r\n|\n|\r/.exec(this.buf);
      if (!m) break;
      // A lone \r at the very end may be the first half of \r\n.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      const line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line, out);
    }
    return out;
  }

  // The stream ended: an event without its blank line is dropped, as the
  // standard says.
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buf.endsWith('\r')) {
      this.line(this.buf.slice(0, -1), out);
      this.buf = '';
    }
    return out;
  }

  private line(line: string, out: SseEvent[]) {
    if (line === '') {
      if (this.data.length) out.push({ event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
  }
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export type ChatStreamEvent =
  | { type: 'reasoning'; text: string }
  | { type: 'content'; text: string }
  | { type: 'finish'; reason: string }
  | { type: 'usage'; usage: Usage };

// An error the server reported: an HTTP status with the OpenAI error body,
// or an error event inside the stream (status 0 then, unless it carries one).
export class ApiError extends Error {
  constructor(
    message: string,
    public status: number,
    public type = '',
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

function errorFromBody(body: unknown, status: number): ApiError | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as Record<string, unknown>;
  const e = (b.error && typeof b.error === 'object' ? b.error : b.object === 'error' ? b : null) as
    | Record<string, unknown>
    | null;
  if (!e) return null;
  const message = typeof e.message === 'string' && e.message ? e.message : 'unknown error';
  const code = typeof e.code === 'number' ? e.code : status;
  return new ApiError(message, code, typeof e.type === 'string' ? e.type : '');
}

// The error a non-2xx response carries (its OpenAI error message when the
// body has one, else the status line).
export async function responseError(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const e = errorFromBody(JSON.parse(text), res.status);
    if (e) return new ApiError(e.message, res.status, e.type);
  } catch {
    /* not JSON */
  }
  return new ApiError(`${res.status} ${res.statusText || 'error'}${text ? `: ${text.slice(0, 200)}` : ''}`, res.status);
}

// The events of one chunk of a chat completion stream.
export function chunkEvents(chunk: unknown): ChatStreamEvent[] {
  const err = errorFromBody(chunk, 0);
  if (err) throw err;
  const out: ChatStreamEvent[] = [];
  const c = chunk as { choices?: unknown; usage?: unknown };
  if (Array.isArray(c.choices)) {
    for (const choice of c.choices as Array<Record<string, unknown>>) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = (choice.delta ?? {}) as Record<string, unknown>;
      // vLLM wrote `reasoning_content`; newer servers write `reasoning`.
      const r = delta.reasoning_content ?? delta.reasoning;
      if (typeof r === 'string' && r) out.push({ type: 'reasoning', text: r });
      if (typeof delta.content === 'string' && delta.content) out.push({ type: 'content', text: delta.content });
      if (typeof choice.finish_reason === 'string') out.push({ type: 'finish', reason: choice.finish_reason });
    }
  }
  if (c.usage && typeof c.usage === 'object') out.push({ type: 'usage', usage: c.usage as Usage });
  return out;
}

export interface StreamOptions {
  url?: string;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

// POST a streamed chat completion and yield its events until [DONE]. Throws
// ApiError for an HTTP error or an error event, and Error when the stream
// ends without [DONE] (the connection broke); an abort through `signal`
// surfaces as the fetch's AbortError.
export async function* streamChat(opts: StreamOptions): AsyncGenerator<ChatStreamEvent, void, undefined> {
  const f = opts.fetch ?? fetch;
  const res = await f(opts.url ?? '/v1/chat/completions', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream', ...opts.headers },
    body: JSON.stringify({ ...opts.body, stream: true, stream_options: { include_usage: true } }),
    signal: opts.signal,
  });
  if (!res.ok) throw await responseError(res);
  if (!res.body) throw new ApiError('the response has no body', res.status);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const events = done ? [...parser.push(decoder.decode()), ...parser.end()] : parser.push(decoder.decode(value, { stream: true }));
      for (const ev of events) {
        if (ev.data === '[DONE]') return;
        let json: unknown;
        try {
          json = JSON.parse(ev.data);
        } catch {
          throw new ApiError(`the server sent an event that is not JSON: ${ev.data.slice(0, 120)}`, 0);
        }
        yield* chunkEvents(json);
      }
      if (done) throw new ApiError('the stream ended before [DONE] (connection lost?)', 0);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
