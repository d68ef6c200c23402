// Reasoning (DeepSeek-R1's <think> .. </think>): what the collapsible block
// says, and a splitter for output where the server left the tags in the
// content (no reasoning parser, or a continued answer that was cut inside
// its reasoning, whose continuation the server cannot know starts there).

export function reasoningLabel(streaming: boolean, seconds: number | null | undefined): string {
  if (streaming) return 'Thinking…';
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return 'Reasoning';
  if (seconds < 1) return 'Thought for less than a second';
  const s = Math.round(seconds);
  return `Thought for ${s} s`;
}

export interface Split {
  reasoning: string;
  content: string;
}

const OPEN = '<think>';
const CLOSE = '</think>';

// The length of the longest suffix of `s` that is a proper prefix of `tag`
// (text that may still turn out to be the tag).
function partialTagSuffix(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) if (tag.startsWith(s.slice(s.length - n))) return n;
  return 0;
}

export class ThinkSplitter {
  private state: 'start' | 'reasoning' | 'content';
  private held = '';
  private afterClose = false;

  // inReasoning: the text starts inside <think> (the prompt opened it).
  constructor(inReasoning = false) {
    this.state = inReasoning ? 'reasoning' : 'start';
  }

  push(text: string): Split {
    const out: Split = { reasoning: '', content: '' };
    let s = this.held + text;
    this.held = '';
    while (s) {
      if (this.state === 'start') {
        const t = s.trimStart();
        if (t.startsWith(OPEN)) {
          s = t.slice(OPEN.length);
          this.state = 'reasoning';
          continue;
        }
        if (OPEN.startsWith(t)) {
          this.held = s;
          return out;
        }
        this.state = 'content';
        continue;
      }
      if (this.state === 'content') {
        // The blank line the model writes after </think> is not part of the answer.
        if (this.afterClose) {
          s = s.replace(/^\s+/, '');
          if (!s) return out;
          this.afterClose = false;
        }
        out.content += s;
        return out;
      }
      const i = s.indexOf(CLOSE);
      if (i >= 0) {
        out.reasoning += s.slice(0, i);
        s = s.slice(i + CLOSE.length);
        this.state = 'content';
        this.afterClose = true;
        continue;
      }
      const keep = partialTagSuffix(s, CLOSE);
      out.reasoning += s.slice(0, s.length - keep);
      this.held = s.slice(s.length - keep);
      return out;
    }
    return out;
  }

  finish(): Split {
    const h = this.held;
    this.held = '';
    if (this.state === 'reasoning') return { reasoning: h, content: '' };
    return { reasoning: '', content: h };
  }

  get inReasoning(): boolean {
    return this.state === 'reasoning';
  }
}

// A whole stored text split at once.
export function splitThink(text: string, inReasoning = false): Split {
  const s = new ThinkSplitter(inReasoning);
  const a = s.push(text);
  const b = s.finish();
  return { reasoning: a.reasoning + b.reasoning, content: a.content + b.content };
}
