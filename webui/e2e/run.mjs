// ctest entry of the browser tests: exit 77 (ctest's SKIP_RETURN_CODE) when
// Chromium cannot start here, else run the Vitest e2e suite.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const root = path.resolve(import.meta.dirname, '..');
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

async function chromiumStarts() {
  if (!fs.existsSync(executablePath)) return `${executablePath} does not exist (scripts/setup installs chromium)`;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ember-e2e-probe-'));
  try {
    const ctx = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: flags, timeout: 60_000 });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.setContent('<p>ok</p>');
    await ctx.close();
    return null;
  } catch (e) {
    return String(e?.message ?? e).split('\n')[0];
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

const why = await chromiumStarts();
if (why) {
  console.log(`SKIPPED: the web UI browser tests need Chromium, which cannot start here: ${why}`);
  process.exit(77);
}
const vitest = path.join(root, 'node_modules', '.bin', 'vitest');
const r = spawnSync(vitest, ['run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
