import { describe, expect, it } from 'vitest';
import { flushSync, mount, unmount } from 'svelte';
import MessageView from './MessageView.svelte';
import Reasoning from './Reasoning.svelte';
import type { MessageView as View } from '../lib/chat.svelte';
import type { Message } from '../lib/types';

function host() {
  const el = document.createElement('div');
  document.body.appendChild(el);
  return el;
}

describe('Reasoning', () => {
  it('is open with "Thinking…" while it streams, then folds to "Thought for N s"', () => {
    const props = $state({ text: 'Let me add **2** and $x$.', streaming: true, seconds: null as number | null });
    const el = host();
    const c = mount(Reasoning, { target: el, props });
    flushSync();
    const details = el.querySelector('details')!;
    expect(details.open).toBe(true);
    expect(el.querySelector('summary')!.textContent!.trim()).toBe('Thinking…');
    expect(el.querySelector('.reasoning-body strong')!.textContent).toBe('2');
    expect(el.querySelector('.reasoning-body .katex')).not.toBeNull();

    props.streaming = false;
    props.seconds = 7.2;
    flushSync();
    expect(details.open).toBe(false);
    expect(el.querySelector('summary')!.textContent!.trim()).toBe('Thought for 7 s');
    unmount(c);
  });
});

const answer = (meta: Message['meta'], extra: Partial<Message> = {}): View => ({
  message: {
    id: 'm_2',
    conversation_id: 'c_1',
    parent_id: 'm_1',
    role: 'assistant',
    content: 'The answer is $\\boxed{4}$.\n\n```python\nprint(2 + 2)\n```',
    reasoning: 'two plus two',
    attachments: [],
    meta,
    created_at: 1,
    ...extra,
  },
  streaming: false,
  inReasoning: false,
  versions: [],
});

function render(view: View, calls: string[] = [], maxModelLen = 2048) {
  const el = host();
  const c = mount(MessageView, {
    target: el,
    props: {
      view,
      showReasoning: true,
      busy: false,
      maxModelLen,
      onedit: (_m: Message, t: string) => calls.push(`edit:${t}`),
      onregenerate: (m: Message) => calls.push(`regenerate:${m.id}`),
      oncontinue: (m: Message) => calls.push(`continue:${m.id}`),
      onversion: (m: Message) => calls.push(`version:${m.id}`),
    },
  });
  flushSync();
  return { el, destroy: () => unmount(c) };
}

describe('MessageView', () => {
  it('renders reasoning above the answer, math, code with a copy button, and the stats', () => {
    const { el, destroy } = render(answer({ finish_reason: 'stop', completion_tokens: 57, prompt_tokens: 12, tokens_per_second: 21.43, reasoning_seconds: 3 }));
    const children = Array.from(el.querySelector('article')!.children).map((c) => c.className.split(' ')[0]);
    expect(children.slice(0, 2)).toEqual(['reasoning', 'markdown']);
    expect(el.querySelector('summary')!.textContent!.trim()).toBe('Thought for 3 s');
    expect(el.querySelector('.markdown .katex .boxpad')).not.toBeNull();
    expect(el.querySelector('.markdown button.copy-code')).not.toBeNull();
    expect(el.querySelector('.stats')!.textContent).toBe('21.4 tokens/s · 57 tokens · prompt 12');
    expect(el.querySelector('.notice')).toBeNull();
    destroy();
  });

  it('says when max_tokens cut the answer and continues it in one click', () => {
    const calls: string[] = [];
    const { el, destroy } = render(answer({ finish_reason: 'length', completion_tokens: 64, prompt_tokens: 20, max_model_len: 2048 }), calls);
    expect(el.querySelector('.notice')!.textContent).toContain('max_tokens');
    const cont = Array.from(el.querySelectorAll('.notice button')).find((b) => b.textContent === 'Continue') as HTMLButtonElement;
    cont.click();
    expect(calls).toEqual(['continue:m_2']);
    destroy();
  });

  it('says when the context length cut the answer, without Continue', () => {
    const { el, destroy } = render(answer({ finish_reason: 'length', completion_tokens: 2000, prompt_tokens: 48, max_model_len: 2048 }));
    expect(el.querySelector('.notice')!.textContent).toContain("context length (2048 tokens)");
    expect(el.querySelector('.notice button')).toBeNull();
    destroy();
  });

  it('hides the reasoning block while the answer streams without reasoning', () => {
    const v = answer({}, { reasoning: null, content: '' });
    v.streaming = true;
    v.inReasoning = true;
    const { el, destroy } = render(v);
    expect(el.querySelector('details')).toBeNull();
    expect(el.querySelector('.waiting')!.textContent).toBe('Thinking…');
    expect(el.querySelector('.actions')).toBeNull();
    destroy();
  });

  it('edits a user message and pages through its versions', () => {
    const calls: string[] = [];
    const v1: Message = { ...answer({}).message, id: 'u1', role: 'user', content: 'first', reasoning: null, parent_id: null };
    const v2: Message = { ...v1, id: 'u2', content: 'second' };
    const { el, destroy } = render({ message: v2, streaming: false, inReasoning: false, versions: [v1, v2] }, calls);
    expect(el.querySelector('.versions span')!.textContent).toBe('2/2');
    (el.querySelector('[aria-label="Previous version"]') as HTMLButtonElement).click();
    (el.querySelector('[aria-label="Edit message"]') as HTMLButtonElement).click();
    flushSync();
    const ta = el.querySelector('textarea')!;
    expect(ta.value).toBe('second');
    ta.value = 'second, edited';
    ta.dispatchEvent(new Event('input'));
    flushSync();
    (Array.from(el.querySelectorAll('button')).find((b) => b.textContent!.includes('Save')) as HTMLButtonElement).click();
    expect(calls).toEqual(['version:u1', 'edit:second, edited']);
    destroy();
  });
});
