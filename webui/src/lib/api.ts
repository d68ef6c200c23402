// The server's HTTP API as the UI uses it: the chat store (/api/), the model
// list, /tokenize and streamed chat completions. A 401 asks the user for the
// API key once (through `setKeyPrompt`), keeps it in localStorage and retries.
import { ApiError, responseError, streamChat, type ChatStreamEvent } from './sse';
import type { ChatSettings, Conversation, ConversationWithMessages, Message, ModelInfo, UploadedFile } from './types';

const KEY_STORAGE = 'ember.apiKey';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

export function apiKey(): string {
  return storage()?.getItem(KEY_STORAGE) ?? '';
}

export function setApiKey(key: string): void {
  const s = storage();
  if (!s) return;
  if (key) s.setItem(KEY_STORAGE, key);
  else s.removeItem(KEY_STORAGE);
}

type KeyPrompt = (invalid: boolean) => Promise<string | null>;
let keyPrompt: KeyPrompt | null = null;
let pendingPrompt: Promise<string | null> | null = null;

export function setKeyPrompt(p: KeyPrompt): void {
  keyPrompt = p;
}

function authHeaders(): Record<string, string> {
  const k = apiKey();
  return k ? { Authorization: `Bearer ${k}` } : {};
}

// One prompt at a time, however many requests failed with 401 together.
async function askForKey(): Promise<boolean> {
  if (!keyPrompt) return false;
  if (!pendingPrompt) {
    const invalid = apiKey() !== '';
    pendingPrompt = keyPrompt(invalid).finally(() => {
      pendingPrompt = null;
    });
  }
  const key = await pendingPrompt;
  if (key === null) return false;
  setApiKey(key);
  return true;
}

// fetch with the key; on 401, ask and retry (until the user cancels).
export async function authFetch(url: string, init: RequestInit = {}): Promise<Response> {
  for (;;) {
    const headers = { ...(init.headers as Record<string, string> | undefined), ...authHeaders() };
    const res = await fetch(url, { ...init, headers });
    if (res.status !== 401) return res;
    await res.body?.cancel().catch(() => {});
    if (!(await askForKey())) return res;
  }
}

async function json<T>(url: string, init: RequestInit = {}): Promise<T> {
  const hasBody = init.body !== undefined && !(init.body instanceof FormData);
  const res = await authFetch(url, {
    ...init,
    headers: { ...(hasBody ? { 'Content-Type': 'application/json' } : {}), ...(init.headers as Record<string, string>) },
  });
  if (!res.ok) throw await responseError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

const enc = encodeURIComponent;
const body = (v: unknown) => JSON.stringify(v);

export const store = {
  list: (q = '') =>
    json<{ conversations: Conversation[] }>(`/api/conversations${q ? `?q=${enc(q)}` : ''}`).then((r) => r.conversations),
  create: (title: string, settings: ChatSettings) =>
    json<Conversation>('/api/conversations', { method: 'POST', body: body({ title, settings }) }),
  get: (id: string) => json<ConversationWithMessages>(`/api/conversations/${enc(id)}`),
  patch: (id: string, fields: Partial<Pick<Conversation, 'title' | 'settings' | 'current_leaf'>>) =>
    json<Conversation>(`/api/conversations/${enc(id)}`, { method: 'PATCH', body: body(fields) }),
  remove: (id: string) => json<void>(`/api/conversations/${enc(id)}`, { method: 'DELETE' }),
  addMessage: (id: string, m: Pick<Message, 'parent_id' | 'role' | 'content'> & Partial<Pick<Message, 'reasoning' | 'attachments' | 'meta'>>) =>
    json<Message>(`/api/conversations/${enc(id)}/messages`, { method: 'POST', body: body(m) }),
  patchMessage: (id: string, mid: string, fields: Partial<Pick<Message, 'content' | 'reasoning' | 'meta'>>) =>
    json<Message>(`/api/conversations/${enc(id)}/messages/${enc(mid)}`, { method: 'PATCH', body: body(fields) }),
  exportAll: () => json<unknown>('/api/export'),
  exportOne: (id: string) => json<unknown>(`/api/conversations/${enc(id)}/export`),
  import: (data: unknown) => json<{ imported: number }>('/api/import', { method: 'POST', body: body(data) }),
  getSettings: () => json<ChatSettings>('/api/settings'),
  putSettings: (s: ChatSettings) => json<ChatSettings>('/api/settings', { method: 'PUT', body: body(s) }),
  upload: (files: File[]) => {
    const form = new FormData();
    for (const f of files) form.append('file', f, f.name);
    return json<{ files: UploadedFile[] }>('/api/files', { method: 'POST', body: form }).then((r) => r.files);
  },
};

export async function listModels(): Promise<ModelInfo[]> {
  const r = await json<{ data: ModelInfo[] }>('/v1/models');
  return r.data ?? [];
}

export async function countTokens(model: string, messages: unknown[]): Promise<{ count: number; max_model_len: number }> {
  return json('/tokenize', { method: 'POST', body: body({ model, messages, add_generation_prompt: true }) });
}

// A streamed chat completion with the key (a 401 before the stream starts
// asks for it and retries).
export async function* chatStream(reqBody: Record<string, unknown>, signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
  for (;;) {
    try {
      yield* streamChat({ body: reqBody, headers: authHeaders(), signal });
      return;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && (await askForKey())) continue;
      throw e;
    }
  }
}
