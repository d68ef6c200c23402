// Starts the real `ember serve` on a free loopback port with a fixture model,
// waits for /health to answer 200, and stops it with SIGTERM (the exit code
// is the test's to check). Its chat store ($XDG_DATA_HOME/ember) and any
// Hugging Face cache (HF_HOME) are in a temporary directory, removed when it
// exits, never the real home. EMBER_BIN and EMBER_FIXTURES_DIR come from ctest;
// run by hand they default to the build tree and ../shared/fixtures.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const EMBER_BIN = process.env.EMBER_BIN || path.join(repo, 'build/ember');
export const FIXTURES = process.env.EMBER_FIXTURES_DIR || path.resolve(repo, '../shared/fixtures');
export const TINY_DIR = path.join(FIXTURES, 'models/tiny-r1vocab');
export const TINY_GGUF = path.join(TINY_DIR, 'tiny-r1vocab-BF16.gguf');
export const TINY_HF = path.join(TINY_DIR, 'hf');
export const MODEL_NAME = 'tiny-r1';
export const MAX_MODEL_LEN = 256;

// A port the kernel hands out now (ember serve takes --port 1..65535, not 0).
async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class EmberServer {
  constructor(child, port, apiKey) {
    this.child = child;
    this.port = port;
    this.apiKey = apiKey;
    this.url = `http://127.0.0.1:${port}`;
    this.output = '';
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout.on('data', (d) => (this.output += d));
    child.stderr.on('data', (d) => (this.output += d));
  }

  // Removes `dir` once the process has exited.
  removeOnExit(dir) {
    this.exited.then(() => rmSync(dir, { recursive: true, force: true }));
  }

  // The official client on /v1, no retries (a test sees the first answer).
  client(options = {}) {
    return new OpenAI({ baseURL: `${this.url}/v1`, apiKey: this.apiKey ?? 'unused', maxRetries: 0, timeout: 60_000, ...options });
  }

  // The same client rooted at the server, for vLLM's /tokenize and /generate.
  rootClient(options = {}) {
    return this.client({ baseURL: this.url, ...options });
  }

  // Resolves when /health answers 200; rejects if ember exits first.
  async ready(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let exited = null;
    this.exited.then((e) => (exited = e));
    while (Date.now() < deadline) {
      if (exited) throw new Error(`ember serve exited (${JSON.stringify(exited)}) before /health:\n${this.output}`);
      try {
        const res = await fetch(`${this.url}/health`);
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`ember serve: /health not 200 after ${timeoutMs} ms:\n${this.output}`);
  }

  // SIGTERM; resolves with {code, signal}.
  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

// `ember serve MODEL --port P ...`; apiKey adds --api-key. A port taken
// between picking and binding makes ember exit; then another is tried.
export async function startServer({ model = TINY_GGUF, apiKey, args = [] } = {}) {
  if (!existsSync(EMBER_BIN)) throw new Error(`no ember binary at ${EMBER_BIN} (set EMBER_BIN)`);
  if (!existsSync(model)) throw new Error(`fixture model missing: ${model}`);
  let last;
  for (let attempt = 0; attempt < 3; ++attempt) {
    const port = await freePort();
    const argv = ['serve', model, '--port', String(port), '--served-model-name', MODEL_NAME, '--threads', '1',
      '--kv-cache-memory', '16M', '--max-model-len', String(MAX_MODEL_LEN), ...args];
    if (apiKey !== undefined) argv.push('--api-key', apiKey);
    const home = mkdtempSync(path.join(tmpdir(), 'ember-e2e-'));
    const env = { ...process.env, XDG_DATA_HOME: path.join(home, 'data'), HF_HOME: path.join(home, 'hf') };
    delete env.EMBER_API_KEY;  // only --api-key decides
    const server = new EmberServer(spawn(EMBER_BIN, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] }), port, apiKey);
    server.removeOnExit(home);
    try {
      await server.ready(120_000);
      return server;
    } catch (e) {
      last = e;
      await server.stop();
      if (!/in use/i.test(server.output)) break;
    }
  }
  throw last;
}
