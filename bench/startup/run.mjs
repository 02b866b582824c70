#!/usr/bin/env node
// Start-up: time from launching the supervisor (spawning `tend up`, `runsvdir`, `supervisord -n`, or
// `pm2 start ecosystem.config.js`, which also starts PM2's daemon) until every one of N services has run its
// first instruction. Each service is lib/stamp-child.c: it appends "<name> <time>" to a shared file with one
// O_APPEND write, then waits forever like `sleep infinity`. Done = the file has N distinct names; the time is
// the latest stamp minus the launch time. Also reported: time to the first service, and how long a stop of
// all N took (SIGTERM to the supervisor, `sv force-stop` + HUP for runit, `pm2 kill`), and the CPU time
// (utime + stime, all threads) the supervisor's own processes had used when the last service was seen: on a
// shared machine it moves much less than wall time (runit's runsv processes are counted, PM2's `pm2 start`
// client is not).
//
//   node bench/startup/run.mjs [--quick] [--counts 100,1000] [--reps 3] [--only tend,runit]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePeers } from '../lib/peers.mjs';
import { cpuMs } from '../lib/proc.mjs';
import { NAMES, start } from '../lib/supervisors.mjs';
import { fmt, median, parseArgs, ratio, say, sleep } from '../lib/util.mjs';
import { compile, finish, subdir } from '../lib/workdir.mjs';

const TIMEOUT_MS = 60_000;

/** name → first stamp (seconds since the epoch) */
function stamps(file) {
  const out = new Map();
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const name = line.slice(0, sp);
    if (!out.has(name)) out.set(name, Number(line.slice(sp + 1)));
  }
  return out;
}

async function once(name, count, rep, { measureStop, stopLimitMs }) {
  const dir = subdir('startup', `${name}-${count}-${rep}`);
  const file = join(dir, 'started');
  const child = compile('lib/stamp-child.c', 'stamp-child');
  const services = Array.from({ length: count }, (_, i) => ({
    name: `s${i}`,
    argv: [child, file, `s${i}`],
    log: false,
  }));
  const h = await start(name, dir, services);
  let seen = new Map();
  let cpu;
  try {
    const deadline = h.launchedAt + TIMEOUT_MS;
    while (Date.now() < deadline) {
      seen = stamps(file);
      if (seen.size >= count) cpu = cpuMs(h.supervisorPids());
      if (seen.size >= count || !h.alive()) break;
      await sleep(count >= 1000 ? 100 : 20);
    }
  } finally {
    const t = Date.now();
    const clean = await h.stop({ graceful: measureStop, timeoutMs: stopLimitMs });
    h.stopMs = measureStop ? (clean ? Date.now() - t : -stopLimitMs) : undefined;
  }
  const times = [...seen.values()].map((s) => s * 1000 - h.launchedAt);
  const all = seen.size >= count ? Math.max(...times) : undefined;
  return {
    allMs: all,
    firstMs: times.length ? Math.min(...times) : undefined,
    up: seen.size,
    cpuMs: cpu,
    stopMs: h.stopMs,
    error: all === undefined ? `${seen.size} of ${count} up after ${TIMEOUT_MS / 1000} s` : undefined,
  };
}

/** { [count]: { name: { allMs, firstMs, stopMs, runs } | { failed } | { skipped } } } */
export async function run({ quick = false, counts = [100, 1000], reps, only = NAMES, peers } = {}) {
  reps ??= quick ? 1 : 3;
  // how long a graceful stop of everything may take before it is cut short (PM2 needs > 1 min for 1,000)
  const stopLimitMs = quick ? 10_000 : 30_000;
  const out = {};
  for (const count of counts) {
    out[count] = {};
    const runs = {};
    for (const name of only) {
      if (name !== 'tend' && peers && !peers[name]?.ok)
        out[count][name] = { skipped: peers[name]?.why ?? 'not installed' };
      else runs[name] = [];
    }
    const n = reps;
    for (let r = 0; r < n; r++) {
      for (const name of Object.keys(runs)) {
        say(`start-up: ${count} services under ${name}, run ${r + 1}/${n}`);
        const res = await once(name, count, r, { measureStop: r === 0, stopLimitMs });
        runs[name].push(res);
        if (res.error) say(`start-up: ${name}: ${res.error}`);
      }
    }
    for (const [name, rs] of Object.entries(runs)) {
      const ok = rs.filter((x) => x.allMs !== undefined);
      out[count][name] =
        ok.length === 0
          ? { failed: rs[0]?.error, up: Math.max(...rs.map((x) => x.up)), stopMs: rs[0]?.stopMs }
          : {
              allMs: median(ok.map((x) => x.allMs)),
              firstMs: median(ok.map((x) => x.firstMs)),
              cpuMs: median(ok.map((x) => x.cpuMs).filter((x) => x !== undefined)),
              stopMs: rs[0]?.stopMs,
              runs: ok.map((x) => Math.round(x.allMs)),
            };
    }
  }
  return out;
}

/** a negative stop time -L means: cut short after L ms */
const stopText = (ms) => (ms < 0 ? `> ${fmt(-ms / 1000)} s (cut)` : fmt(ms));

export function table(results) {
  const rows = [];
  for (const [count, byName] of Object.entries(results)) {
    const t = byName.tend?.allMs;
    for (const [name, r] of Object.entries(byName)) {
      if (r.skipped) rows.push(`| ${count} | ${name} | – | – | – | – | – | not measured: ${r.skipped} |`);
      else if (r.failed)
        rows.push(`| ${count} | ${name} | > 60 s | – | – | – | ${stopText(r.stopMs)} | ${r.failed} |`);
      else
        rows.push(
          `| ${count} | ${name} | ${fmt(r.allMs)} | ${ratio(r.allMs, t)} | ${fmt(r.firstMs)} | ${r.cpuMs === undefined ? '–' : fmt(r.cpuMs)} | ${stopText(r.stopMs)} | ${r.runs.join(', ')} |`,
        );
    }
  }
  return [
    '| services | supervisor | all running, ms | vs tend | first running, ms | CPU until all running, ms | stop all, ms (1st run) | runs (ms) |',
    '|--:|---|--:|--:|--:|--:|--:|---|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  try {
    const res = await run({
      quick: a.flag('quick'),
      counts: a.list('counts', ['100', '1000']).map(Number),
      reps: a.get('reps') && Number(a.get('reps')),
      only: a.list('only', NAMES),
      peers: ensurePeers({ install: !a.flag('no-install') }),
    });
    console.log(table(res));
  } finally {
    await finish();
  }
}
