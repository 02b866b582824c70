#!/usr/bin/env node
// Templates at scale: T templates (10 … 1,000) watching K keys (10 … 10,000) of an etcd store, all in one
// `sleep infinity` service with `wait: 0s, on_change: none`. Key j is read by template j mod T, so each
// template reads K/T keys (or, with fewer keys than templates, each key is read by T/K templates). Measured:
//
//   first render   launch of `tend up` → every destination file written
//   one change     etcd put of one key → the destination of a template that reads it holds the new value
//                  (median of `changes`), and how many templates rendered for it (tend_template_renders_total
//                  before and after, from /metrics): only the templates that read the key may render
//   RSS            of tend, after the changes
//
// Writes bench/scale/templates.json, bench/scale/TEMPLATES.md and templates.svg (one change, ms, against keys on a
// log axis, a line per template count).
//
//   node bench/scale/templates.mjs [--templates 10,100,1000] [--keys 10,100,1000,10000] [--changes 5]
//                                  [--quick] [--no-write]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { memoryKiB } from '../lib/proc.mjs';
import { TEND_MAIN } from '../lib/supervisors.mjs';
import { fmt, machine, median, parseArgs, say, sleep, waitFor } from '../lib/util.mjs';
import { BENCH_DIR, finish, onCleanup, subdir, sweepAndWait, workdir } from '../lib/workdir.mjs';
import { lineChartSvg } from './chart.mjs';

const OUT = join(BENCH_DIR, 'scale');
const ETCD = process.env.TEND_BENCH_ETCD ?? '/usr/bin/etcd';

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

async function startEtcd() {
  const client = await freePort();
  const peer = await freePort();
  const p = spawn(
    ETCD,
    [
      '--name=bench',
      `--data-dir=${subdir('etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=bench=http://127.0.0.1:${peer}`,
      '--log-level=error',
      '--logger=zap',
    ],
    { stdio: 'ignore', env: workdir().env },
  );
  const ok = await waitFor(
    async () => {
      if (p.exitCode !== null) throw new Error('etcd exited at start');
      try {
        return (await fetch(`http://127.0.0.1:${client}/health`)).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 15_000, everyMs: 50 },
  );
  if (!ok) throw new Error('etcd did not start within 15 s');
  return `127.0.0.1:${client}`;
}

async function rendersTotal(port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = text.match(/^tend_template_renders_total(?:\{[^}]*\})? (\d+)/m);
  return m ? Number(m[1]) : undefined;
}

const key = (j) => `scale/k${j}`;

async function once(etcd, endpoint, T, K, changes) {
  const dir = subdir('templates', `t${T}-k${K}`);
  mkdirSync(join(dir, 'tpl'), { recursive: true });
  mkdirSync(join(dir, 'out'), { recursive: true });
  // a fresh prefix per combination: every key starts at "v0"
  await etcd.delete().all();
  for (let j = 0; j < K; j += 200) {
    const ops = [];
    for (let i = j; i < Math.min(K, j + 200); i++) ops.push(etcd.put(key(i)).value('v0'));
    await Promise.all(ops);
  }
  const reads = Array.from({ length: T }, () => []);
  if (K >= T) for (let j = 0; j < K; j++) reads[j % T].push(j);
  else for (let i = 0; i < T; i++) reads[i].push(i % K);
  const lines = [
    'name: tplscale',
    'state_dir: ./.tend',
    'data_dir: ./data',
    `kv: etcd://${endpoint}`,
    'services:',
  ];
  lines.push(
    '  app:',
    '    command: ["sleep", "infinity"]',
    '    logs: { file: false, stdout: false }',
    '    templates:',
  );
  for (let i = 0; i < T; i++) {
    writeFileSync(
      join(dir, 'tpl', `t${i}.tmpl`),
      reads[i].map((j) => `k${j}={{ key "${key(j)}" }}\n`).join(''),
    );
    lines.push(`      - { source: tpl/t${i}.tmpl, destination: out/t${i}.conf, wait: 0s, on_change: none }`);
  }
  writeFileSync(join(dir, 'tend.yaml'), `${lines.join('\n')}\n`);
  const port = await freePort();
  const t0 = Date.now();
  const tend = spawn(
    process.execPath,
    [TEND_MAIN, 'up', '-f', join(dir, 'tend.yaml'), '--http', `127.0.0.1:${port}`],
    {
      cwd: dir,
      env: workdir().env,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const r = { templates: T, keys: K };
  try {
    const all = await waitFor(
      () => {
        for (let i = T - 1; i >= 0; i--) if (!existsSync(join(dir, 'out', `t${i}.conf`))) return false;
        return true;
      },
      { timeoutMs: 180_000, everyMs: 20 },
    );
    if (!all) {
      r.error = 'the first render did not finish within 180 s';
      return r;
    }
    r.firstRenderMs = Date.now() - t0;
    await waitFor(() => rendersTotal(port).catch(() => undefined), { timeoutMs: 20_000, everyMs: 100 });
    await sleep(500);
    const readers = reads.map((ks, i) => (ks.includes(0) ? i : -1)).filter((i) => i >= 0);
    const dest = join(dir, 'out', `t${readers[0]}.conf`);
    const lat = [];
    const rendered = [];
    for (let c = 1; c <= changes; c++) {
      const before = await rendersTotal(port);
      const value = `v${c}`;
      const start = performance.now();
      await etcd.put(key(0)).value(value);
      const ok = await waitFor(() => readFileSync(dest, 'utf8').includes(`k0=${value}\n`), {
        timeoutMs: 10_000,
        everyMs: 1,
      });
      if (ok) lat.push(performance.now() - start);
      await sleep(300); // any further render of this change would land by now
      rendered.push((await rendersTotal(port)) - before);
    }
    r.changeMs = median(lat);
    r.rendersPerChange = Math.max(...rendered);
    r.readersOfKey = readers.length;
    r.rssMiB = memoryKiB([tend.pid]).rss / 1024;
  } finally {
    tend.kill('SIGTERM');
    await new Promise((res) => (tend.exitCode !== null ? res() : tend.once('exit', res)));
  }
  return r;
}

export async function run({ templates, keys, changes, quick = false } = {}) {
  templates ??= quick ? [10, 100] : [10, 100, 1000];
  keys ??= quick ? [10, 100, 1000] : [10, 100, 1000, 10000];
  changes ??= quick ? 3 : 5;
  if (!existsSync(ETCD)) return { skipped: `no etcd at ${ETCD}` };
  const m = machine();
  const endpoint = await startEtcd();
  const etcd = new Etcd3({ hosts: `http://${endpoint}` });
  onCleanup(() => etcd.close());
  const rows = [];
  for (const T of templates)
    for (const K of keys) {
      say(`templates: ${T} templates, ${K} keys`);
      const r = await once(etcd, endpoint, T, K, changes);
      if (r.error) say(`templates: ${r.error}`);
      rows.push(r);
    }
  await sweepAndWait();
  return {
    meta: {
      date: new Date().toISOString(),
      machine: m.text,
      loadBefore: m.load,
      loadAfter: loadavg().map((x) => x.toFixed(2)),
      changes,
      templates,
      keys,
    },
    rows,
  };
}

export function report(data) {
  if (data.skipped) return `# Templates at scale\n\nNot measured: ${data.skipped}.\n`;
  const { meta, rows } = data;
  const lines = [
    '# Templates at scale',
    '',
    `Written by \`bench/scale/templates.mjs\` on ${meta.date.slice(0, 16).replace('T', ' ')} UTC. Machine: ${meta.machine}.`,
    `Load average before: ${meta.loadBefore.join(', ')}; after: ${meta.loadAfter.join(', ')}. One change: median of ${meta.changes}.`,
    '',
    'T templates watch K etcd keys in one service (`wait: 0s`, `on_change: none`); key j is read by template j mod T.',
    'One change = etcd put → the new value in the destination of a template that reads the key. "Rendered" counts',
    'the renders that change caused (tend_template_renders_total): it must equal the templates that read the key.',
    '',
    '![one change against keys and templates](templates.svg)',
    '',
    '| templates | keys | first render, ms | one change, ms | rendered / readers of the key | tend RSS, MiB |',
    '|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of rows) {
    if (r.error) lines.push(`| ${fmt(r.templates)} | ${fmt(r.keys)} | failed: ${r.error} | | | |`);
    else
      lines.push(
        `| ${fmt(r.templates)} | ${fmt(r.keys)} | ${fmt(r.firstRenderMs)} | ${fmt(r.changeMs)} | ${r.rendersPerChange} / ${r.readersOfKey} | ${fmt(r.rssMiB)} |`,
      );
  }
  lines.push('');
  return lines.join('\n');
}

export function chart(data) {
  if (data.skipped) return undefined;
  const byT = new Map();
  for (const r of data.rows) {
    if (!Number.isFinite(r.changeMs)) continue;
    if (!byT.has(r.templates)) byT.set(r.templates, []);
    byT.get(r.templates).push([r.keys, r.changeMs]);
  }
  return lineChartSvg({
    title: 'One KV change → its template rendered (ms)',
    subtitle: `${data.meta.date.slice(0, 10)}, load ${data.meta.loadBefore[0]}; x: keys watched (log); a line per template count`,
    xLabel: 'keys watched (log scale)',
    series: [...byT].map(([t, points]) => ({ name: `${t} templates`, points })),
  });
}

export function write(data) {
  writeFileSync(join(OUT, 'templates.json'), `${JSON.stringify(data, null, 1)}\n`);
  writeFileSync(join(OUT, 'TEMPLATES.md'), report(data));
  const svg = chart(data);
  if (svg) writeFileSync(join(OUT, 'templates.svg'), svg);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  try {
    const data = await run({
      quick: a.flag('quick'),
      templates: a.get('templates') && a.list('templates').map(Number),
      keys: a.get('keys') && a.list('keys').map(Number),
      changes: a.get('changes') && Number(a.get('changes')),
    });
    if (a.flag('no-write')) console.log(report(data));
    else write(data);
  } finally {
    await finish();
  }
}
