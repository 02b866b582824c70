#!/usr/bin/env node
// Restarts nobody notices: failed requests and the longest wait of a client looping on an HTTP service while
// its supervisor restarts it: tend with `listen:` (tend holds the socket), tend without (the service binds its
// own), supervisord and PM2 (the service binds its own: neither can hold a socket for it).
//
//   npm run build && node bench/sockets/run.mjs [--restarts 10] [--server gunicorn|node] [--concurrency 2]
//                                               [--only tend,supervisord,pm2] [--timeout 900]
//
// The service is Debian's gunicorn with a WSGI app that takes 0.5 s to start (or a Node server using
// { fd: 3 } when it inherits one); each restart is the one its users type — `tend restart web`,
// `supervisorctl restart web`, `pm2 restart web` — and the next one comes once web answers again. The client
// makes a new loopback connection per request. supervisord and PM2 are set up as bench/lib/supervisors.mjs
// does (Debian's supervisor; PM2 in bench/.peers, both installed when missing); every process carries the
// run's TEND_BENCH_RUN marker and is swept at the end, on failure, on a signal and at the --timeout (seconds).
// Also prints the cost of LISTEN_PID's `sh -c 'LISTEN_PID=$$ exec "$@"'` on the restart path: posix_spawn →
// exit of /bin/true, with and without the shell (--shell-only: just that).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensurePeers, PM2_BIN } from '../lib/peers.mjs';
import { start as startPeer } from '../lib/supervisors.mjs';
import { say } from '../lib/util.mjs';
import { finish, onCleanup, ROOT, subdir, sweepAndWait, workdir } from '../lib/workdir.mjs';

const { values: args } = parseArgs({
  options: {
    restarts: { type: 'string', default: '10' },
    server: { type: 'string', default: 'gunicorn' },
    concurrency: { type: 'string', default: '2' },
    'shell-only': { type: 'boolean', default: false },
    only: { type: 'string', default: 'tend,supervisord,pm2' },
    timeout: { type: 'string', default: '900' },
  },
});
const ONLY = new Set(args.only.split(','));
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
const port = Number(process.argv[2] ?? process.env.PORT);
server.listen(inherited ? { fd: 3 } : { host: '127.0.0.1', port });
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
  const s = { ok: 0, failed: 0, errors: {}, longestMs: 0, failingMs: 0 };
  let running = true;
  const one = () =>
    new Promise((resolve) => {
      const t0 = performance.now();
      // Every request settles once: a reset in the middle of a response ends it with an error on the
      // response, not on the request (and nothing else would then keep the loop alive).
      let settled = false;
      const fail = (why) => {
        if (settled) return;
        settled = true;
        s.failed++;
        s.errors[why] = (s.errors[why] ?? 0) + 1;
        resolve(false);
      };
      const req = http.get({ host: '127.0.0.1', port, agent: false, timeout: 30_000 }, (res) => {
        res.resume();
        res.on('error', (e) => fail(e.code ?? e.message));
        res.on('end', () => {
          if (settled) return;
          if (res.statusCode !== 200) return fail(`HTTP ${res.statusCode}`);
          settled = true;
          s.longestMs = Math.max(s.longestMs, performance.now() - t0);
          s.ok++;
          resolve(true);
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => fail(e.code ?? e.message));
      req.on('close', () => setImmediate(() => fail('closed before the answer')));
    });
  const workers = Array.from({ length: concurrency }, async () => {
    // How long this client saw only failures: from its first failed request to its next answered one. A
    // refusal comes back at once, so the count of failures says how fast the client looped; this does not.
    let failingSince;
    while (running && s.ok + s.failed < 1_000_000) {
      const t0 = performance.now();
      const ok = await one();
      if (!ok) failingSince ??= t0;
      else if (failingSince !== undefined) {
        s.failingMs += t0 - failingSince;
        failingSince = undefined;
      }
    }
    if (failingSince !== undefined) s.failingMs += performance.now() - failingSince;
  });
  return {
    stats: s,
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Runs a command to its end, killed after timeoutMs (then it throws, with what it printed). */
async function run(file, argv, { env, cwd, timeoutMs = 60_000 }) {
  const p = spawn(file, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => {
    out += d;
  });
  p.stderr.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => p.once('close', (c) => r(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${file} ${argv.join(' ')}: exit ${code}\n${out}`);
  return out;
}

/** One GET on its own connection: true on a 200. Not counted in the client's figures. */
function answers(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
  });
}

/** Waits until the service answers, asking every 100 ms (tend's ready probe interval here). */
async function untilAnswers(port, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await answers(port))) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The client loops while `restart(i)` runs RESTARTS times, each once the service is back (`back()`); the
 * client's figures and the time it took.
 */
async function underLoad(port, restart, back) {
  const client = load(port, Number(args.concurrency));
  const t0 = performance.now();
  try {
    for (let i = 0; i < RESTARTS; i++) {
      await restart(i);
      await back(i);
    }
  } finally {
    await client.stop();
  }
  return { seconds: (performance.now() - t0) / 1000, ...client.stats };
}

function writeApps(dir) {
  writeFileSync(join(dir, 'app.py'), WSGI_APP);
  writeFileSync(join(dir, 'web.mjs'), NODE_APP);
}

/** The service's argv when it binds its own socket (gunicorn's path resolved: PM2 and supervisord need it). */
function ownSocketArgv(dir, port) {
  if (args.server === 'gunicorn') {
    const gunicorn = spawnSync('sh', ['-c', 'command -v gunicorn'], { encoding: 'utf8' }).stdout.trim();
    if (!gunicorn) throw new Error('gunicorn is not installed (apt-get install -y gunicorn)');
    return [gunicorn, '--workers', '1', '--bind', `127.0.0.1:${port}`, '--chdir', dir, 'app:app'];
  }
  return [process.execPath, join(dir, 'web.mjs'), String(port)];
}

async function variant(name, withListen, overlap = false) {
  const dir = subdir(name.trim().replace(/\W+/g, '-'));
  const port = await freePort();
  writeApps(dir);
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
  try {
    const readies = () => up.output().match(/web ready/g)?.length ?? 0;
    await until(() => readies() >= 1, 60_000, `${name}: web ready\n${up.output()}`);
    let before = 0;
    return {
      name,
      how: 'tend restart web',
      ...(await underLoad(
        port,
        async () => {
          before = readies();
          await tend(['restart', 'web'], dir).exited;
        },
        (i) => until(() => readies() > before, 60_000, `${name}: ready after restart ${i + 1}`),
      )),
    };
  } finally {
    up.p.kill('SIGTERM');
    await Promise.race([up.exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
  }
}

/**
 * supervisord as its users run it: one [program:web], its control socket for `supervisorctl restart web`
 * (stop, wait for the exit, start, wait startsecs=1 for RUNNING), everything else as bench/lib/supervisors.mjs.
 */
async function supervisordVariant() {
  const dir = subdir('supervisord');
  const port = await freePort();
  writeApps(dir);
  const conf = join(dir, 'supervisord.conf');
  const argv = ownSocketArgv(dir, port);
  writeFileSync(
    conf,
    `[unix_http_server]
file=${join(dir, 'supervisor.sock')}
chmod=0700

[supervisord]
nodaemon=true
logfile=${join(dir, 'supervisord.log')}
pidfile=${join(dir, 'supervisord.pid')}
childlogdir=${dir}
loglevel=warn

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://${join(dir, 'supervisor.sock')}

[program:web]
command=${argv.join(' ')}
directory=${dir}
autostart=true
autorestart=true
startsecs=1
startretries=1000
stopsignal=TERM
stopwaitsecs=10
redirect_stderr=true
stdout_logfile=NONE
`,
  );
  const env = workdir().env;
  const out = openSync(join(dir, 'supervisord.out'), 'a');
  const sup = spawn('supervisord', ['-n', '-c', conf], { cwd: dir, env, stdio: ['ignore', out, out] });
  const exited = new Promise((r) => sup.once('exit', r));
  onCleanup(() => sup.kill('SIGKILL'));
  const log = () => ['supervisord.out', 'supervisord.log'].map((f) => readIf(join(dir, f))).join('');
  try {
    await untilAnswers(port, 60_000, `supervisord: web answers\n${log()}`);
    return {
      name: 'supervisord',
      how: 'supervisorctl restart web',
      ...(await underLoad(
        port,
        () => run('supervisorctl', ['-c', conf, 'restart', 'web'], { env, cwd: dir }),
        (i) => untilAnswers(port, 60_000, `supervisord: web answers after restart ${i + 1}\n${log()}`),
      )),
    };
  } finally {
    sup.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000).unref())]);
  }
}

/** PM2 as bench/lib/supervisors.mjs starts it (fork mode, interpreter none); `pm2 restart web`. */
async function pm2Variant() {
  const dir = subdir('pm2');
  const port = await freePort();
  writeApps(dir);
  const h = await startPeer('pm2', dir, [{ name: 'web', argv: ownSocketArgv(dir, port), log: false }]);
  onCleanup(() => h.stop({ graceful: false }));
  const env = { ...workdir().env, PM2_HOME: join(dir, 'pm2-home') };
  try {
    await h.cliDone;
    await untilAnswers(port, 60_000, `pm2: web answers\n${h.output()}`);
    return {
      name: 'PM2',
      how: 'pm2 restart web',
      ...(await underLoad(
        port,
        () => run(PM2_BIN, ['restart', 'web'], { env, cwd: dir }),
        (i) => untilAnswers(port, 60_000, `pm2: web answers after restart ${i + 1}\n${h.output()}`),
      )),
    };
  } finally {
    await h.stop({ timeoutMs: 30_000 });
  }
}

const readIf = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

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
// Bounded: past --timeout seconds, the SIGTERM handler of lib/workdir.mjs sweeps every process of this run.
setTimeout(() => {
  process.stderr.write(`bench/sockets: still running after ${args.timeout} s, stopping\n`);
  process.kill(process.pid, 'SIGTERM');
}, Number(args.timeout) * 1000).unref();

const loadBefore = loadavg();
const results = [];
/** One row; a variant that fails becomes a row saying why, and the others still run. */
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(sig, () => (stopping = true));
async function attempt(name, how, fn) {
  // after a signal (or the timeout), lib/workdir.mjs is cleaning up: start nothing more
  if (stopping) return;
  say(`${name.trim()}: ${RESTARTS} × ${how}`);
  try {
    results.push(await fn());
  } catch (err) {
    process.stderr.write(`${err.stack ?? err}\n`);
    results.push({ name, how, skipped: `failed: ${String(err.message).split('\n')[0]}` });
  }
  await sweepAndWait();
}
if (!args['shell-only']) {
  if (ONLY.has('tend')) {
    await attempt('tend with listen:', 'tend restart web', () => variant('tend with listen:', true));
    await attempt('  and overlap: 2s', 'tend restart web', () => variant('  and overlap: 2s', true, '2s'));
    await attempt('tend without listen:', 'tend restart web', () => variant('tend without listen:', false));
  }
  const peers = ONLY.has('supervisord') || ONLY.has('pm2') ? ensurePeers() : {};
  for (const [key, name, how, fn] of [
    ['supervisord', 'supervisord', 'supervisorctl restart web', supervisordVariant],
    ['pm2', 'PM2', 'pm2 restart web', pm2Variant],
  ]) {
    if (!ONLY.has(key)) continue;
    if (!peers[key].ok) results.push({ name, how, skipped: `not measured: ${peers[key].why}` });
    else await attempt(`${name} (${peers[key].version})`, how, fn);
  }
}
const loadAfter = loadavg();

const pad = (s, n) => String(s).padEnd(n);
/** Seconds a client saw only failures, over the whole run (the mean of the clients). */
const failingFor = (r) => (r.failingMs / 1000 / Number(args.concurrency)).toFixed(2);
const la = (l) => l.map((x) => x.toFixed(2)).join(', ');
console.log(
  `\n${RESTARTS} restarts of ${args.server}, ${args.concurrency} clients, a new connection per request, the next restart once it answers again`,
);
console.log(`load average (1, 5, 15 min) before: ${la(loadBefore)}; after: ${la(loadAfter)}\n`);
console.log(
  `${pad('', 34)}${pad('restarted by', 28)}${pad('requests', 10)}${pad('failed', 8)}${pad('longest wait', 14)}${pad('failing for', 13)}${pad('seconds', 9)}errors`,
);
for (const r of results) {
  if (r.skipped) {
    console.log(`${pad(r.name, 34)}${pad(r.how, 28)}${r.skipped}`);
    continue;
  }
  console.log(
    `${pad(r.name, 34)}${pad(r.how, 28)}${pad(r.ok + r.failed, 10)}${pad(r.failed, 8)}${pad(`${r.longestMs.toFixed(0)} ms`, 14)}${pad(`${failingFor(r)} s`, 13)}${pad(r.seconds.toFixed(1), 9)}${JSON.stringify(r.errors)}`,
  );
}
const n = (x) => x.toLocaleString('en-US');
const errorText = (e) =>
  Object.entries(e)
    .map(([k, v]) => `${n(v)} ${k}`)
    .join(', ');
console.log(
  '\n| | restarted by | requests | failed | longest wait | failing for | restarts took |\n|---|---|--:|--:|--:|--:|--:|',
);
for (const r of results) {
  if (r.skipped) console.log(`| ${r.name.trim()} | \`${r.how}\` | ${r.skipped} | | | | |`);
  else
    console.log(
      `| ${r.name.trim()} | \`${r.how}\` | ${n(r.ok + r.failed)} | ${r.failed ? `**${n(r.failed)}** (${errorText(r.errors)})` : '**0**'} | ${(r.longestMs / 1000).toFixed(2)} s | ${failingFor(r)} s | ${r.seconds.toFixed(1)} s |`,
    );
}
if (ONLY.has('tend') || args['shell-only']) {
  const cost = await shellCost();
  console.log(
    '\nwhat LISTEN_PID through the shell costs a start (posix_spawn → exit of /bin/true, median of 300):',
  );
  for (const c of cost) console.log(`  ${pad(c.label, 32)}${c.msPerStart.toFixed(2)} ms`);
}
await finish(0);
