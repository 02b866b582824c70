#!/usr/bin/env node
// KV propagation: time from a `put` to the first instruction of the service that tend restarted because a
// template read that key (`wait: 0`, `on_change: restart`). The service is a small C program (child.c) whose
// first instruction stamps the time; the benchmark stamps the time just before it sends the put.
//
//   node bench/kv-propagation/run.mjs [--changes 50] [--only etcd,file] [--write]
//
// Needs `npm run build`, cc, and etcd (Debian's etcd-server: /usr/bin/etcd, or $TEND_BENCH_ETCD) for the etcd
// row. --write stores the table in bench/kv-propagation/RESULTS.md.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Etcd3 } from 'etcd3';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const ETCD = process.env.TEND_BENCH_ETCD ?? '/usr/bin/etcd';
const KEY = 'bench/value';
/** pause between changes, so each restart has finished before the next put */
const SETTLE_MS = 250;

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : def;
};
const CHANGES = Number(opt('changes', '50'));
const ONLY = opt('only', 'etcd,file').split(',');
const say = (text) => process.stderr.write(`bench: ${text}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** wall-clock ms with sub-ms precision, comparable with the child's CLOCK_REALTIME */
const now = () => performance.timeOrigin + performance.now();

const cleanups = [];
const work = mkdtempSync(join(tmpdir(), 'tend-bench-kv-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

async function waitUntil(test, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await test();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Spawns and remembers a process group, so that nothing outlives the benchmark. */
function launch(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, detached: true });
  const exited = new Promise((r) => child.once('exit', r));
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(t);
  });
  return child;
}

async function startEtcd() {
  const client = await freePort();
  const peer = await freePort();
  const data = join(work, 'etcd');
  const p = launch(
    ETCD,
    [
      '--name=bench',
      `--data-dir=${data}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=bench=http://127.0.0.1:${peer}`,
      '--log-level=error',
      '--logger=zap',
    ],
    { stdio: 'ignore' },
  );
  await waitUntil(
    async () => {
      if (p.exitCode !== null) throw new Error('etcd exited at start');
      try {
        return (await fetch(`http://127.0.0.1:${client}/health`)).ok;
      } catch {
        return false;
      }
    },
    15_000,
    'etcd',
  );
  return `127.0.0.1:${client}`;
}

function starts(dir) {
  const p = join(dir, 'times');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(l.split(' ')[1]) * 1000);
}

/** Runs tend on one backend and returns the latencies (ms) of CHANGES changes. */
async function measure(backend, child) {
  const dir = join(work, backend);
  mkdirSync(dir, { recursive: true });
  let put;
  let kvUrl;
  if (backend === 'etcd') {
    const endpoint = await startEtcd();
    const etcd = new Etcd3({ hosts: `http://${endpoint}` });
    cleanups.push(() => etcd.close());
    kvUrl = `etcd://${endpoint}`;
    put = (v) => etcd.put(KEY).value(v);
  } else {
    kvUrl = 'file:./kv';
    mkdirSync(join(dir, 'kv/bench'), { recursive: true });
    put = async (v) => writeFileSync(join(dir, 'kv', KEY), v);
  }
  await put('0');
  writeFileSync(join(dir, 'app.tmpl'), `value={{ key "${KEY}" }}\n`);
  writeFileSync(
    join(dir, 'tend.yaml'),
    `kv: ${kvUrl}
services:
  app:
    command: [${JSON.stringify(child)}]
    stop: { signal: SIGTERM, timeout: 5s }
    logs: { stdout: false }
    templates:
      - { source: app.tmpl, destination: etc/app.conf, wait: 0s, on_change: restart }
`,
  );
  const tend = launch(process.execPath, [CLI, 'up'], { cwd: dir, stdio: 'ignore' });
  await waitUntil(() => starts(dir).length === 1, 20_000, 'first start');
  const lat = [];
  for (let i = 1; i <= CHANGES; i++) {
    await sleep(SETTLE_MS);
    const t0 = now();
    await put(String(i));
    const s = await waitUntil(() => starts(dir)[i], 10_000, `start ${i + 1}`);
    lat.push(s - t0);
    if (tend.exitCode !== null) throw new Error('tend exited');
  }
  return lat;
}

async function main() {
  const child = join(work, 'kv-child');
  execFileSync('cc', ['-O2', '-o', child, join(HERE, 'child.c')]);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const rows = [];
  for (const backend of ONLY) {
    if (backend === 'etcd' && !existsSync(ETCD)) {
      rows.push(`| etcd | – | – | – | – | not measured: no etcd at ${ETCD} |`);
      continue;
    }
    say(`${backend}: ${CHANGES} changes`);
    const lat = await measure(backend, child);
    const f = (x) => x.toFixed(1);
    rows.push(
      `| ${backend} | ${f(percentile(lat, 50))} | ${f(percentile(lat, 95))} | ${f(Math.min(...lat))} | ${f(Math.max(...lat))} | ${lat.length} |`,
    );
  }
  const table = [
    '| backend | p50 ms | p95 ms | min ms | max ms | changes |',
    '|---|--:|--:|--:|--:|--:|',
    ...rows,
  ].join('\n');
  console.log(`KV propagation: put → restarted service's first instruction (wait 0, on_change restart)\n`);
  console.log(table);
  return table;
}

let code = 0;
let table;
try {
  table = await main();
} catch (e) {
  say(`failed: ${e.stack ?? e}`);
  code = 1;
} finally {
  for (const c of cleanups.reverse()) await c();
}
if (table && argv.includes('--write')) {
  const c = cpus();
  const etcdVersion = (() => {
    try {
      return execFileSync(ETCD, ['--version'], { encoding: 'utf8' }).match(/etcd Version: (\S+)/)?.[1];
    } catch {
      return undefined;
    }
  })();
  writeFileSync(
    join(HERE, 'RESULTS.md'),
    `# KV propagation benchmark

\`node bench/kv-propagation/run.mjs --write\` (after \`npm run build\`): time from a \`put\` to the first
instruction of the service tend restarted because its template read that key (\`wait: 0s\`,
\`on_change: restart\`), over ${CHANGES} changes, one every ~${SETTLE_MS} ms after the previous restart.
The service is a C program that stamps CLOCK_REALTIME first thing (child.c); the put is stamped just before
it is sent. The path measured: the put, etcd's watch event (or, for \`file\`, inotify plus the backend's 50 ms
debounce), the render, the atomic write (fsync + rename), SIGTERM to the old process and its exit, the spawn.

Machine: ${c.length} × ${c[0]?.model?.trim()}, Node ${process.version}${etcdVersion ? `, etcd ${etcdVersion}` : ''}.

${table}

Target: p50 under 50 ms on etcd.
`,
  );
  say(`wrote ${join(HERE, 'RESULTS.md')}`);
}
process.exit(code);
