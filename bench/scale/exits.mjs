#!/usr/bin/env node
// What one exit costs tend's process as the number of its live children grows: N idle services started by
// fastSpawn (posix_spawn), with the subreaper and the orphan reaper as `tend up` has them, then one more child
// killed and replaced `rounds` times. Per size: kill → its 'exit' event (median, p90), tend's CPU per exit and
// respawn (process.cpuUsage: user + system, this process only), and one waitid(WNOWAIT) peek (the kernel's walk
// over the list of children). Uses the build (dist/): run `npm run build` first.
//
//   node bench/scale/exits.mjs [--counts 100,1000,5000] [--rounds 30] [--dist dist]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, sleep } from '../lib/util.mjs';

const a = parseArgs();
const counts = a.get('counts') ? a.list('counts').map(Number) : [100, 1000, 5000];
const rounds = Number(a.get('rounds') ?? 30);
const dist = resolve(a.get('dist') ?? 'dist');
const procs = await import(pathToFileURL(`${dist}/procs/index.js`).href);
const { loadLibc } = await import(pathToFileURL(`${dist}/procs/native.js`).href);
const { libc } = loadLibc();
procs.becomeSubreaper();
procs.startReaper();
const env = { PATH: '/usr/bin:/bin', TEND_BENCH_RUN: process.env.TEND_BENCH_RUN ?? 'exits' };
const spawn = () => procs.fastSpawn('sleep', ['600'], { cwd: '/', env });

const pct = (xs, p) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const rows = [];
const idle = [];
try {
  for (const n of counts) {
    while (idle.length < n) idle.push(spawn());
    await sleep(1000);
    const lat = [];
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < rounds; i++) {
      const c = spawn();
      await sleep(20);
      const exited = new Promise((r) => c.once('exit', r));
      const t = process.hrtime.bigint();
      process.kill(c.pid, 'SIGKILL');
      await exited;
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const cpu = process.cpuUsage(cpu0);
    // WEXITED | WNOHANG | WNOWAIT | __WALL, nothing to find: the whole list is walked
    const info = Buffer.alloc(128);
    const peeks = 2000;
    const t = process.hrtime.bigint();
    // a build from before exits.ts has no waitid binding
    if (libc.waitid) for (let i = 0; i < peeks; i++) libc.waitid(0, 0, info, 4 | 1 | 0x01000000 | 0x40000000);
    rows.push({
      children: n,
      exitMedianMs: +pct(lat, 0.5).toFixed(2),
      exitP90Ms: +pct(lat, 0.9).toFixed(2),
      cpuMsPerExit: +((cpu.user + cpu.system) / 1000 / rounds).toFixed(2),
      peekUs: libc.waitid ? +(Number(process.hrtime.bigint() - t) / 1e3 / peeks).toFixed(1) : undefined,
    });
  }
} finally {
  for (const c of idle) process.kill(c.pid, 'SIGKILL');
}
console.table(rows);
process.exit(0);
