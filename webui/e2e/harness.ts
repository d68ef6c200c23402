// The end-to-end tests' world: `ember serve` on the tiny-r1vocab fixture
// (a fresh --data-dir each time, a free port), and Debian's Chromium driven
// by playwright-core with a fresh profile.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const EMBER = process.env.EMBER_BIN ?? path.resolve(import.meta.dirname, '../../build/ember');
export const MODEL =
  process.env.EMBER_E2E_MODEL ?? path.resolve(import.meta.dirname, '../../../shared/fixtures/models/tiny-r1vocab/tiny-r1vocab-BF16.gguf');
export const SHOTS = process.env.EMBER_E2E_SCREENSHOTS ?? path.resolve(import.meta.dirname, '../../build/webui-screenshots');
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface Server {
  url: string;
  dataDir: string;
  model: string;
  log: () => string;
  api: (p: string, init?: RequestInit) => Promise<Response>;
  stop: () => Promise<void>;
}

export async function startServer(opts: { apiKey?: string } = {}): Promise<Server> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ember-e2e-data-'));
  const args = ['serve', MODEL, '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir];
  if (opts.apiKey) args.push('--api-key', opts.apiKey);
  const env = { ...process.env };
  delete env.EMBER_API_KEY;
  const child: ChildProcess = spawn(EMBER, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.once('error', (e) => (out += `cannot run ${EMBER}: ${e.message}\n`));
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null || out.startsWith('cannot run'))
      throw new Error(`ember serve exited (${child.exitCode ?? child.signalCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`ember serve did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const auth: Record<string, string> = opts.apiKey ? { Authorization: `Bearer ${opts.apiKey}` } : {};
  const api = (p: string, init: RequestInit = {}) =>
    fetch(url + p, { ...init, headers: { 'Content-Type': 'application/json', ...auth, ...(init.headers as Record<string, string>) } });
  const models = (await (await api('/v1/models')).json()) as { data: { id: string }[] };
  return {
    url,
    dataDir,
    model: models.data[0].id,
    log: () => out,
    api,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  errors: string[];
  close: () => Promise<void>;
}

export async function launch(viewport = { width: 1280, height: 860 }, colorScheme: 'light' | 'dark' = 'light'): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ember-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
    colorScheme,
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// A counter of /metrics (summed over its label sets matching `labels`).
export async function metric(server: Server, name: string, labels = ''): Promise<number> {
  const text = await (await server.api('/metrics')).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

// A one-page PDF whose text is `text` (Helvetica), with a correct xref table.
export function makePdf(text: string): Buffer {
  const esc = text.replace(/[\\()]/g, (c) => `\\${c}`);
  const content = `BT /F1 18 Tf 72 720 Td (${esc}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content)} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => {
    offsets.push(Buffer.byteLength(pdf));
    pdf += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = Buffer.byteLength(pdf);
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) pdf += `${String(off).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}
