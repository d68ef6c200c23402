// What goes to /v1/chat/completions for a branch of the conversation.
import type { Attachment, ChatSettings, Message } from './types';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

// A fence longer than any run of backticks inside the text, so a file that
// holds Markdown code blocks cannot close it.
function fenceFor(text: string): string {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return '`'.repeat(Math.max(3, longest + 1));
}

export function attachmentBlock(a: Attachment): string {
  const fence = fenceFor(a.text);
  const body = a.text.endsWith('\n') ? a.text : a.text + '\n';
  return `File: ${a.name}\n${fence}\n${body}${fence}`;
}

// A user message's text as the model sees it: each file under its name, then the message.
export function userContent(text: string, attachments: readonly Attachment[] | undefined): string {
  const parts = (attachments ?? []).map(attachmentBlock);
  if (text) parts.push(text);
  return parts.join('\n\n');
}

// The OpenAI messages for `path` (root to leaf). An assistant message that
// was cut inside its reasoning is sent as "<think>\n" + its reasoning so a
// continuation picks up where it stopped; otherwise only its answer (the
// DeepSeek-R1 template drops earlier reasoning anyway).
export function buildMessages(path: readonly Message[], settings: ChatSettings): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = settings.system_prompt?.trim();
  if (system) out.push({ role: 'system', content: system });
  for (const m of path) {
    if (m.role === 'system') out.push({ role: 'system', content: m.content });
    else if (m.role === 'user') out.push({ role: 'user', content: userContent(m.content, m.attachments) });
    else if (!m.content && m.reasoning) out.push({ role: 'assistant', content: `<think>\n${m.reasoning}` });
    else out.push({ role: 'assistant', content: m.content });
  }
  return out;
}

export interface RequestOptions {
  model: string;
  continueFinal?: boolean;
}

// The body of the streamed request (stream fields are added by streamChat).
export function chatRequestBody(messages: ChatMessage[], settings: ChatSettings, opts: RequestOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { model: opts.model, messages };
  if (typeof settings.temperature === 'number') body.temperature = settings.temperature;
  if (typeof settings.top_p === 'number') body.top_p = settings.top_p;
  if (typeof settings.max_tokens === 'number' && settings.max_tokens > 0) body.max_tokens = settings.max_tokens;
  if (opts.continueFinal) {
    body.continue_final_message = true;
    body.add_generation_prompt = false;
  }
  return body;
}

// A conversation's title from its first user message: the first non-empty
// line, whitespace collapsed, at most 60 characters (cut at a word when one
// ends late enough); a file's name when there is no text.
export function titleFrom(text: string, attachments?: readonly Attachment[]): string {
  const line = text.split(/\r?\n/).map((l) => l.replace(/\s+/g, ' ').trim()).find((l) => l) ?? '';
  if (!line) return attachments?.length ? attachments[0].name.slice(0, 60) : 'New chat';
  const chars = Array.from(line);
  if (chars.length <= 60) return line;
  const cut = chars.slice(0, 59).join('');
  // Keep whole words: drop a word the cut split, unless that loses too much.
  if (chars[59] === ' ') return cut + '…';
  const space = cut.lastIndexOf(' ');
  return (space >= 40 ? cut.slice(0, space) : cut) + '…';
}
