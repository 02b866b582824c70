#!/usr/bin/env node
// What one child_process.spawn costs a Node process, by the size of that process. Node's spawn is synchronous:
// libuv forks the whole process and waits until the child has exec'd, so the event loop is blocked for it, and
// a fork copies the page tables of everything the process has mapped. Not part of `bench/run`; it backs the
// start-up finding in bench/RESULTS.md (tend's RSS is a start-up and restart latency cost, not only memory).
//
//   node --expose-gc bench/startup/spawn-cost.mjs [--spawns 200]
//
// Each variant: grow the process by a ballast of touched memory, spawn `sleep` N times in a row (detached, as
// tend does), divide. Three rounds, the variants interleaved; the median round is printed.
import { spawn } from 'node:child_process';
import { fmt, median, parseArgs, sleep } from '../lib/util.mjs';
import { finish, workdir } from '../lib/workdir.mjs';

const a = parseArgs();
const n = Number(a.get('spawns', 200));
const ballast = [];
const variants = [];
for (const mib of [0, 60, 120]) for (const stdio of ['pipe', 'ignore']) variants.push({ mib, stdio });
const results = new Map();
for (let round = 0; round < 3; round++) {
  for (const v of variants) {
    while (ballast.length < v.mib) ballast.push(Buffer.alloc(1 << 20, 1));
    while (ballast.length > v.mib) ballast.pop();
    globalThis.gc?.();
    const kids = [];
    const t = performance.now();
    for (let i = 0; i < n; i++) {
      kids.push(
        spawn('/bin/sleep', ['1000'], {
          env: workdir().env, // the run's marker: finish() kills any left behind
          detached: true,
          stdio: v.stdio === 'pipe' ? ['ignore', 'pipe', 'pipe'] : 'ignore',
        }),
      );
    }
    const ms = (performance.now() - t) / n;
    for (const k of kids) k.kill('SIGKILL');
    await sleep(300);
    const key = `${v.mib} MiB ballast, stdio ${v.stdio === 'pipe' ? "['ignore', 'pipe', 'pipe']" : "'ignore'"}`;
    if (!results.has(key)) results.set(key, { rss: process.memoryUsage().rss / 2 ** 20, ms: [] });
    results.get(key).ms.push(ms);
  }
}
console.log('| process | its RSS, MiB | ms per spawn (median of 3 rounds) | rounds |');
console.log('|---|--:|--:|---|');
for (const [k, r] of results) {
  console.log(`| ${k} | ${fmt(r.rss)} | ${fmt(median(r.ms))} | ${r.ms.map((x) => fmt(x)).join(', ')} |`);
}
await finish();
