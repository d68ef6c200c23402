import { describe, expect, it } from 'vitest';
import { attachmentBlock, buildMessages, chatRequestBody, titleFrom, userContent } from './prompt';
import { effectiveLeaf, newestLeaf, pathTo, siblings } from './tree';
import type { Message } from './types';

let clock = 0;
const msg = (id: string, parent: string | null, role: Message['role'], content: string, extra: Partial<Message> = {}): Message => ({
  id,
  conversation_id: 'c_1',
  parent_id: parent,
  role,
  content,
  reasoning: null,
  attachments: [],
  meta: {},
  created_at: ++clock,
  ...extra,
});

describe('prompt', () => {
  it('puts each file under its name before the message, fenced longer than any backticks inside', () => {
    const text = userContent('Summarize.', [
      { name: 'notes.md', text: 'Has ```code``` inside' },
      { name: 'data.csv', text: 'a,b\n1,2\n' },
    ]);
    expect(text).toBe('File: notes.md\n````\nHas ```code``` inside\n````\n\nFile: data.csv\n```\na,b\n1,2\n```\n\nSummarize.');
    expect(attachmentBlock({ name: 'x', text: '' })).toBe('File: x\n```\n\n```');
  });

  it('sends the system prompt, the branch, answers without their reasoning', () => {
    const path = [
      msg('m1', null, 'user', 'Hi', { attachments: [{ name: 'a.txt', text: 'A' }] }),
      msg('m2', 'm1', 'assistant', 'Hello!', { reasoning: 'greet' }),
      msg('m3', 'm2', 'user', 'And?'),
    ];
    expect(buildMessages(path, { system_prompt: '  Be brief. ' })).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'File: a.txt\n```\nA\n```\n\nHi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'And?' },
    ]);
  });

  it('continues an answer cut inside its reasoning from an open <think>', () => {
    const path = [msg('m1', null, 'user', 'Q'), msg('m2', 'm1', 'assistant', '', { reasoning: 'step one' })];
    const body = chatRequestBody(buildMessages(path, {}), { temperature: 0.6, top_p: 0.95, max_tokens: 128 }, { model: 'm', continueFinal: true });
    expect(body).toEqual({
      model: 'm',
      messages: [
        { role: 'user', content: 'Q' },
        { role: 'assistant', content: '<think>\nstep one' },
      ],
      temperature: 0.6,
      top_p: 0.95,
      max_tokens: 128,
      continue_final_message: true,
      add_generation_prompt: false,
    });
    expect(chatRequestBody([], { max_tokens: null, temperature: null }, { model: 'm' })).toEqual({ model: 'm', messages: [] });
  });

  it('titles a conversation from the first line, at most 60 characters', () => {
    expect(titleFrom('\n  What is   2+2?  \nsecond line')).toBe('What is 2+2?');
    const long = 'Prove that the sum of the first n odd numbers is n squared, by induction please';
    const t = titleFrom(long);
    expect(Array.from(t).length).toBeLessThanOrEqual(60);
    expect(t).toBe('Prove that the sum of the first n odd numbers is n squared,…');
    expect(titleFrom('', [{ name: 'paper.pdf', text: '' }])).toBe('paper.pdf');
    expect(titleFrom('   ')).toBe('New chat');
  });
});

describe('message tree', () => {
  // m1 -> (a1, a2 regenerated); a2 -> u2 ; m1' (an edit of m1) -> a3
  const m1 = msg('m1', null, 'user', 'Q');
  const a1 = msg('a1', 'm1', 'assistant', 'first');
  const a2 = msg('a2', 'm1', 'assistant', 'second');
  const u2 = msg('u2', 'a2', 'user', 'follow-up');
  const m1b = msg('m1b', null, 'user', 'Q edited');
  const a3 = msg('a3', 'm1b', 'assistant', 'third');
  const all = [m1, a1, a2, u2, m1b, a3];

  it('walks the branch from the root to the leaf', () => {
    expect(pathTo(all, 'u2').map((m) => m.id)).toEqual(['m1', 'a2', 'u2']);
    expect(pathTo(all, null)).toEqual([]);
    expect(pathTo(all, 'missing')).toEqual([]);
  });

  it('lists the versions of a message and finds the newest leaf below one', () => {
    expect(siblings(all, a1).map((m) => m.id)).toEqual(['a1', 'a2']);
    expect(siblings(all, m1b).map((m) => m.id)).toEqual(['m1', 'm1b']);
    expect(newestLeaf(all, 'm1')).toBe('u2');
    expect(newestLeaf(all, 'a1')).toBe('a1');
  });

  it('falls back to the newest message when the stored leaf is gone', () => {
    expect(effectiveLeaf(all, 'a1')).toBe('a1');
    expect(effectiveLeaf(all, 'gone')).toBe('a3');
    expect(effectiveLeaf([], null)).toBe(null);
  });

  it('stops on a cycle in corrupt data', () => {
    const x = msg('x', 'y', 'user', '');
    const y = msg('y', 'x', 'assistant', '');
    expect(pathTo([x, y], 'x').map((m) => m.id)).toEqual(['y', 'x']);
  });
});
