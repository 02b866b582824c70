#!/usr/bin/env node
// Where an idle tend's CPU goes: the same idle stack (N × `sleep infinity`) under several tends at once, each
// with one suspect switched off by a preload (no change to tend's code), measured over one shared window.
// Not part of `bench/run`; it backs the findings in bench/RESULTS.md and tells whether a fix worked.
//
//   node bench/idle/breakdown.mjs [--counts 100,1000] [--seconds 60]
//
// Variants:
//   as is                 dist/ as built
//   loop monitor 1 s      prom-client's event-loop delay monitor at 1 s instead of 10 ms (preload-no-loop-monitor)
//   + reaper scan 60 s    and the reaper's backstop /proc scan every 60 s instead of 1 s (preload-no-reaper-scan)
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { contextSwitches, cpuMs, memoryKiB } from '../lib/proc.mjs';
import { start } from '../lib/supervisors.mjs';
import { fmt, parseArgs, say, sleep, waitFor } from '../lib/util.mjs';
import { BENCH_DIR, finish, subdir } from '../lib/workdir.mjs';

const pre = (f) => ['--import', pathToFileURL(join(BENCH_DIR, 'idle', f)).href];
const VARIANTS = [
  { name: 'as is', nodeArgs: [] },
  { name: 'loop monitor 1 s', nodeArgs: pre('preload-no-loop-monitor.mjs') },
  {
    name: 'loop monitor 1 s + reaper scan 60 s',
    nodeArgs: [...pre('preload-no-loop-monitor.mjs'), ...pre('preload-no-reaper-scan.mjs')],
  },
];

const a = parseArgs();
const counts = a.list('counts', ['100', '1000']).map(Number);
const seconds = Number(a.get('seconds', 60));
const running = [];
try {
  for (const count of counts) {
    for (const [i, v] of VARIANTS.entries()) {
      say(`breakdown: tend with ${count} services, ${v.name}`);
      const services = Array.from({ length: count }, (_, k) => ({
        name: `s${k}`,
        argv: ['/bin/sleep', 'infinity'],
        log: false,
      }));
      const h = await start('tend', subdir('breakdown', `${count}-${i}`), services, { nodeArgs: v.nodeArgs });
      await waitFor(() => h.servicePids('sleep').length >= count, { timeoutMs: 120_000, everyMs: 250 });
      running.push({ h, v, count });
    }
  }
  say(`breakdown: settling 5 s, measuring ${seconds} s`);
  await sleep(5000);
  const before = running.map(({ h }) => ({
    cpu: cpuMs(h.supervisorPids()),
    cs: contextSwitches(h.supervisorPids()),
  }));
  await sleep(seconds * 1000);
  const rows = running.map(({ h, v, count }, i) => {
    const cpu = cpuMs(h.supervisorPids()) - before[i].cpu;
    const cs = contextSwitches(h.supervisorPids()) - before[i].cs;
    const mem = memoryKiB(h.supervisorPids());
    return `| ${count} | ${v.name} | ${fmt((cpu / seconds) * 60)} | ${fmt(cs / seconds)} | ${fmt(mem.rss / 1024)} |`;
  });
  console.log(
    [
      `Idle tend, one shared ${seconds} s window; CPU = utime + stime of tend's process.\n`,
      '| services | variant | CPU ms per 60 s | wake-ups/s (context switches) | RSS MiB |',
      '|--:|---|--:|--:|--:|',
      ...rows,
    ].join('\n'),
  );
} finally {
  await Promise.all(running.map(({ h }) => h.stop({ timeoutMs: 30_000 })));
  await finish();
}
