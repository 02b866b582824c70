#!/usr/bin/env node
// Logs: one service (writer.c) writes 2,000,000 numbered lines of 100 bytes to stdout as fast as the pipe
// takes them; each supervisor writes them to a file the way its users normally would (tend `logs.file`,
// runit `svlogd -tt`, supervisord `stdout_logfile`, PM2 `out_file`), with rotation off so that every line stays
// in one file. We measure:
//
//   - lines that reach the file: each line end is checked for the writer's "L<9 digits> xxx…" 99 bytes
//     before it (whatever time stamp the supervisor puts in front), and each number counted once;
//   - throughput: lines in the file / (time the file stopped growing − the writer's first line), the file's
//     size polled every 50 ms;
//   - the supervisor's CPU time over that span (utime + stime; for runit runsvdir + runsv + svlogd) and its
//     peak RSS (VmHWM).
//
// Two kinds of work, compared within each: tend's default raw file (the bytes as they came, chunks copied) beside
// supervisord and PM2, which copy chunks too; and `tend-stamped` (`timestamps: true`: lines split, each
// stamped) beside runit's `svlogd -tt`, which does the same.
//
//   node bench/logs-peers/run.mjs [--quick] [--lines 2000000] [--reps 3] [--only tend,tend-stamped,pm2]
//                                 [--cpu-prof DIR]   (tend's V8 CPU profile of each run, into DIR)
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePeers } from '../lib/peers.mjs';
import { clockTicks, memoryKiB, stat } from '../lib/proc.mjs';
import { NAMES as SUPERVISORS, start, svcDir } from '../lib/supervisors.mjs';
import { fmt, median, parseArgs, ratio, say, sleep } from '../lib/util.mjs';
import { compile, finish, subdir } from '../lib/workdir.mjs';

/** The contestants: the supervisors, and tend once more with time-stamped lines. */
export const NAMES = ['tend', 'tend-stamped', ...SUPERVISORS.filter((n) => n !== 'tend')];
/** What each one does per chunk of output: the rows are compared within one kind of work. */
export const WORK = {
  tend: 'copy',
  supervisord: 'copy',
  pm2: 'copy',
  'tend-stamped': 'stamp',
  runit: 'stamp',
};
const BASE = { copy: 'tend', stamp: 'tend-stamped' };

/** How long the file may stay the same size, after the writer is done, before we call it complete. */
const QUIET_MS = 1500;

function stampsOf(file) {
  const out = {};
  if (!existsSync(file)) return out;
  for (const l of readFileSync(file, 'utf8').trim().split('\n')) {
    const [what, t] = l.split(' ');
    out[what] = Number(t) * 1000;
  }
  return out;
}

const sizeOf = (files) => files.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);

/** Counts the writer's lines in files: { lines (all), valid, distinct } for sequence numbers below n. */
export function countLines(files, n) {
  const seen = new Uint8Array(n);
  let lines = 0;
  let valid = 0;
  let distinct = 0;
  const chunk = Buffer.allocUnsafe(16 << 20);
  for (const f of files) {
    if (!existsSync(f)) continue;
    const fd = openSync(f, 'r');
    let carry = Buffer.alloc(0);
    try {
      for (;;) {
        const got = readSync(fd, chunk, 0, chunk.length, null);
        if (got === 0) break;
        const buf = carry.length ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
          lines++;
          const p = nl - 99; // where "L" is when the line ends with the writer's 99 bytes
          if (p >= start && buf[p] === 76 && buf[p + 10] === 32 && buf[nl - 1] === 120) {
            let seq = 0;
            let ok = true;
            for (let i = p + 1; i <= p + 9; i++) {
              const d = buf[i] - 48;
              if (d < 0 || d > 9) ok = false;
              seq = seq * 10 + d;
            }
            if (ok && seq < n) {
              valid++;
              if (seen[seq] === 0) {
                seen[seq] = 1;
                distinct++;
              }
            }
          }
          start = nl + 1;
        }
        carry = Buffer.from(buf.subarray(start));
      }
    } finally {
      closeSync(fd);
    }
  }
  return { lines, valid, distinct };
}

/** user and system CPU of pids, in ms (processes already gone count 0) */
function cpuOf(pids) {
  let user = 0;
  let sys = 0;
  for (const pid of pids) {
    const s = stat(pid);
    if (s) {
      user += s.utime;
      sys += s.stime;
    }
  }
  const k = 1000 / clockTicks();
  return { user: user * k, sys: sys * k };
}

async function once(name, n, rep, timeoutMs, nodeArgs) {
  const dir = subdir('logs', `${name}-${rep}`);
  const writer = compile('logs-peers/writer.c', 'log-writer');
  const stamped = name === 'tend-stamped';
  const h = await start(
    stamped ? 'tend' : name,
    dir,
    [{ name: 'writer', argv: [writer, String(n)], log: true }],
    {
      logTimestamps: stamped,
      nodeArgs,
    },
  );
  const times = join(svcDir(dir, 'writer'), 'times');
  const files = h.logFiles('writer');
  try {
    // 1. the writer is up and pauses 1.5 s: read the supervisor's CPU time now
    let st = {};
    const upBy = Date.now() + 30_000;
    while (!st.ready && Date.now() < upBy) {
      await sleep(20);
      st = stampsOf(times);
    }
    if (!st.ready) return { error: 'the writer did not start within 30 s' };
    await sleep(200);
    const pids = h.supervisorPids();
    const cpu0 = cpuOf(pids);
    // 2. poll the file size until the writer is done and the file has stopped growing
    let size = -1;
    let lastChange = Date.now();
    const deadline = Date.now() + timeoutMs;
    let timedOut = false;
    for (;;) {
      await sleep(50);
      const s = sizeOf(files);
      const now = Date.now();
      if (s !== size) {
        size = s;
        lastChange = now;
      }
      st = stampsOf(times);
      if (st.done && now - lastChange >= QUIET_MS) break;
      if (now > deadline) {
        timedOut = true;
        break;
      }
    }
    const cpu1 = cpuOf(h.supervisorPids());
    const userMs = cpu1.user - cpu0.user;
    const sysMs = cpu1.sys - cpu0.sys;
    const cpu = userMs + sysMs;
    const mem = memoryKiB(h.supervisorPids());
    const count = countLines(files, n);
    const spanMs = lastChange - st.start;
    return {
      ...count,
      lost: n - count.distinct,
      spanMs,
      linesPerSec: (count.distinct / spanMs) * 1000,
      writerMs: st.done ? st.done - st.start : undefined,
      cpuMs: cpu,
      userMs,
      sysMs,
      cpuPerMillion: cpu / (count.distinct / 1e6),
      hwmKiB: mem.hwm,
      bytes: size,
      timedOut,
    };
  } finally {
    await h.stop({ timeoutMs: 30_000 });
    // Each run writes ~260 MB. Kept until the end, every later run filled page-cache pages this VM had not
    // touched before, and the kernel's copy into the file (copy_folio_from_iter_atomic, 29 % of all samples
    // in a perf profile) grew slower run after run: tend's five runs went 2.7 M → 1.5 M lines/s, its system
    // CPU 180 → 1,110 ms, whatever the code. Removed after each run, every run starts alike.
    rmSync(dir, { recursive: true, force: true });
  }
}

/** { name: { lines, distinct, lost, linesPerSec, cpuMs, … (median run by throughput) } | { skipped } } */
export async function run({ quick = false, lines, reps, only = NAMES, peers, cpuProf } = {}) {
  lines ??= quick ? 500_000 : 2_000_000;
  reps ??= quick ? 1 : 3;
  const timeoutMs = quick ? 60_000 : 150_000;
  const runs = {};
  const results = {};
  for (const name of only) {
    if (!name.startsWith('tend') && peers && !peers[name]?.ok)
      results[name] = { skipped: peers[name]?.why ?? 'not installed' };
    else runs[name] = [];
  }
  for (let r = 0; r < reps; r++) {
    // every other rep in reverse order, so no supervisor always runs right after the same one
    const order = Object.keys(runs);
    if (r % 2 === 1) order.reverse();
    for (const name of order) {
      say(`logs: ${lines.toLocaleString('en-US')} lines under ${name}, run ${r + 1}/${reps}`);
      // --cpu-prof DIR: tend's V8 CPU profile of each run, written when it exits
      const nodeArgs =
        cpuProf && name.startsWith('tend')
          ? ['--cpu-prof', '--cpu-prof-dir', cpuProf, '--cpu-prof-name', `${name}-${r + 1}.cpuprofile`]
          : undefined;
      const res = await once(name, lines, r, timeoutMs, nodeArgs);
      if (res.error) say(`logs: ${name}: ${res.error}`);
      else
        say(
          `logs: ${name}: ${res.distinct} lines, ${Math.round(res.linesPerSec)} lines/s, CPU ${Math.round(res.cpuMs)} ms (user ${Math.round(res.userMs)}, sys ${Math.round(res.sysMs)})`,
        );
      runs[name].push(res);
    }
  }
  for (const [name, rs] of Object.entries(runs)) {
    const ok = rs.filter((x) => !x.error);
    if (ok.length === 0) {
      results[name] = { skipped: rs[0]?.error ?? 'no run' };
      continue;
    }
    // the median run by throughput (the lower middle one for an even count), with its own CPU and losses
    const sorted = [...ok].sort((a, b) => a.linesPerSec - b.linesPerSec);
    const mid = sorted[(sorted.length - 1) >> 1];
    results[name] = {
      ...mid,
      expected: lines,
      runs: ok.map((x) => Math.round(x.linesPerSec)),
      maxLost: Math.max(...ok.map((x) => x.lost)),
      medianLinesPerSec: median(ok.map((x) => x.linesPerSec)),
    };
  }
  return Object.fromEntries(only.filter((n) => results[n]).map((n) => [n, results[n]]));
}

export function table(results) {
  const label = { copy: 'bytes as they came', stamp: 'lines, each time-stamped' };
  // rows of one kind of work together, the tend row of that kind first; ratios are to that row
  const order = Object.keys(results).sort(
    (a, b) =>
      (WORK[a] === 'copy' ? 0 : 1) - (WORK[b] === 'copy' ? 0 : 1) ||
      (a.startsWith('tend') ? 0 : 1) - (b.startsWith('tend') ? 0 : 1),
  );
  const rows = order.map((name) => {
    const r = results[name];
    const work = label[WORK[name]] ?? '';
    if (r.skipped) return `| ${name} | ${work} | – | – | – | – | – | – | – | not measured: ${r.skipped} |`;
    const base = results[BASE[WORK[name]]];
    return `| ${name} | ${work} | ${r.distinct.toLocaleString('en-US')} | ${r.maxLost.toLocaleString('en-US')} | ${fmt(r.linesPerSec / 1000)} k | ${ratio(r.linesPerSec, base?.linesPerSec)} | ${fmt(r.cpuMs)} | ${fmt(r.cpuPerMillion)} | ${fmt(r.hwmKiB / 1024)} | ${r.runs.map((x) => fmt(x / 1000)).join(', ')} k${r.timedOut ? '; timed out' : ''} |`;
  });
  return [
    '| supervisor | the file holds | lines in the file | lost (worst run) | lines/s | vs tend doing the same | CPU ms | CPU ms per M lines | peak RSS MiB | runs (lines/s) |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  try {
    const res = await run({
      quick: a.flag('quick'),
      lines: a.get('lines') && Number(a.get('lines')),
      reps: a.get('reps') && Number(a.get('reps')),
      only: a.list('only', NAMES),
      peers: ensurePeers({ install: !a.flag('no-install') }),
      cpuProf: a.get('cpu-prof'),
    });
    console.log(table(res));
  } finally {
    await finish();
  }
}
