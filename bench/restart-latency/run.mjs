#!/usr/bin/env node
// Restart latency: time from a child's exit to its replacement's first instruction, under each supervisor, on
// the same C child (child.c: stamps `start`, lives 1.2 s, stamps `exit`, exits 1). The supervisors take turns
// in rounds (tend, runit, supervisord, pm2, tend, …) so that a noisy minute on the shared machine spreads over
// all of them instead of landing on one.
//
//   node bench/restart-latency/run.mjs [--quick] [--rounds 3] [--restarts 15] [--only tend,runit]
//
// Needs `npm run build` and cc; peers that are not installed are reported as such.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePeers } from '../lib/peers.mjs';
import { NAMES, start, svcDir } from '../lib/supervisors.mjs';
import { fmt, parseArgs, percentile, ratio, say, sleep } from '../lib/util.mjs';
import { compile, finish, subdir } from '../lib/workdir.mjs';

export const LIFE_MS = 1200;

/** Latencies (ms) between each `exit` stamp and the next `start` stamp. */
export function latencies(text) {
  const out = [];
  let lastExit;
  for (const l of text.trim().split('\n')) {
    const [what, t] = l.split(' ');
    if (what === 'exit') lastExit = Number(t);
    else if (what === 'start' && lastExit !== undefined) {
      out.push((Number(t) - lastExit) * 1000);
      lastExit = undefined;
    }
  }
  return out;
}

async function oneRound(name, restarts, round) {
  const dir = subdir('restart', `${name}-${round}`);
  const child = compile('restart-latency/child.c', 'restart-child');
  const h = await start(name, dir, [{ name: 'child', argv: [child], log: false }], { quickRestart: true });
  const times = join(svcDir(dir, 'child'), 'times');
  const deadline = Date.now() + (restarts + 3) * (LIFE_MS + 1500) + 15_000;
  try {
    for (;;) {
      const text = existsSync(times) ? readFileSync(times, 'utf8') : '';
      const lat = latencies(text);
      if (lat.length >= restarts) return { lat: lat.slice(0, restarts) };
      if (Date.now() > deadline || !h.alive())
        return {
          lat,
          error: `${lat.length} of ${restarts} restarts seen${h.alive() ? '' : '; supervisor died'}`,
        };
      await sleep(250);
    }
  } finally {
    await h.stop();
  }
}

/** { name: { p50, p95, n, all } | { skipped } } */
export async function run({ quick = false, rounds, restarts, only = NAMES, peers } = {}) {
  rounds ??= quick ? 1 : 3;
  restarts ??= quick ? 8 : 15;
  const results = {};
  const samples = {};
  for (const name of only) {
    if (name !== 'tend' && peers && !peers[name]?.ok)
      results[name] = { skipped: peers[name]?.why ?? 'not installed' };
    else samples[name] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(samples)) {
      say(`restart latency: ${name}, round ${r + 1}/${rounds} (${restarts} restarts)`);
      const { lat, error } = await oneRound(name, restarts, r);
      samples[name].push(...lat);
      if (error) say(`restart latency: ${name}: ${error}`);
      if (error && lat.length === 0) results[name] = { skipped: error };
    }
  }
  for (const [name, xs] of Object.entries(samples)) {
    if (results[name]) continue;
    results[name] = { p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs), n: xs.length };
  }
  return results;
}

export function table(results) {
  const t = results.tend?.p50;
  const rows = Object.entries(results).map(([name, r]) =>
    r.skipped
      ? `| ${name} | – | – | – | – | not measured: ${r.skipped} |`
      : `| ${name} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.max)} | ${r.n} | ${ratio(r.p50, t)} |`,
  );
  return [
    '| supervisor | p50 ms | p95 ms | max ms | restarts | p50 vs tend |',
    '|---|--:|--:|--:|--:|--:|',
    ...rows,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  try {
    const peers = ensurePeers({ install: !a.flag('no-install') });
    const res = await run({
      quick: a.flag('quick'),
      rounds: a.get('rounds') && Number(a.get('rounds')),
      restarts: a.get('restarts') && Number(a.get('restarts')),
      only: a.list('only', NAMES),
      peers,
    });
    console.log(`Restart latency: child exit → replacement's first instruction (child lives 1.2 s)\n`);
    console.log(table(res));
  } finally {
    await finish();
  }
}
