// `ember bench-serve` against a live `ember serve` (tiny-r1vocab GGUF, with
// an API key): the counts it reports, checked against the request shape and
// against the server's own /metrics counters. Timings are not checked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { EMBER_BIN, MODEL_NAME, startServer } from './lib/server.mjs';

const run = promisify(execFile);
const KEY = 'bench-key';
let server;

before(async () => {
  server = await startServer({ apiKey: KEY });
});
after(async () => {
  await server?.stop();
});

// ember bench-serve ARGS; resolves {code, stdout, stderr} whatever the exit code.
async function benchServe(args, env = {}) {
  const childEnv = { ...process.env, ...env };
  if (!('EMBER_API_KEY' in env)) delete childEnv.EMBER_API_KEY;
  if (!('OPENAI_API_KEY' in env)) delete childEnv.OPENAI_API_KEY;
  try {
    const { stdout, stderr } = await run(EMBER_BIN, ['bench-serve', '--url', server.url, ...args], { env: childEnv });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// A counter of /metrics, summed over its label sets.
async function counter(name) {
  const res = await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, 200);
  let total = 0;
  for (const line of (await res.text()).split('\n')) {
    const m = line.match(/^(\S+?)(\{[^}]*\})? (\S+)$/);
    if (m && m[1] === name) total += Number(m[3]);
  }
  return total;
}

test('--json: 4 requests of 8 + 4 tokens, two at a time', async () => {
  const before = {
    prompt: await counter('vllm:prompt_tokens_total'),
    generated: await counter('vllm:generation_tokens_total'),
  };
  const r = await benchServe(
    ['--num-prompts', '4', '--concurrency', '2', '--input-len', '8', '--output-len', '4', '--json'],
    { EMBER_API_KEY: KEY });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.model_id, MODEL_NAME);  // the first of /v1/models
  assert.equal(j.num_prompts, 4);
  assert.equal(j.max_concurrency, 2);
  assert.equal(j.request_rate, 'inf');
  assert.equal(j.completed, 4);
  assert.equal(j.failed, 0);
  assert.equal(j.total_input_tokens, 32);
  assert.equal(j.total_output_tokens, 16);
  assert.deepEqual(j.input_lens, [8, 8, 8, 8]);
  assert.deepEqual(j.output_lens, [4, 4, 4, 4]);
  assert.deepEqual(j.errors, ['', '', '', '']);
  // ITL: one gap per chunk after the first; the server may send two tokens
  // in one chunk (a stream that fell behind the engine), never more chunks
  // than tokens.
  for (const gaps of j.itls) assert.ok(gaps.length <= 3 && gaps.every((g) => g >= 0), JSON.stringify(gaps));
  for (const k of ['duration', 'request_throughput', 'output_throughput', 'total_token_throughput'])
    assert.ok(Number.isFinite(j[k]) && j[k] > 0, `${k}: ${j[k]}`);
  assert.ok(Math.abs(j.output_throughput - 16 / j.duration) < 1e-6 * j.output_throughput);
  assert.ok(Math.abs(j.total_token_throughput - 48 / j.duration) < 1e-6 * j.total_token_throughput);
  for (const m of ['ttft', 'tpot', 'itl', 'e2el']) {
    for (const s of ['mean', 'median', 'std', 'p99']) {
      const v = j[`${s}_${m}_ms`];
      assert.ok(Number.isFinite(v) && v >= 0, `${s}_${m}_ms: ${v}`);
    }
    assert.ok(j[`median_${m}_ms`] <= j[`p99_${m}_ms`] + 1e-9, m);
  }
  // What the server counted for those requests.
  assert.equal(await counter('vllm:prompt_tokens_total') - before.prompt, 32);
  assert.equal(await counter('vllm:generation_tokens_total') - before.generated, 16);
});

test('the table, Poisson arrivals, --api-key and --model', async () => {
  const r = await benchServe(['--num-prompts', '3', '--request-rate', '50', '--input-len', '5', '--output-len', '3',
    '--api-key', KEY, '--model', MODEL_NAME, '--seed', '7']);
  assert.equal(r.code, 0, r.stderr);
  const rows = Object.fromEntries(r.stdout.split('\n').map((l) => l.match(/^(.+?):\s+(\S+)\s*$/)).filter(Boolean)
    .map((m) => [m[1], m[2]]));
  assert.equal(rows['Traffic request rate'], '50.0');
  assert.equal(rows['Maximum request concurrency'], 'None');
  assert.equal(rows['Successful requests'], '3');
  assert.equal(rows['Total input tokens'], '15');
  assert.equal(rows['Total generated tokens'], '9');
  for (const name of ['Benchmark duration (s)', 'Request throughput (req/s)', 'Output token throughput (tok/s)',
    'Total Token throughput (tok/s)', 'Mean TTFT (ms)', 'Median TTFT (ms)', 'P99 TTFT (ms)', 'Mean TPOT (ms)',
    'Median TPOT (ms)', 'P99 TPOT (ms)', 'Mean ITL (ms)', 'Median ITL (ms)', 'P99 ITL (ms)', 'Mean E2EL (ms)',
    'Median E2EL (ms)', 'P99 E2EL (ms)'])
    assert.ok(Number.isFinite(Number(rows[name])), `${name}: ${rows[name]}`);
});

test('failures are reported: a wrong key, an unknown model, a prompt over the context', async () => {
  let r = await benchServe(['--num-prompts', '2', '--input-len', '4', '--output-len', '2', '--json'],
    { OPENAI_API_KEY: 'wrong' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /401/);  // /v1/models refused: no model to ask for

  r = await benchServe(['--num-prompts', '2', '--input-len', '4', '--output-len', '2', '--model', 'nope', '--json'],
    { EMBER_API_KEY: KEY });
  assert.equal(r.code, 1);
  const j = JSON.parse(r.stdout);
  assert.equal(j.completed, 0);
  assert.equal(j.failed, 2);
  for (const e of j.errors) assert.match(e, /^HTTP 404: .*nope/);

  r = await benchServe(['--num-prompts', '1', '--input-len', '300', '--output-len', '2'], { EMBER_API_KEY: KEY });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /1 of 1 requests failed:\n\s+1 x HTTP 400: .*maximum context length/);
});

test('bad flags are refused', async () => {
  for (const args of [['--url', 'ftp://x'], ['--url', 'http://h:99999'], ['--request-rate', '0'],
    ['--num-prompts', '0'], ['--concurrency', '-1'], ['--output-len', 'x']]) {
    const r = await run(EMBER_BIN, ['bench-serve', ...args]).then(
      () => ({ code: 0, stderr: '' }), (e) => ({ code: e.code, stderr: e.stderr }));
    assert.notEqual(r.code, 0, args.join(' '));
    assert.ok(r.stderr.includes(args[0]), `${args.join(' ')}: ${r.stderr}`);
  }
});

test('SIGTERM: ember serve exits 0', async () => {
  const { code, signal } = await server.stop();
  assert.equal(signal, null, server.output);
  assert.equal(code, 0, server.output);
});
