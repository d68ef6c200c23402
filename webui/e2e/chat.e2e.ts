// The chat UI in Chromium against a real `ember serve` (tiny-r1vocab: the
// real DeepSeek tokenizer and template, a model that writes gibberish). The
// tests run in order and share one server, one browser and the chats they
// make.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { launch, makePdf, metric, startServer, type Browser, type Server } from './harness';

let server: Server;
let browser: Browser;
let page: Page;

const answers = () => page.locator('article.message.assistant');
const questions = () => page.locator('article.message.user');
const stopButton = () => page.getByRole('button', { name: 'Stop generating' });

async function setDefaults(s: Record<string, unknown>) {
  const r = await server.api('/api/settings', { method: 'PUT', body: JSON.stringify(s) });
  expect(r.status).toBe(200);
}

async function waitIdle() {
  await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 60_000 });
}

// Waits until the page has made its `n`-th chat request and the answer has ended.
async function answered(reqs: { bodies: unknown[] }, n = 1) {
  await expect.poll(() => reqs.bodies.length, { timeout: 30_000 }).toBe(n);
  await waitIdle();
}

// The chat completion requests the page makes, with their bodies.
function captureChatRequests(): { bodies: Record<string, unknown>[] } {
  const got = { bodies: [] as Record<string, unknown>[] };
  page.on('request', (r: Request) => {
    if (r.url().endsWith('/v1/chat/completions') && r.method() === 'POST') got.bodies.push(JSON.parse(r.postData() ?? '{}'));
  });
  return got;
}

async function conversation(id: string) {
  return (await (await server.api(`/api/conversations/${id}`)).json()) as {
    title: string;
    current_leaf: string;
    messages: { id: string; role: string; content: string; reasoning: string | null; parent_id: string | null; attachments: { name: string; text: string }[]; meta: Record<string, number | string> }[];
  };
}

const currentId = () => decodeURIComponent(new URL(page.url()).pathname.replace(/^\/c\//, ''));

beforeAll(async () => {
  server = await startServer();
  await setDefaults({ max_tokens: 300 });
  browser = await launch();
  page = browser.page;
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('chat', () => {
  it('streams an answer: reasoning grows under "Thinking…", then folds, with stats and the max_tokens notice', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('#model option').count()).toBe(1);
    await page.fill('#prompt', 'Hello there, what is 2+2?');
    await page.keyboard.press('Enter');

    // Sample the answer while the Stop button shows.
    const seen: { len: number; label: string }[] = [];
    await stopButton().waitFor();
    while (await stopButton().isVisible()) {
      const s = await answers().last().evaluate((el) => ({
        len: (el.querySelector('.reasoning-body')?.textContent ?? '').length + (el.querySelector(':scope > .markdown')?.textContent ?? '').length,
        label: el.querySelector('summary')?.textContent?.trim() ?? el.querySelector('.waiting')?.textContent ?? '',
      }));
      seen.push(s);
      await page.waitForTimeout(30);
    }
    const lengths = [...new Set(seen.map((s) => s.len).filter((n) => n > 0))];
    expect(lengths.length, 'the text grew in several steps while streaming').toBeGreaterThanOrEqual(3);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
    expect(seen.some((s) => s.label === 'Thinking…')).toBe(true);

    const answer = answers().last();
    const summary = answer.locator('summary');
    await expect.poll(() => summary.textContent()).toMatch(/^Thought for (\d+ s|less than a second)$/);
    expect(await answer.locator('details').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    await answer.locator('.stats').waitFor();
    expect(await answer.locator('.stats').textContent()).toMatch(/^[\d.]+ tokens\/s · 300 tokens · prompt \d+$/);
    expect(await answer.locator('.notice').textContent()).toContain('cut at the max_tokens limit');

    // Kept on the server, titled from the first message.
    const c = await conversation(currentId());
    expect(c.title).toBe('Hello there, what is 2+2?');
    expect(c.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(c.messages[1].meta.completion_tokens).toBe(300);
    expect(c.messages[1].meta.finish_reason).toBe('length');
    expect(await page.locator('.conversations li').first().textContent()).toContain('Hello there, what is 2+2?');
  });

  it('continues a cut answer in one click (continue_final_message)', async () => {
    const reqs = captureChatRequests();
    const before = await conversation(currentId());
    const text = before.messages[1].reasoning! + before.messages[1].content;
    await answers().last().getByRole('button', { name: 'Continue' }).click();
    await answered(reqs);
    const body = reqs.bodies.at(-1)!;
    expect(body).toMatchObject({ continue_final_message: true, add_generation_prompt: false, stream: true });
    const msgs = body.messages as { role: string; content: string }[];
    expect(msgs.at(-1)!.role).toBe('assistant');
    const after = await conversation(currentId());
    expect(after.messages).toHaveLength(2);
    expect(after.messages[1].meta.completion_tokens).toBe(600);
    expect((after.messages[1].reasoning ?? '') + after.messages[1].content).toContain(text.slice(0, 40));
    expect(((after.messages[1].reasoning ?? '') + after.messages[1].content).length).toBeGreaterThan(text.length);
  });

  it('regenerates an answer and keeps both versions browsable', async () => {
    const reqs = captureChatRequests();
    await answers().last().getByRole('button', { name: 'Regenerate answer' }).click();
    await answered(reqs);
    const versions = answers().last().locator('.versions span');
    await expect.poll(() => versions.textContent()).toBe('2/2');
    const newText = await answers().last().locator('.reasoning-body').textContent();
    await answers().last().getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => versions.textContent()).toBe('1/2');
    expect(await answers().last().locator('.reasoning-body').textContent()).not.toBe(newText);
    const c = await conversation(currentId());
    expect(c.messages.filter((m) => m.role === 'assistant')).toHaveLength(2);
    await answers().last().getByRole('button', { name: 'Next version' }).click();
    await expect.poll(() => versions.textContent()).toBe('2/2');
  });

  it('edits a sent message and resends it, the earlier version still there', async () => {
    const reqs = captureChatRequests();
    await questions().last().getByRole('button', { name: 'Edit message' }).click();
    const box = questions().last().locator('textarea');
    await box.fill('Edited: what is 3+3?');
    await questions().last().getByRole('button', { name: 'Save & send' }).click();
    await answered(reqs);
    expect(await questions().last().locator('.bubble').textContent()).toBe('Edited: what is 3+3?');
    const msgs = reqs.bodies.at(-1)!.messages as { role: string; content: string }[];
    expect(msgs).toEqual([{ role: 'user', content: 'Edited: what is 3+3?' }]);
    const versions = questions().last().locator('.versions span');
    expect(await versions.textContent()).toBe('2/2');
    await questions().last().getByRole('button', { name: 'Previous version' }).click();
    await expect.poll(() => questions().last().locator('.bubble').textContent()).toBe('Hello there, what is 2+2?');
    // The old branch comes back with its newest answer.
    expect(await answers().last().locator('.versions span').textContent()).toBe('2/2');
    await questions().last().getByRole('button', { name: 'Next version' }).click();
    await expect.poll(() => questions().last().locator('.bubble').textContent()).toBe('Edited: what is 3+3?');
  });

  it('finds the conversation after a reload, on the branch last shown', async () => {
    const id = currentId();
    await page.reload();
    await expect.poll(() => questions().count()).toBe(1);
    expect(currentId()).toBe(id);
    expect(await questions().last().locator('.bubble').textContent()).toBe('Edited: what is 3+3?');
    expect(await page.locator('.topbar .title').textContent()).toBe('Hello there, what is 2+2?');
  });

  it('stops mid-stream with Esc, and the server aborts the request', async () => {
    await setDefaults({ max_tokens: 100000 });
    await page.goto(server.url);
    await expect.poll(() => page.locator('#model option').count()).toBe(1);
    const aborted = await metric(server, 'vllm:request_success_total', 'finished_reason="abort"');
    await page.fill('#prompt', 'Tell me a very long story');
    await page.keyboard.press('Enter');
    await stopButton().waitFor();
    await expect.poll(() => answers().last().locator('.reasoning-body').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(/.{20}/s);
    await page.keyboard.press('Escape');
    await waitIdle();
    expect(await answers().last().locator('.notice').textContent()).toContain('Stopped.');
    await expect.poll(() => metric(server, 'vllm:request_success_total', 'finished_reason="abort"'), { timeout: 15_000 }).toBe(aborted + 1);
    const c = await conversation(currentId());
    expect(c.messages[1].meta.finish_reason).toBe('abort');
    expect((c.messages[1].reasoning ?? '').length).toBeGreaterThan(0);
    await setDefaults({ max_tokens: 300 });
  });

  it('renames, searches and deletes conversations from the sidebar', async () => {
    const items = page.locator('.conversations li');
    await expect.poll(() => items.count()).toBe(2);
    const storyId = currentId();
    await page.getByRole('button', { name: 'Rename Tell me a very long story' }).click();
    await page.fill('#rename', 'Story time');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('.conversations li.active .conv-title').textContent()).toBe('Story time');
    expect((await conversation(storyId)).title).toBe('Story time');

    await page.fill('#search', 'edited: what');
    await expect.poll(() => items.allTextContents()).toEqual([expect.stringContaining('Hello there, what is 2+2?')]);
    await page.fill('#search', '');
    await expect.poll(() => items.count()).toBe(2);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete Story time' }).click();
    await expect.poll(() => items.count()).toBe(1);
    expect((await server.api(`/api/conversations/${storyId}`)).status).toBe(404);
    expect(new URL(page.url()).pathname).toBe('/');
  });

  it('sends the text of an uploaded text file and PDF in the prompt, under their names', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.locator('#model option').count()).toBe(1);
    const reqs = captureChatRequests();
    await page.setInputFiles('[data-testid="file-input"]', [
      { name: 'notes.md', mimeType: 'text/markdown', buffer: Buffer.from('# Notes\nThe secret word is *marmalade*.\n') },
      { name: 'paper.pdf', mimeType: 'application/pdf', buffer: makePdf('Quantum ferrets prefer 42 kelvin') },
    ]);
    await expect.poll(() => page.locator('.composer .chip').allTextContents()).toEqual([expect.stringContaining('notes.md'), expect.stringContaining('paper.pdf')]);
    await expect.poll(() => page.locator('.token-count').textContent().catch(() => '')).toMatch(/^\s*Prompt: \d+ tokens of \d+\s*$/);
    await page.fill('#prompt', 'What do these files say?');
    await page.keyboard.press('Enter');
    await answered(reqs);
    const user = (reqs.bodies.at(-1)!.messages as { role: string; content: string }[]).at(-1)!;
    expect(user.role).toBe('user');
    expect(user.content).toContain('File: notes.md\n```\n# Notes\nThe secret word is *marmalade*.\n```');
    expect(user.content).toMatch(/File: paper\.pdf\n```\n[^`]*Quantum ferrets prefer 42 kelvin[^`]*```/);
    expect(user.content.endsWith('What do these files say?')).toBe(true);
    const c = await conversation(currentId());
    expect(c.messages[0].attachments.map((a) => a.name)).toEqual(['notes.md', 'paper.pdf']);
    expect(c.title).toBe('What do these files say?');
    expect(await questions().last().locator('.attachments li').allTextContents()).toEqual([
      expect.stringContaining('notes.md'),
      expect.stringContaining('paper.pdf'),
    ]);
  });

  it('applies per-chat settings (system prompt, sampling, reasoning hidden) and saves them as defaults', async () => {
    const reqs = captureChatRequests();
    await page.getByRole('button', { name: 'Chat settings' }).click();
    const dialog = page.getByRole('dialog', { name: 'Chat settings' });
    await dialog.getByLabel('System prompt').fill('You are terse.');
    await dialog.getByLabel('Temperature').fill('0.2');
    await dialog.getByLabel('top_p').fill('0.5');
    await dialog.getByLabel('max_tokens').fill('16');
    await dialog.getByLabel('Show the reasoning').uncheck();
    await dialog.getByRole('button', { name: 'Save as default' }).click();
    await expect.poll(() => dialog.locator('.note').textContent()).toContain('default');
    await dialog.getByRole('button', { name: 'Save for this chat' }).click();
    await answers().last().getByRole('button', { name: 'Regenerate answer' }).click();
    await answered(reqs);
    expect(reqs.bodies[0]).toMatchObject({ temperature: 0.2, top_p: 0.5, max_tokens: 16 });
    expect((reqs.bodies[0].messages as { role: string; content: string }[])[0]).toEqual({ role: 'system', content: 'You are terse.' });
    expect(await answers().last().locator('details').count()).toBe(0);
    const c = await conversation(currentId());
    expect(c).toMatchObject({ settings: { system_prompt: 'You are terse.', temperature: 0.2, top_p: 0.5, max_tokens: 16, show_reasoning: false } });
    const defaults = await (await server.api('/api/settings')).json();
    expect(defaults).toMatchObject({ system_prompt: 'You are terse.', temperature: 0.2, max_tokens: 16, show_reasoning: false });
    await setDefaults({ max_tokens: 300 });
  });

  it('exports all conversations as JSON and imports them back as copies', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export all' }).click()]);
    const file = await download.path();
    const data = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(file, 'utf8')));
    expect(data.version).toBe(1);
    expect(data.conversations).toHaveLength(2);
    await page.setInputFiles('[data-testid="import-input"]', { name: 'chats.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(data)) });
    await expect.poll(() => page.locator('.sidebar .note').textContent().catch(() => '')).toBe('Imported 2 conversations.');
    await expect.poll(() => page.locator('.conversations li').count()).toBe(4);
  });

  it('had no uncaught page errors', () => {
    expect(browser.errors).toEqual([]);
  });
});
