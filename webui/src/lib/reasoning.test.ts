import { describe, expect, it } from 'vitest';
import { reasoningLabel, splitThink, ThinkSplitter } from './reasoning';

describe('reasoningLabel', () => {
  it('says Thinking… while streaming, then how long it took', () => {
    expect(reasoningLabel(true, null)).toBe('Thinking…');
    expect(reasoningLabel(false, 12.4)).toBe('Thought for 12 s');
    expect(reasoningLabel(false, 0.3)).toBe('Thought for less than a second');
    expect(reasoningLabel(false, undefined)).toBe('Reasoning');
  });
});

describe('ThinkSplitter', () => {
  it('splits <think> .. </think> fed one character at a time', () => {
    const text = '<think>\nstep 1\nstep 2\n</think>\n\nThe answer.';
    const s = new ThinkSplitter();
    let reasoning = '';
    let content = '';
    for (const ch of text) {
      const d = s.push(ch);
      reasoning += d.reasoning;
      content += d.content;
      expect(d.reasoning + d.content).not.toMatch(/[<>]/);
    }
    const f = s.finish();
    expect(reasoning + f.reasoning).toBe('\nstep 1\nstep 2\n');
    expect(content + f.content).toBe('The answer.');
  });

  it('starts inside the reasoning when the prompt opened it', () => {
    expect(splitThink('more thought</think>Answer', true)).toEqual({ reasoning: 'more thought', content: 'Answer' });
  });

  it('keeps text without tags as content, and a lone < as text', () => {
    expect(splitThink('a < b, no tags')).toEqual({ reasoning: '', content: 'a < b, no tags' });
    expect(splitThink('<thin')).toEqual({ reasoning: '', content: '<thin' });
  });

  it('reasoning cut before </think> stays reasoning, even a partial tag', () => {
    expect(splitThink('<think>still going </thi')).toEqual({ reasoning: 'still going </thi', content: '' });
  });
});
