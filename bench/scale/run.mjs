#!/usr/bin/env node
// How each supervisor's costs grow with the number of services: 10, 100, 1,000 and 5,000 services, each one
// lib/stamp-child.c (it stamps "<name> <time>" into a shared file first thing, then waits like `sleep
// infinity`), logs off, under tend, runit, supervisord and PM2 set up as lib/supervisors.mjs does for every
// workload. Per size and supervisor, one start:
//
//   start-up   launch → every service has stamped (as bench/startup)
//   idle       after `settle` s at rest: the supervisor's CPU and context switches (all threads) over `window` s,
//              then VmRSS and PSS (the supervisor's own processes only: runit's runsvdir + every runsv)
//   restart    SIGKILL one service (s0) while the others idle → its replacement's stamp; median of `restarts`;
//              and the supervisor's CPU per restart (its idle rate taken out)
//   status     `tend status`, `supervisorctl status`, `pm2 jlist`, `sv status <every dir>`: wall time, median of 3;
//              and the supervisor's own CPU per status (the client's is not counted)
//   stop       the supervisor's own stop of everything (as bench/startup), cut at 120 s
//
// Writes bench/scale/results.json, bench/scale/RESULTS.md and one chart per figure (bench/scale/*.svg, services
// on a log axis), with the slope of each figure per service (a least-squares fit on the two largest sizes run).
//
//   node bench/scale/run.mjs [--counts 10,100,1000,5000] [--only tend,runit] [--settle 20] [--window 30]
//                            [--restarts 5] [--quick] [--no-write] [--json FILE]
//   node bench/scale/run.mjs --render          re-write RESULTS.md and the charts from results.json
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePeers, PM2_BIN } from '../lib/peers.mjs';
import { contextSwitches, cpuMs, memoryKiB } from '../lib/proc.mjs';
import { NAMES, start, svcDir, TEND_MAIN } from '../lib/supervisors.mjs';
import { fmt, machine, median, parseArgs, say, sleep } from '../lib/util.mjs';
import { BENCH_DIR, compile, finish, subdir } from '../lib/workdir.mjs';
import { lineChartSvg } from './chart.mjs';

const OUT = join(BENCH_DIR, 'scale');
const START_TIMEOUT_MS = 180_000;

/** name → every stamp (seconds since the epoch), in file order */
function stamps(file) {
  const out = new Map();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const name = line.slice(0, sp);
    if (!out.has(name)) out.set(name, []);
    out.get(name).push(Number(line.slice(sp + 1)));
  }
  return out;
}

/**
 * The stamps of `name` written past byte `from` of file: the restart loop polls every 2 ms, and re-reading
 * 5,000 services' stamps that often took a core from the machine tend was being measured on.
 */
function newStamps(file, from, name) {
  let fd;
  try {
    fd = openSync(file, 'r');
    const size = fstatSync(fd).size;
    if (size <= from) return [];
    const buf = Buffer.alloc(size - from);
    readSync(fd, buf, 0, buf.length, from);
    return buf
      .toString('utf8')
      .split('\n')
      .filter((l) => l.startsWith(`${name} `))
      .map((l) => Number(l.slice(name.length + 1)));
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const sizeOf = (file) => (existsSync(file) ? statSync(file).size : 0);

/** pid of the live stamp-child started as service `name` (its argv[2]). */
function pidOf(h, name) {
  for (const pid of h.servicePids('stamp-child')) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[2] === name) return pid;
    } catch {}
  }
  return undefined;
}

/** Runs argv (env added), returns wall ms, or undefined when it failed. */
function timed(argv, env = {}) {
  return new Promise((resolve) => {
    const t = process.hrtime.bigint();
    const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: { ...process.env, ...env } });
    c.on('error', () => resolve(undefined));
    c.on('exit', (code) => resolve(code === 0 ? Number(process.hrtime.bigint() - t) / 1e6 : undefined));
  });
}

/** The status command of each supervisor, the way its users ask. */
function statusArgv(name, dir, count) {
  switch (name) {
    case 'tend':
      return { argv: [process.execPath, TEND_MAIN, 'status', '-f', join(dir, 'tend.yaml')] };
    case 'supervisord':
      return { argv: ['supervisorctl', '-c', join(dir, 'supervisord.conf'), 'status'] };
    case 'pm2':
      return { argv: [PM2_BIN, 'jlist'], env: { PM2_HOME: join(dir, 'pm2-home') } };
    case 'runit':
      return {
        argv: ['sv', 'status', ...Array.from({ length: count }, (_, i) => svcDir(dir, `s${i}`))],
      };
  }
}

async function once(name, count, o) {
  const dir = subdir('scale', `${name}-${count}`);
  const file = join(dir, 'started');
  const child = compile('lib/stamp-child.c', 'stamp-child');
  const services = Array.from({ length: count }, (_, i) => ({
    name: `s${i}`,
    argv: [child, file, `s${i}`],
    log: false,
  }));
  const h = await start(name, dir, services, { quickRestart: true });
  const r = { count };
  try {
    // start-up
    let seen = new Map();
    const deadline = h.launchedAt + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      seen = stamps(file);
      if (seen.size >= count || !h.alive()) break;
      await sleep(count >= 1000 ? 100 : 20);
    }
    if (seen.size < count) {
      r.error = `${seen.size} of ${count} up after ${START_TIMEOUT_MS / 1000} s`;
      return r;
    }
    const firsts = [...seen.values()].map((s) => s[0] * 1000 - h.launchedAt);
    r.startupMs = Math.max(...firsts);
    // CPU the supervisor spent to get there: steadier than wall time on a busy machine
    r.startupCpuMs = cpuMs(h.supervisorPids());
    // idle: at rest past start-up's tail, then one window
    await sleep(o.settle * 1000);
    const pids = h.supervisorPids();
    const cpu0 = cpuMs(pids);
    const cs0 = contextSwitches(pids);
    const t0 = Date.now();
    await sleep(o.window * 1000);
    const pids1 = h.supervisorPids();
    const secs = (Date.now() - t0) / 1000;
    r.idleCpuMsPerMin = ((cpuMs(pids1) - cpu0) * 60) / secs;
    r.wakeupsPerSec = (contextSwitches(pids1) - cs0) / secs;
    const mem = memoryKiB(pids1);
    r.rssMiB = mem.rss / 1024;
    r.pssMiB = mem.pss / 1024;
    r.procs = pids1.length;
    // restart latency of s0 while the others idle (the peers' 1 s rule is met: s0 ran for more than 1 s)
    const lat = [];
    const idleRate = (cpuMs(pids1) - cpu0) / (Date.now() - t0); // ms of CPU per ms, to take out below
    const cpuR0 = cpuMs(h.supervisorPids());
    const tR0 = Date.now();
    for (let i = 0; i < o.restarts; i++) {
      const pid = pidOf(h, 's0');
      if (!pid) break;
      const from = sizeOf(file);
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      let got;
      while (Date.now() < killedAt + 10_000) {
        const s = newStamps(file, from, 's0');
        if (s.length > 0) {
          got = s[s.length - 1] * 1000 - killedAt;
          break;
        }
        await sleep(2);
      }
      if (got !== undefined) lat.push(got);
      await sleep(1500); // past the 1 s rule before the next kill
    }
    // The supervisor's CPU per restart (exit seen, respawn), its idle CPU over the same time taken out
    if (lat.length > 0)
      r.restartCpuMs = Math.max(
        0,
        (cpuMs(h.supervisorPids()) - cpuR0 - idleRate * (Date.now() - tR0)) / lat.length,
      );
    r.restartMs = median(lat);
    // status
    const st = statusArgv(name, dir, count);
    const times = [];
    const cpuS0 = cpuMs(h.supervisorPids());
    for (let i = 0; i < 3; i++) times.push(await timed(st.argv, st.env));
    r.statusMs = times.includes(undefined) ? undefined : median(times);
    // what answering costs the supervisor itself (the client's start is in statusMs, not here)
    r.statusCpuMs = (cpuMs(h.supervisorPids()) - cpuS0) / 3;
  } finally {
    const t = Date.now();
    const clean = await h.stop({ graceful: true, timeoutMs: 120_000 });
    if (r.startupMs !== undefined) r.stopMs = clean ? Date.now() - t : undefined;
  }
  return r;
}

/** { meta, results: { name: [{ count, startupMs, … }] } } */
export async function run({ counts, only = NAMES, peers, quick = false, settle, window, restarts } = {}) {
  const o = {
    settle: settle ?? (quick ? 5 : 20),
    window: window ?? (quick ? 10 : 30),
    restarts: restarts ?? (quick ? 3 : 5),
  };
  counts ??= quick ? [10, 100, 1000] : [10, 100, 1000, 5000];
  const m = machine();
  const results = {};
  const skipped = {};
  for (const name of only) {
    if (name !== 'tend' && peers && !peers[name]?.ok) skipped[name] = peers[name]?.why ?? 'not installed';
    else results[name] = [];
  }
  for (const count of counts) {
    for (const name of Object.keys(results)) {
      say(`scale: ${count} services under ${name}`);
      const r = await once(name, count, o);
      if (r.error) say(`scale: ${name}: ${r.error}`);
      results[name].push(r);
    }
  }
  return {
    meta: {
      date: new Date().toISOString(),
      machine: m.text,
      loadBefore: m.load,
      loadAfter: loadavg().map((x) => x.toFixed(2)),
      options: o,
      quick,
      counts,
      skipped,
    },
    results,
  };
}

// ------------------------------------------------------------------------------------------------ report

const FIGURES = [
  { key: 'rssMiB', title: 'RSS of the supervisor', unit: 'MiB', file: 'rss.svg' },
  { key: 'pssMiB', title: 'PSS of the supervisor', unit: 'MiB', file: 'pss.svg' },
  { key: 'startupMs', title: 'Start-up (launch → all running)', unit: 'ms', file: 'startup.svg' },
  { key: 'startupCpuMs', title: 'Start-up CPU of the supervisor', unit: 'ms', file: 'startup-cpu.svg' },
  { key: 'idleCpuMsPerMin', title: 'Idle CPU', unit: 'ms per minute', file: 'idle-cpu.svg' },
  { key: 'wakeupsPerSec', title: 'Idle wake-ups', unit: 'per second', file: 'wakeups.svg' },
  { key: 'restartMs', title: 'Restart latency of one service', unit: 'ms', file: 'restart.svg' },
  { key: 'restartCpuMs', title: 'CPU of the supervisor per restart', unit: 'ms', file: 'restart-cpu.svg' },
  { key: 'statusMs', title: 'Status command', unit: 'ms', file: 'status.svg' },
  { key: 'statusCpuMs', title: 'CPU of the supervisor per status', unit: 'ms', file: 'status-cpu.svg' },
  { key: 'stopMs', title: 'Stop of everything', unit: 'ms', file: 'stop.svg' },
];

/** Slope (per service) of a least-squares line through the points of the two largest sizes measured. */
function slope(rows, key) {
  const pts = rows.filter((r) => Number.isFinite(r[key])).slice(-2);
  if (pts.length < 2 || pts[1].count === pts[0].count) return undefined;
  return (pts[1][key] - pts[0][key]) / (pts[1].count - pts[0].count);
}

/** Growth exponent between the two largest sizes: 1 = linear, 2 = quadratic (log-log slope). */
function exponent(rows, key) {
  const pts = rows.filter((r) => Number.isFinite(r[key]) && r[key] > 0).slice(-2);
  if (pts.length < 2) return undefined;
  return Math.log(pts[1][key] / pts[0][key]) / Math.log(pts[1].count / pts[0].count);
}

export function report(data) {
  const { meta, results } = data;
  const names = Object.keys(results);
  const lines = [
    '# tend at scale',
    '',
    `Written by \`bench/scale/run.mjs\` on ${meta.date.slice(0, 16).replace('T', ' ')} UTC; sizes ${meta.counts.join(', ')}.`,
    `Machine: ${meta.machine}. Load average before: ${meta.loadBefore.join(', ')}; after: ${meta.loadAfter.join(', ')}.`,
    `Idle figures: ${meta.options.settle} s at rest after start-up, then a ${meta.options.window} s window; restart latency: median of ${meta.options.restarts}.`,
    '',
  ];
  if (meta.quick || meta.options.settle < 20)
    lines.push(
      `**A smoke run** (short settle and window${meta.quick ? ', --quick' : ''}): the idle figures still include the tail of start-up, and on a loaded machine (see the load average) every time is noisy; memory figures hold. \`bench/run --scale\` on a quiet machine gives the real ones.`,
      '',
    );
  for (const [n, why] of Object.entries(meta.skipped ?? {})) lines.push(`- ${n}: not measured (${why}).`);
  lines.push('');
  for (const f of FIGURES) {
    lines.push(`## ${f.title}, ${f.unit}`, '', `![${f.title}](${f.file})`, '');
    lines.push(
      `| supervisor | ${meta.counts.map((c) => fmt(c)).join(' | ')} | per service (slope) | growth exponent |`,
    );
    lines.push(`|---|${meta.counts.map(() => '--:').join('|')}|--:|--:|`);
    for (const n of names) {
      const byCount = new Map(results[n].map((r) => [r.count, r]));
      const cells = meta.counts.map((c) => {
        const r = byCount.get(c);
        return r?.error ? 'failed' : fmt(r?.[f.key]);
      });
      lines.push(
        `| ${n} | ${cells.join(' | ')} | ${fmt(slope(results[n], f.key))} | ${fmt(exponent(results[n], f.key), 2)} |`,
      );
    }
    lines.push('');
  }
  const errors = names.flatMap((n) =>
    results[n].filter((r) => r.error).map((r) => `- ${n}, ${r.count}: ${r.error}`),
  );
  if (errors.length) lines.push('## Failures', '', ...errors, '');
  lines.push(
    'The slope is the growth per added service between the two largest sizes; the growth exponent is the',
    'log-log slope between them (1: linear, 2: quadratic). CPU time comes in 10 ms ticks per process, so',
    'small idle figures are coarse.',
    '',
  );
  return lines.join('\n');
}

export function charts(data) {
  const { meta, results } = data;
  return FIGURES.map((f) => ({
    file: f.file,
    svg: lineChartSvg({
      title: `${f.title} (${f.unit})`,
      subtitle: `${meta.date.slice(0, 10)}, load ${meta.loadBefore[0]}; lower is better`,
      series: Object.entries(results).map(([name, rows]) => ({
        name,
        points: rows.filter((r) => Number.isFinite(r[f.key])).map((r) => [r.count, r[f.key]]),
      })),
    }),
  }));
}

export function write(data) {
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(data, null, 1)}\n`);
  writeFileSync(join(OUT, 'RESULTS.md'), report(data));
  for (const c of charts(data)) writeFileSync(join(OUT, c.file), c.svg);
}

export const readResults = () =>
  existsSync(join(OUT, 'results.json'))
    ? JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8'))
    : undefined;

/** The lines bench/RESULTS.md shows: tend's slopes and the best peer's, per figure. */
export function summaryLines(data) {
  if (!data) return [];
  const out = [];
  for (const f of FIGURES) {
    const parts = Object.entries(data.results).map(
      ([n, rows]) => `${n} ${fmt(slope(rows, f.key))} (exp. ${fmt(exponent(rows, f.key), 2)})`,
    );
    out.push(`| ${f.title}, ${f.unit} per service | ${parts.join('; ')} |`);
  }
  return ['| figure | slope per added service (growth exponent) |', '|---|---|', ...out];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  if (a.flag('render')) {
    write(readResults());
  } else {
    try {
      const data = await run({
        quick: a.flag('quick'),
        counts: a.get('counts') && a.list('counts').map(Number),
        only: a.list('only', NAMES),
        peers: ensurePeers({ install: !a.flag('no-install') }),
        settle: a.get('settle') && Number(a.get('settle')),
        window: a.get('window') && Number(a.get('window')),
        restarts: a.get('restarts') && Number(a.get('restarts')),
      });
      if (a.get('json')) writeFileSync(a.get('json'), `${JSON.stringify(data, null, 1)}\n`);
      if (a.flag('no-write')) console.log(report(data));
      else write(data);
    } finally {
      await finish();
    }
  }
}
