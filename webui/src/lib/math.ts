// A markdown-it plugin for the math DeepSeek-R1 writes: \( .. \) and $ .. $
// inline, \[ .. \] and $$ .. $$ as display (as their own block or inside a
// paragraph), and a bare \boxed{..} outside math. Rendered with KaTeX;
// errors come out as KaTeX's red source text, never as an exception.
import katex from 'katex';
import type MarkdownIt from 'markdown-it';
import type StateInline from 'markdown-it/lib/rules_inline/state_inline.mjs';
import type StateBlock from 'markdown-it/lib/rules_block/state_block.mjs';

export function renderTex(tex: string, display: boolean): string {
  return katex.renderToString(tex, {
    displayMode: display,
    throwOnError: false,
    strict: 'ignore',
    trust: false,
    output: 'htmlAndMathml',
    maxExpand: 1000,
  });
}

const isSpace = (c: string | undefined) => c === undefined || c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

// The index of `close` at or after `from`, skipping backslash escapes;
// -1 if none.
function findClose(src: string, from: number, close: string, end: number): number {
  for (let i = from; i < end; i++) {
    if (src.startsWith(close, i) && i + close.length <= end) return i;
    if (src[i] === '\\' && close[0] !== '\\') i++;
  }
  return -1;
}

// The end (exclusive) of a balanced {..} group starting at `open`, or -1.
function braceGroupEnd(src: string, open: number, end: number): number {
  let depth = 0;
  for (let i = open; i < end; i++) {
    const c = src[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  return -1;
}

interface Found {
  tex: string;
  display: boolean;
  next: number;
}

function scanInline(src: string, pos: number, max: number): Found | null {
  const c = src[pos];
  if (c === '\\') {
    const n = src[pos + 1];
    if (n === '(' || n === '[') {
      const close = n === '(' ? '\\)' : '\\]';
      const e = findClose(src, pos + 2, close, max);
      if (e < 0) return null;
      return { tex: src.slice(pos + 2, e), display: n === '[', next: e + 2 };
    }
    if (src.startsWith('\\boxed{', pos)) {
      const e = braceGroupEnd(src, pos + 6, max);
      if (e < 0) return null;
      return { tex: src.slice(pos, e), display: false, next: e };
    }
    return null;
  }
  if (c !== '$') return null;
  if (src[pos + 1] === '$') {
    const e = findClose(src, pos + 2, '$$', max);
    if (e < 0 || e === pos + 2) return null;
    return { tex: src.slice(pos + 2, e), display: true, next: e + 2 };
  }
  // Pandoc's rule, so prices ("$5 and $10") stay text: the opening $ has a
  // non-space after it, the closing one a non-space before it and no digit
  // after it.
  if (isSpace(src[pos + 1])) return null;
  for (let i = pos + 1; i < max; i++) {
    if (src[i] === '\\') {
      i++;
      continue;
    }
    if (src[i] === '$') {
      if (isSpace(src[i - 1]) || isDigit(src[i + 1]) || src[i + 1] === '$') return null;
      return { tex: src.slice(pos + 1, i), display: false, next: i + 1 };
    }
  }
  return null;
}

function mathInline(state: StateInline, silent: boolean): boolean {
  const found = scanInline(state.src, state.pos, state.posMax);
  if (!found || !found.tex.trim()) return false;
  if (!silent) {
    const token = state.push(found.display ? 'math_display' : 'math_inline', 'math', 0);
    token.content = found.tex;
    token.markup = state.src.slice(state.pos, state.pos + 2);
  }
  state.pos = found.next;
  return true;
}

// $$ .. $$ or \[ .. \] starting a line, closed on the same or a later line
// with nothing after the closing delimiter.
function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  let pos = state.bMarks[startLine] + state.tShift[startLine];
  let max = state.eMarks[startLine];
  if (state.sCount[startLine] - state.blkIndent >= 4) return false;
  const src = state.src;
  let close: string;
  if (src.startsWith('$$', pos)) close = '$$';
  else if (src.startsWith('\\[', pos)) close = '\\]';
  else return false;
  pos += 2;
  let line = startLine;
  let body = '';
  for (;;) {
    const e = src.indexOf(close, pos);
    if (e >= 0 && e < max) {
      if (src.slice(e + 2, max).trim() !== '') return false;
      body += src.slice(pos, e);
      break;
    }
    body += src.slice(pos, max) + '\n';
    line++;
    if (line >= endLine) return false;
    pos = state.bMarks[line] + state.tShift[line];
    max = state.eMarks[line];
    // A blank line ends the search, so a stray $$ cannot swallow the rest
    // of the document.
    if (state.isEmpty(line)) return false;
  }
  if (!body.trim()) return false;
  if (silent) return true;
  const token = state.push('math_block', 'math', 0);
  token.block = true;
  token.content = body;
  token.markup = close;
  token.map = [startLine, line + 1];
  state.line = line + 1;
  return true;
}

export function mathPlugin(md: MarkdownIt): void {
  md.inline.ruler.before('escape', 'math_inline', mathInline);
  md.block.ruler.before('fence', 'math_block', mathBlock, { alt: ['paragraph', 'reference', 'blockquote', 'list'] });
  md.renderer.rules.math_inline = (tokens, idx) => renderTex(tokens[idx].content, false);
  md.renderer.rules.math_display = (tokens, idx) => renderTex(tokens[idx].content, true);
  md.renderer.rules.math_block = (tokens, idx) => `<div class="math-block">${renderTex(tokens[idx].content, true)}</div>\n`;
}
