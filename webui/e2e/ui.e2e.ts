// The API-key prompt, and screenshots of a conversation with reasoning, math
// and code (put in through the chat-store API: the tiny model only writes
// gibberish) at desktop and phone widths, light and dark.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, SHOTS, startServer, type Server } from './harness';

const REASONING = `The user asks for $\\sum_{k=1}^{n} k$. Pair the first and last terms:
each pair sums to $n+1$ and there are $n/2$ pairs, so the total is \\(\\frac{n(n+1)}{2}\\).`;

const ANSWER = `The sum of the first $n$ positive integers is

$$\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}.$$

**Proof by induction.** For $n = 1$ both sides are $1$. If it holds for $n$, then
\\[ \\sum_{k=1}^{n+1} k = \\frac{n(n+1)}{2} + (n+1) = \\frac{(n+1)(n+2)}{2}. \\]

For $n = 100$ that gives \\boxed{5050}.

\`\`\`python
def triangular(n: int) -> int:
    """The n-th triangular number."""
    return n * (n + 1) // 2

assert triangular(100) == 5050
\`\`\`

| $n$ | $T_n$ |
|---|---|
| 10 | 55 |
| 100 | 5050 |
`;

describe('API key', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer({ apiKey: 'e2e-secret-key' });
  }, 180_000);
  afterAll(async () => server?.stop());

  it('asks for the key once, keeps it in the browser and sends it as Bearer', async () => {
    const b = await launch();
    try {
      const { page } = b;
      const auth: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/v1/models')) auth.push(r.headers()['authorization'] ?? '');
      });
      await page.goto(server.url);
      const dialog = page.getByRole('dialog', { name: 'API key' });
      await dialog.waitFor();
      await dialog.getByLabel('Key').fill('wrong-key');
      await dialog.getByRole('button', { name: 'Save' }).click();
      // A wrong key asks again, saying so.
      await expect.poll(() => page.getByRole('dialog', { name: 'API key' }).textContent()).toContain('refused this key');
      await page.getByRole('dialog', { name: 'API key' }).getByLabel('Key').fill('e2e-secret-key');
      await page.getByRole('dialog', { name: 'API key' }).getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => page.locator('#model option').count()).toBe(1);
      expect(await page.evaluate(() => localStorage.getItem('ember.apiKey'))).toBe('e2e-secret-key');
      expect(auth).toContain('Bearer e2e-secret-key');

      await page.reload();
      await expect.poll(() => page.locator('#model option').count()).toBe(1);
      expect(await page.getByRole('dialog', { name: 'API key' }).count()).toBe(0);
      expect(b.errors).toEqual([]);
    } finally {
      await b.close();
    }
  });
});

describe('screenshots', () => {
  let server: Server;
  let id = '';
  beforeAll(async () => {
    server = await startServer();
    const c = await (await server.api('/api/conversations', { method: 'POST', body: JSON.stringify({ title: 'Sum of the first n integers' }) })).json();
    id = c.id;
    const u = await (
      await server.api(`/api/conversations/${id}/messages`, {
        method: 'POST',
        body: JSON.stringify({ parent_id: null, role: 'user', content: 'What is 1 + 2 + … + n? Show it for n = 100, with code.' }),
      })
    ).json();
    const a = await server.api(`/api/conversations/${id}/messages`, {
      method: 'POST',
      body: JSON.stringify({
        parent_id: u.id,
        role: 'assistant',
        content: ANSWER,
        reasoning: REASONING,
        meta: { model: server.model, prompt_tokens: 31, completion_tokens: 412, tokens_per_second: 38.6, reasoning_seconds: 6.2, finish_reason: 'stop' },
      }),
    });
    expect(a.status).toBe(201);
    for (const t of ['Prime factors of 2024', 'A haiku about caches', 'Explain paged attention']) {
      await server.api('/api/conversations', { method: 'POST', body: JSON.stringify({ title: t }) });
    }
    fs.mkdirSync(SHOTS, { recursive: true });
  }, 180_000);
  afterAll(async () => server?.stop());

  const cases = [
    { name: 'desktop-light', viewport: { width: 1280, height: 900 }, scheme: 'light' as const },
    { name: 'desktop-dark', viewport: { width: 1280, height: 900 }, scheme: 'dark' as const },
    { name: 'phone-light', viewport: { width: 390, height: 844 }, scheme: 'light' as const },
    { name: 'phone-dark', viewport: { width: 390, height: 844 }, scheme: 'dark' as const },
  ];
  for (const c of cases) {
    it(`renders reasoning, math and code: ${c.name}`, async () => {
      const b = await launch(c.viewport, c.scheme);
      try {
        const { page } = b;
        await page.goto(`${server.url}/c/${id}`);
        const answer = page.locator('article.message.assistant');
        await answer.waitFor();
        expect(await answer.locator('summary').textContent()).toContain('Thought for 6 s');
        await answer.locator('summary').click();
        expect(await answer.locator('.reasoning-body .katex').count()).toBe(4);
        expect(await answer.locator(':scope > .markdown .katex-display').count()).toBe(2);
        expect(await answer.locator('.boxpad').count()).toBe(1);
        expect(await answer.locator('.hljs-keyword').first().textContent()).toBe('def');
        expect(await answer.locator('.copy-code').count()).toBe(1);
        expect(await answer.locator('.stats').textContent()).toBe('38.6 tokens/s · 412 tokens · prompt 31');
        // KaTeX's fonts came from the binary.
        await page.evaluate(() => document.fonts.ready);
        expect(await page.evaluate(() => [...document.fonts].some((f) => f.family.includes('KaTeX') && f.status === 'loaded'))).toBe(true);
        const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
        expect(bg).toBe(c.scheme === 'dark' ? 'rgb(23, 25, 29)' : 'rgb(255, 255, 255)');
        await page.screenshot({ path: path.join(SHOTS, `${c.name}.png`) });
        if (c.viewport.width < 700) {
          await page.getByRole('button', { name: 'Conversations' }).click();
          await page.waitForTimeout(400); // the drawer's slide-in
          expect(await page.locator('.conversations li').count()).toBe(4);
          await page.screenshot({ path: path.join(SHOTS, `${c.name}-sidebar.png`) });
        }
        expect(b.errors).toEqual([]);
      } finally {
        await b.close();
      }
    });
  }
});
