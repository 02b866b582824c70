#!/usr/bin/env node
// Idle footprint: each supervisor keeps 100 services of `sleep infinity` up; once all 100 run and a settling
// pause has passed, we read the supervisor's own CPU time (utime + stime of /proc/<pid>/stat) at the start and
// end of a 60 s window, and its memory at the end (VmRSS, and PSS, which splits shared pages fairly between
// runit's hundred small runsv processes).
//
// The four supervisors are started one after the other but measured over the same window: idle processes do
// not compete for the CPU, and a shared window gives each the same background noise.
//
//   node bench/idle/run.mjs [--quick] [--services 100] [--seconds 60] [--only tend,pm2]
import { pathToFileURL } from 'node:url';
import { ensurePeers } from '../lib/peers.mjs';
import { contextSwitches, cpuMs, memoryKiB } from '../lib/proc.mjs';
import { NAMES, start } from '../lib/supervisors.mjs';
import { fmt, parseArgs, ratio, say, sleep, waitFor } from '../lib/util.mjs';
import { finish, subdir } from '../lib/workdir.mjs';

/** { name: { cpuMs, cpuPct, rssKiB, pssKiB, procs, services } | { skipped } } */
export async function run({ quick = false, services = 100, seconds, settleS, only = NAMES, peers } = {}) {
  seconds ??= quick ? 20 : 60;
  // At rest, not the tail of start-up (which has its own workload): for its first ~30 s tend's JIT compiler
  // and V8's memory reducer still wake its threads (measured: 60–70 ms CPU and ~2 wake-ups/s in a window from
  // 10 s after launch, 0–20 ms and 0.1–0.4/s from 30 s).
  const settleMs = (settleS ?? (quick ? 2 : 30)) * 1000;
  const results = {};
  const running = [];
  try {
    for (const name of only) {
      if (name !== 'tend' && peers && !peers[name]?.ok) {
        results[name] = { skipped: peers[name]?.why ?? 'not installed' };
        continue;
      }
      say(`idle: starting ${services} × sleep infinity under ${name}`);
      const list = Array.from({ length: services }, (_, i) => ({
        name: `s${i}`,
        argv: ['/bin/sleep', 'infinity'],
        log: false,
      }));
      const h = await start(name, subdir('idle', name), list);
      running.push(h);
      const up = await waitFor(() => h.servicePids('sleep').length >= services, {
        timeoutMs: 60_000,
        everyMs: 200,
      });
      if (!up) {
        results[name] = {
          skipped: `only ${h.servicePids('sleep').length} of ${services} services came up in 60 s`,
        };
        running.pop();
        await h.stop();
      }
    }
    say(`idle: settling ${settleMs / 1000} s, then measuring ${seconds} s`);
    await sleep(settleMs);
    const before = running.map((h) => {
      const pids = h.supervisorPids();
      return { h, pids, cpu: cpuMs(pids), cs: contextSwitches(pids) };
    });
    await sleep(seconds * 1000);
    for (const { h, pids, cpu, cs } of before) {
      // runit: the set of runsv processes is fixed once everything is up; re-read it in case one was replaced
      const now = h.supervisorPids();
      const used = cpuMs(now) - cpu;
      const mem = memoryKiB(now);
      results[h.name] = {
        cpuMs: used,
        cpuPct: (used / (seconds * 1000)) * 100,
        wakeups: (contextSwitches(now) - cs) / seconds,
        rssKiB: mem.rss,
        pssKiB: mem.pss,
        procs: now.length,
        procsChanged: now.length !== pids.length,
        services: h.servicePids('sleep').length,
      };
    }
  } finally {
    await Promise.all(running.map((h) => h.stop({ timeoutMs: 30_000 })));
  }
  return Object.fromEntries(only.filter((n) => results[n]).map((n) => [n, results[n]]));
}

const mib = (kib) => kib / 1024;

export function table(results, seconds) {
  const t = results.tend;
  const rows = Object.entries(results).map(([name, r]) =>
    r.skipped
      ? `| ${name} | – | – | – | – | – | – | – | not measured: ${r.skipped} |`
      : `| ${name} | ${r.procs} | ${fmt(r.cpuMs)} | ${fmt(r.cpuPct, 2)} % | ${ratio(r.cpuMs, t?.cpuMs)} | ${fmt(r.wakeups)} | ${fmt(mib(r.rssKiB))} | ${fmt(mib(r.pssKiB))} | ${ratio(r.rssKiB, t?.rssKiB)} |`,
  );
  return [
    `| supervisor | its processes | CPU ms in ${seconds} s | of one core | CPU vs tend | wake-ups/s | RSS MiB | PSS MiB | RSS vs tend |`,
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  try {
    const quick = a.flag('quick');
    const seconds = Number(a.get('seconds', quick ? 20 : 60));
    const res = await run({
      quick,
      seconds,
      services: Number(a.get('services', 100)),
      only: a.list('only', NAMES),
      peers: ensurePeers({ install: !a.flag('no-install') }),
    });
    console.log(table(res, seconds));
  } finally {
    await finish();
  }
}
