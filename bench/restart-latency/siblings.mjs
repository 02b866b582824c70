#!/usr/bin/env node
// Restart latency of one service while the same supervisor also keeps N idle services (`sleep infinity`) up:
// a supervisor whose exit → respawn path does work per service gets slower as N grows. Restarts are counted
// only once all N siblings run. Not part of `bench/run`; it backs a finding in bench/RESULTS.md.
//
//   node bench/restart-latency/siblings.mjs [--counts 0,100,1000] [--restarts 12] [--only tend,runit]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePeers } from '../lib/peers.mjs';
import { start, svcDir } from '../lib/supervisors.mjs';
import { fmt, parseArgs, percentile, say, sleep, waitFor } from '../lib/util.mjs';
import { compile, finish, subdir } from '../lib/workdir.mjs';
import { latencies } from './run.mjs';

const a = parseArgs();
const counts = a.list('counts', ['0', '100', '1000']).map(Number);
const restarts = Number(a.get('restarts', 12));
const peers = ensurePeers({ install: false });
const only = a.list('only', ['tend', 'runit']).filter((n) => n === 'tend' || peers[n]?.ok);
const rows = [];
try {
  const child = compile('restart-latency/child.c', 'restart-child');
  for (const n of counts) {
    for (const name of only) {
      say(`siblings: ${name} with ${n} idle services`);
      const dir = subdir('siblings', `${name}-${n}`);
      const services = [
        { name: 'child', argv: [child], log: false },
        ...Array.from({ length: n }, (_, i) => ({
          name: `s${i}`,
          argv: ['/bin/sleep', 'infinity'],
          log: false,
        })),
      ];
      const h = await start(name, dir, services, { quickRestart: true });
      try {
        const times = join(svcDir(dir, 'child'), 'times');
        const seen = () => (existsSync(times) ? latencies(readFileSync(times, 'utf8')) : []);
        await waitFor(() => h.servicePids('sleep').length >= n, { timeoutMs: 60_000, everyMs: 250 });
        await sleep(2000);
        const skip = seen().length;
        await waitFor(() => seen().length >= skip + restarts, {
          timeoutMs: restarts * 3000 + 10_000,
          everyMs: 250,
        });
        const lat = seen().slice(skip);
        rows.push(
          `| ${n} | ${name} | ${fmt(percentile(lat, 50))} | ${fmt(percentile(lat, 95))} | ${lat.length} |`,
        );
      } finally {
        await h.stop({ timeoutMs: 30_000 });
      }
    }
  }
  console.log(
    ['| idle siblings | supervisor | p50 ms | p95 ms | restarts |', '|--:|---|--:|--:|--:|', ...rows].join(
      '\n',
    ),
  );
} finally {
  await finish();
}
