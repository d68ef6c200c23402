import { describe, expect, it } from 'vitest';
import katex from 'katex';
import { renderMarkdown } from './markdown';

// The formulas KaTeX itself renders, to find in the message's HTML.
const tex = (s: string, display = false) => katex.renderToString(s, { displayMode: display, throwOnError: false });
const annotations = (html: string) =>
  Array.from(new DOMParser().parseFromString(html, 'text/html').querySelectorAll('annotation')).map((a) => a.textContent);
const doc = (html: string) => new DOMParser().parseFromString(html, 'text/html');

describe('math', () => {
  it('renders \\( \\) and $ $ inline, \\[ \\] and $$ $$ as display', () => {
    const html = renderMarkdown('Inline \\(a^2+b^2=c^2\\) and $x_1$.\n\n\\[\n\\int_0^1 x\\,dx = \\frac12\n\\]\n\n$$E=mc^2$$');
    expect(annotations(html)).toEqual(['a^2+b^2=c^2', 'x_1', '\n\\int_0^1 x\\,dx = \\frac12\n', 'E=mc^2']);
    const d = doc(html);
    expect(d.querySelectorAll('.katex-display')).toHaveLength(2);
    expect(d.querySelectorAll('p .katex')).toHaveLength(2);
    // The markup KaTeX makes for the formula, unchanged by sanitizing.
    const inline = doc(tex('a^2+b^2=c^2')).querySelector('.katex-html')!.innerHTML;
    expect(d.querySelector('p .katex-html')!.innerHTML).toBe(inline);
  });

  it('renders \\boxed{} inside math and bare, with nested braces', () => {
    const d = doc(renderMarkdown('So the answer is \\boxed{\\frac{1}{2}}.\n\n\\[ \\boxed{42} \\]'));
    expect(annotations(d.body.innerHTML)).toEqual(['\\boxed{\\frac{1}{2}}', ' \\boxed{42} ']);
    expect(d.querySelectorAll('.boxpad')).toHaveLength(2);
    expect(d.body.textContent).toContain('So the answer is');
    d.querySelectorAll('.katex').forEach((k) => k.remove());
    expect(d.body.textContent!.trim()).toBe('So the answer is .');
  });

  it('renders display math inside a paragraph and across lines', () => {
    const d = doc(renderMarkdown('We get \\[ x = \\sqrt{2}\n\\cdot 3 \\] which is irrational.'));
    expect(d.querySelectorAll('p .katex-display')).toHaveLength(1);
    expect(d.body.textContent).toContain('which is irrational');
  });

  it('leaves prices, escaped dollars and unclosed delimiters as text', () => {
    const d = doc(renderMarkdown('It costs $5 and $10, or \\$3. An open \\( stays, and $ x $ too.'));
    expect(d.querySelectorAll('.katex')).toHaveLength(0);
    expect(d.body.textContent).toBe('It costs $5 and $10, or $3. An open ( stays, and $ x $ too.\n');
  });

  it('does not touch math delimiters inside code', () => {
    const d = doc(renderMarkdown('Use `$x$` and:\n\n```latex\n\\[ y \\]\n```'));
    expect(d.querySelectorAll('.katex')).toHaveLength(0);
    expect(d.querySelector('p code')!.textContent).toBe('$x$');
    expect(d.querySelector('pre code')!.textContent).toBe('\\[ y \\]\n');
  });

  it('shows a TeX error as KaTeX error text instead of throwing', () => {
    const d = doc(renderMarkdown('Bad: $\\frac{1}{$ end'));
    expect(d.body.textContent).toContain('end');
    const d2 = doc(renderMarkdown('$$\\undefinedcommand{x}$$'));
    expect(d2.querySelector('.katex-error, .katex')).not.toBeNull();
  });
});

describe('markdown', () => {
  it('highlights fenced code and gives it a copy button and a language label', () => {
    const d = doc(renderMarkdown('```python\ndef f(x):\n    return x * 2\n```'));
    const block = d.querySelector('.code-block')!;
    expect(block.querySelector('.code-lang')!.textContent).toBe('python');
    expect(block.querySelector('button.copy-code')!.getAttribute('aria-label')).toBe('Copy code');
    expect(block.querySelector('code')!.textContent).toBe('def f(x):\n    return x * 2\n');
    expect(block.querySelector('.hljs-keyword')!.textContent).toBe('def');
  });

  it('escapes code in an unknown language', () => {
    const d = doc(renderMarkdown('```nosuchlang\n<b>x</b>\n```'));
    expect(d.querySelector('pre code')!.textContent).toBe('<b>x</b>\n');
    expect(d.querySelector('pre b')).toBeNull();
  });

  it('shows raw HTML from the model as text and strips scripts and javascript: links', () => {
    const d = doc(renderMarkdown('<think>hmm</think> <img src=x onerror=alert(1)> <script>alert(1)</script>\n\n[x](javascript:alert(1))'));
    expect(d.querySelector('img, script')).toBeNull();
    expect(d.body.textContent).toContain('<think>hmm</think>');
    expect(d.querySelector('a[href^="javascript"]')).toBeNull();
  });

  it('opens links in a new tab', () => {
    const a = doc(renderMarkdown('See https://example.com and [docs](https://example.org/d).')).querySelectorAll('a');
    expect(Array.from(a).map((x) => [x.getAttribute('href'), x.getAttribute('target'), x.getAttribute('rel')])).toEqual([
      ['https://example.com', '_blank', 'noopener noreferrer'],
      ['https://example.org/d', '_blank', 'noopener noreferrer'],
    ]);
  });

  it('renders lists, tables and emphasis', () => {
    const d = doc(renderMarkdown('1. **one**\n2. *two*\n\n| a | b |\n|---|---|\n| 1 | $y$ |'));
    expect(d.querySelectorAll('ol li')).toHaveLength(2);
    expect(d.querySelector('strong')!.textContent).toBe('one');
    expect(d.querySelector('table td .katex')).not.toBeNull();
  });
});
