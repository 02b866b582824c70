#!/usr/bin/env node
// Restarts nobody notices: failed requests and the longest wait of a client looping on an HTTP service while
// tend restarts it, with `listen:` (tend holds the socket) against without (the service binds its own).
//
//   npm run build && node bench/sockets/run.mjs [--restarts 10] [--server gunicorn|node] [--concurrency 2]
//
// The service is Debian's gunicorn with a WSGI app that takes 0.5 s to start (or a Node server using
// { fd: 3 }); each restart is `tend restart web`, the next one once web is ready again. The client makes a
// new loopback connection per request. Also prints the cost of LISTEN_PID's `sh -c 'LISTEN_PID=$$ exec "$@"'`
// on the restart path: posix_spawn → exit of /bin/true, with and without the shell (--shell-only: just that).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { onCleanup, ROOT, subdir, sweepAndWait, workdir } from '../lib/workdir.mjs';

const { values: args } = parseArgs({
  options: {
    restarts: { type: 'string', default: '10' },
    server: { type: 'string', default: 'gunicorn' },
    concurrency: { type: 'string', default: '2' },
    'shell-only': { type: 'boolean', default: false },
  },
});
const RESTARTS = Number(args.restarts);
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

const WSGI_APP = `import os, time
time.sleep(0.5)
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok\\n']
`;
const NODE_APP = `import http from 'node:http';
const inherited = process.env.LISTEN_PID === String(process.pid);
const server = http.createServer((req, res) => res.end('ok\\n'));
server.listen(inherited ? { fd: 3 } : { host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function tend(args, cwd, { capture = false } = {}) {
  const p = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...workdir().env, NO_COLOR: '1' },
    stdio: ['ignore', capture ? 'pipe' : 'ignore', capture ? 'pipe' : 'ignore'],
    detached: capture,
  });
  let out = '';
  p.stdout?.on('data', (d) => {
    out += d;
  });
  p.stderr?.on('data', (d) => {
    out += d;
  });
  return { p, output: () => out, exited: new Promise((r) => p.once('exit', (code) => r(code))) };
}

async function until(fn, ms, what) {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function load(port, concurrency) {
  const s = { ok: 0, failed: 0, errors: {}, longestMs: 0 };
  let running = true;
  const one = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const fail = (why) => {
        s.failed++;
        s.errors[why] = (s.errors[why] ?? 0) + 1;
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port, agent: false, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          s.longestMs = Math.max(s.longestMs, performance.now() - t0);
          if (res.statusCode === 200) s.ok++;
          else fail(`HTTP ${res.statusCode}`);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => fail(e.code ?? e.message));
    });
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && s.ok + s.failed < 1_000_000) await one();
  });
  return {
    stats: s,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function variant(name, withListen, overlap = false) {
  const dir = subdir(name);
  const port = await freePort();
  writeFileSync(join(dir, 'app.py'), WSGI_APP);
  writeFileSync(join(dir, 'web.mjs'), NODE_APP);
  const command =
    args.server === 'gunicorn'
      ? `[gunicorn, --workers, "1", --bind, "127.0.0.1:${port}", --chdir, "${dir}", "app:app"]`
      : '[node, web.mjs]';
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: bench-sockets
services:
  web:
    command: ${command}
    env: { PORT: "${port}" }
${withListen ? `    listen: [ "127.0.0.1:${port}" ]\n` : ''}${overlap ? `    restart: { overlap: ${overlap} }\n` : ''}    ready: { http: "http://127.0.0.1:${port}/", interval: 100ms, timeout: 60s }
    logs: { stdout: false }
`,
  );
  const up = tend(['up'], dir, { capture: true });
  onCleanup(() => up.p.kill('SIGKILL'));
  const readies = () => up.output().match(/web ready/g)?.length ?? 0;
  await until(() => readies() >= 1, 60_000, `${name}: web ready\n${up.output()}`);
  const client = load(port, Number(args.concurrency));
  const t0 = performance.now();
  for (let i = 0; i < RESTARTS; i++) {
    const before = readies();
    await tend(['restart', 'web'], dir).exited;
    await until(() => readies() > before, 60_000, `${name}: ready after restart ${i + 1}`);
  }
  await client.stop();
  const seconds = (performance.now() - t0) / 1000;
  up.p.kill('SIGTERM');
  await up.exited;
  return { name, seconds, ...client.stats };
}

/**
 * What the shell costs a start: posix_spawn (tend's own fastSpawn) → exit of /bin/true, directly and through
 * `sh -c 'LISTEN_PID=$$ exec "$@"'`, alternating, the median of each.
 */
async function shellCost() {
  const { fastSpawn } = await import(join(ROOT, 'dist', 'procs', 'fast-spawn.js'));
  const dir = subdir('shell');
  const env = workdir().env;
  const once = (file, argv) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const c = fastSpawn(file, argv, { cwd: dir, env });
      c.stdout.resume();
      c.stderr.resume();
      c.once('exit', () => resolve(performance.now() - t0));
    });
  const direct = [];
  const viaShell = [];
  // a posix_spawned child holds no handle of Node's: keep the loop alive while one runs
  const keep = setInterval(() => {}, 1000);
  for (let i = 0; i < 300; i++) {
    direct.push(await once('/bin/true', []));
    viaShell.push(await once('/bin/sh', ['-c', 'LISTEN_PID=$$ exec "$@"', 'sh', '/bin/true']));
  }
  clearInterval(keep);
  const median = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return [
    { label: 'direct', msPerStart: median(direct) },
    { label: 'via sh -c LISTEN_PID=$$ exec', msPerStart: median(viaShell) },
  ];
}

mkdirSync(workdir().dir, { recursive: true });
const results = [];
if (!args['shell-only']) {
  results.push(await variant('tend with listen:', true));
  results.push(await variant('  and overlap: 2s', true, '2s'));
  results.push(await variant('tend without listen:', false));
}
await sweepAndWait();

const pad = (s, n) => String(s).padEnd(n);
console.log(
  `\n${RESTARTS} restarts (tend restart web) of ${args.server}, ${args.concurrency} clients, a new connection per request\n`,
);
console.log(`${pad('', 24)}${pad('requests', 10)}${pad('failed', 8)}${pad('longest wait', 14)}errors`);
for (const r of results) {
  console.log(
    `${pad(r.name, 24)}${pad(r.ok + r.failed, 10)}${pad(r.failed, 8)}${pad(`${r.longestMs.toFixed(0)} ms`, 14)}${JSON.stringify(r.errors)}`,
  );
}
console.log(
  `${pad('PM2, supervisord', 24)}not measured: not installed on this machine (see the docs page for why they cannot hold the socket)`,
);
const cost = await shellCost();
console.log(
  '\nwhat LISTEN_PID through the shell costs a start (posix_spawn → exit of /bin/true, median of 300):',
);
for (const c of cost) console.log(`  ${pad(c.label, 32)}${c.msPerStart.toFixed(2)} ms`);
