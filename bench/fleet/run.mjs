#!/usr/bin/env node
// The fleet (issue 17, docs/fleet.md), tend only: none of the peers publishes a status per instance or rolls a
// config change through a fleet. Against a real etcd started here on free ports:
//
// (a) At rest: the cost of the fleet status document. One tend (two services, one template) runs without and then
//     with TEND_FLEET=on; once it is up and settled, etcd's own counters (its /metrics: etcd_mvcc_put_total,
//     _delete_total, _txn_total, etcd_server_proposals_committed_total, etcd_debugging_lease_renewed_total, and
//     the gRPC messages per method) are read at the start and end of the same window. The goal: no write at rest,
//     the lease keep-alive (every TTL/3) as the only traffic. Also the writes one config change causes (a key the
//     template reads changes, the service restarts), counted by a watch on fleet/.
// (b) A rollout: N tends (10; 5 with --quick) of one app, each with one service behind `ready: { log }` (child.c:
//     500 ms of warm-up), a template with `on_change: restart` and `rollout: { max_parallel: K }`. One put of the
//     key the template reads; from the services' own stamps: the total time (put → the last one ready again)
//     against the sum of each tend's restart plus ready time (SIGTERM → ready on the new config), and the most
//     services not ready at once (must stay ≤ K). Also without `rollout:`, where all restart together.
//
//   node bench/fleet/run.mjs [--quick] [--window 60] [--tends 10] [--changes 3] [--parallel 0,1,3]
//                            [--only rest,rollout] [--write]        (--parallel: max_parallel per pass, 0: no rollout:)
//
// Needs `npm run build`, cc, and etcd (Debian's etcd-server: /usr/bin/etcd, or $TEND_BENCH_ETCD). --write stores
// the tables in bench/fleet/RESULTS.md. Every process carries the run's marker (lib/workdir.mjs) and is swept.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Etcd3 } from 'etcd3';
import { cpuMs } from '../lib/proc.mjs';
import { TEND_MAIN } from '../lib/supervisors.mjs';
import { fmt, machine, median, parseArgs, say, sleep, versionOf, waitFor } from '../lib/util.mjs';
import { compile, finish, onCleanup, subdir, workdir } from '../lib/workdir.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ETCD = process.env.TEND_BENCH_ETCD ?? '/usr/bin/etcd';
/** the service's warm-up before it says ready (child.c) */
const READY_MS = 500;
/** wall-clock ms with sub-ms precision, comparable with the child's CLOCK_REALTIME */
const now = () => performance.timeOrigin + performance.now();

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

/** A process of this run: stopped at cleanup (SIGTERM to its group, SIGKILL after 5 s). */
function launch(cmd, args, opts) {
  const child = spawn(cmd, args, { ...opts, env: { ...workdir().env, ...opts.env }, detached: true });
  let out = '';
  child.stdout?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  child.stderr?.on('data', (d) => {
    out = (out + d).slice(-20_000);
  });
  const exited = new Promise((r) => child.once('exit', r));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, 5000);
    await exited;
    clearTimeout(t);
  };
  onCleanup(stop);
  return { child, stop, output: () => out };
}

async function startEtcd() {
  const client = await freePort();
  const peer = await freePort();
  const p = launch(
    ETCD,
    [
      '--name=bench',
      `--data-dir=${subdir('fleet', 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${client}`,
      `--advertise-client-urls=http://127.0.0.1:${client}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=bench=http://127.0.0.1:${peer}`,
      '--log-level=error',
      '--logger=zap',
    ],
    { stdio: 'ignore' },
  );
  const ok = await waitFor(
    async () => {
      if (p.child.exitCode !== null) throw new Error('etcd exited at start');
      try {
        return (await fetch(`http://127.0.0.1:${client}/health`)).ok;
      } catch {
        return false;
      }
    },
    { timeoutMs: 15_000, everyMs: 100 },
  );
  if (!ok) throw new Error('etcd did not answer /health within 15 s');
  const endpoint = `127.0.0.1:${client}`;
  const etcd = new Etcd3({ hosts: `http://${endpoint}` });
  onCleanup(() => etcd.close());
  return { endpoint, etcd, stop: p.stop };
}

/** etcd's counters that say what reached the store (its own /metrics), summed per name and per gRPC method. */
async function etcdCounters(endpoint) {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const c = { puts: 0, deletes: 0, txns: 0, proposals: 0, leaseRenewed: 0, grpc: {} };
  const seen = new Set();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const key = line.slice(0, sp);
    const v = Number(line.slice(sp + 1));
    const name = key.replace(/\{.*$/, '');
    // etcd 3.4 has both the stable and the older "debugging" name of the mvcc counters: one of each is read
    const mvcc = /^etcd_(?:debugging_)?mvcc_(put|delete|txn)_total$/.exec(name);
    if (mvcc) {
      const f = { put: 'puts', delete: 'deletes', txn: 'txns' }[mvcc[1]];
      if (!seen.has(f) || !name.includes('debugging')) c[f] = v;
      seen.add(f);
    } else if (name === 'etcd_server_proposals_committed_total') c.proposals = v;
    else if (name === 'etcd_debugging_lease_renewed_total') c.leaseRenewed = v;
    else if (name === 'grpc_server_msg_received_total') {
      const method = /grpc_method="([^"]+)"/.exec(key)?.[1];
      if (method) c.grpc[method] = (c.grpc[method] ?? 0) + v;
    }
  }
  return c;
}

function diff(a, b) {
  const grpc = {};
  for (const [m, v] of Object.entries(b.grpc)) {
    const d = v - (a.grpc[m] ?? 0);
    if (d !== 0) grpc[m] = d;
  }
  return {
    puts: b.puts - a.puts,
    deletes: b.deletes - a.deletes,
    txns: b.txns - a.txns,
    proposals: b.proposals - a.proposals,
    leaseRenewed: b.leaseRenewed - a.leaseRenewed,
    grpc,
  };
}

/** Starts `tend up` in dir; resolves once it printed `app UP`. */
async function tendUp(dir, env) {
  const t = launch(process.execPath, [TEND_MAIN, 'up'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const up = await waitFor(
    () => {
      if (t.child.exitCode !== null)
        throw new Error(`tend exited ${t.child.exitCode} in ${dir}:\n${t.output()}`);
      return /app UP/.test(t.output());
    },
    { timeoutMs: 60_000, everyMs: 50 },
  );
  if (!up) throw new Error(`tend in ${dir} was not UP within 60 s:\n${t.output()}`);
  return t;
}

/** (a) one tend at rest, without and with the fleet document; and the writes of one config change. */
async function atRest({ endpoint, etcd }, { windowS, settleS }) {
  const out = { windowS, settleS };
  for (const mode of ['off', 'on']) {
    const ns = `rest-${mode}/`;
    const dir = subdir('fleet', `rest-${mode}`);
    await etcd.put(`${ns}app/msg`).value('v1');
    writeFileSync(join(dir, 'web.tmpl'), 'msg={{ key "app/msg" }}\n');
    writeFileSync(
      join(dir, 'tend.yaml'),
      `name: shop
kv: etcd://${endpoint}/${ns}
services:
  web:
    command: [/bin/sleep, infinity]
    logs: { file: false, stdout: false }
    templates:
      - { source: web.tmpl, destination: etc/web.conf, wait: 0s, on_change: restart }
  worker:
    command: [/bin/sleep, infinity]
    logs: { file: false, stdout: false }
`,
    );
    say(`fleet: at rest, TEND_FLEET=${mode}: settling ${settleS} s, then ${windowS} s`);
    const t = await tendUp(dir, mode === 'on' ? { TEND_FLEET: 'on', TEND_FLEET_NAME: 'host-1' } : {});
    const fleetWrites = [];
    const watcher = await etcd.watch().prefix(`${ns}fleet/`).create();
    watcher.on('put', () => fleetWrites.push(now()));
    watcher.on('delete', () => fleetWrites.push(now()));
    await sleep(settleS * 1000);
    const before = await etcdCounters(endpoint);
    const cpu0 = cpuMs([t.child.pid]);
    const w0 = fleetWrites.length;
    await sleep(windowS * 1000);
    const after = await etcdCounters(endpoint);
    const r = {
      ...diff(before, after),
      fleetWrites: fleetWrites.length - w0,
      tendCpuMs: cpuMs([t.child.pid]) - cpu0,
    };
    if (mode === 'on') {
      // one change the template reads: web restarts; how many times is the document rewritten for it?
      const c0 = fleetWrites.length;
      await etcd.put(`${ns}app/msg`).value('v2');
      await sleep(3000);
      r.changeWrites = fleetWrites.length - c0;
    }
    await watcher.cancel();
    await t.stop();
    out[mode] = r;
  }
  return out;
}

/** "what T" lines of a service's ./times, as { what, at } (ms) */
function stamps(dir) {
  const p = join(dir, 'times');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [what, t] = l.split(' ');
      return { what, at: Number(t) * 1000 };
    });
}

/** This tend's restart after t0: its SIGTERM and the next ready, or undefined until both are there. */
function restartAfter(dir, t0) {
  const s = stamps(dir);
  const term = s.find((x) => x.what === 'term' && x.at >= t0);
  if (!term) return undefined;
  const start = s.find((x) => x.what === 'start' && x.at > term.at);
  const ready = s.find((x) => x.what === 'ready' && x.at > term.at);
  return start && ready ? { term: term.at, start: start.at, ready: ready.at } : undefined;
}

/** The most intervals [term, ready] that overlap at one instant. */
function mostAtOnce(list) {
  const ev = list.flatMap((r) => [
    [r.term, 1],
    [r.ready, -1],
  ]);
  ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let n = 0;
  let most = 0;
  for (const [, d] of ev) {
    n += d;
    most = Math.max(most, n);
  }
  return most;
}

/** (b) N tends, one change rolled `changes` times per mode; max_parallel K per mode (0: no rollout key). */
async function rollout({ endpoint, etcd }, { tends, changes, modes }) {
  const child = compile('fleet/child.c', 'fleet-child');
  const out = { tends, changes, readyMs: READY_MS, modes: {} };
  for (const k of modes) {
    const ns = `roll-${k}/`;
    await etcd.put(`${ns}app/msg`).value('v0');
    const dirs = [];
    const running = [];
    say(`fleet: rollout over ${tends} tends, ${k ? `max_parallel ${k}` : 'no rollout key'}: starting them`);
    try {
      for (let i = 0; i < tends; i++) {
        const dir = subdir('fleet', `roll-${k}`, `t${i}`);
        dirs.push(dir);
        writeFileSync(join(dir, 'app.tmpl'), 'msg={{ key "app/msg" }}\n');
        writeFileSync(
          join(dir, 'tend.yaml'),
          `name: roll
kv: etcd://${endpoint}/${ns}
services:
  app:
    command: [${JSON.stringify(child)}]
    env: { READY_MS: "${READY_MS}" }
    logs: { file: false, stdout: false }
    ready: { log: "^ready$", timeout: 60s }
    stop: { timeout: 5s }
${k ? `    rollout: { max_parallel: ${k}, ready_timeout: 30s }\n` : ''}    templates:
      - { source: app.tmpl, destination: etc/app.conf, wait: 0s, on_change: restart }
`,
        );
      }
      // started together (as a fleet's hosts would be), each waited for
      const starting = dirs.map((dir, i) =>
        tendUp(dir, { TEND_FLEET: 'on', TEND_FLEET_NAME: `t${i}` }).then((t) => running.push(t)),
      );
      await Promise.all(starting);
      await waitFor(() => dirs.every((d) => stamps(d).some((s) => s.what === 'ready')), {
        timeoutMs: 60_000,
        everyMs: 100,
      });
      await sleep(2000);
      const runs = [];
      for (let c = 1; c <= changes; c++) {
        const t0 = now();
        await etcd.put(`${ns}app/msg`).value(`v${c}`);
        const limitMs = 30_000 + tends * (READY_MS + 5000);
        const all = await waitFor(
          () => {
            const r = dirs.map((d) => restartAfter(d, t0));
            return r.every(Boolean) ? r : undefined;
          },
          { timeoutMs: limitMs, everyMs: 20 },
        );
        if (!all) {
          const done = dirs.filter((d) => restartAfter(d, t0)).length;
          runs.push({ failed: `only ${done} of ${tends} restarted and ready within ${limitMs / 1000} s` });
          break;
        }
        const each = all.map((r) => r.ready - r.term);
        const sum = each.reduce((a, b) => a + b, 0);
        runs.push({
          totalMs: Math.max(...all.map((r) => r.ready)) - t0,
          sumMs: sum,
          meanMs: sum / tends,
          // SIGTERM → the new process's first instruction: stop, render already done, spawn
          restartMs: all.reduce((a, r) => a + (r.start - r.term), 0) / tends,
          maxMs: Math.max(...each),
          firstMs: Math.min(...all.map((r) => r.term)) - t0,
          atOnce: mostAtOnce(all),
        });
        say(
          `fleet: change ${c}: all ${tends} ready after ${fmt(runs.at(-1).totalMs)} ms (sum of restart+ready ${fmt(sum)} ms, at most ${runs.at(-1).atOnce} at once)`,
        );
        await sleep(1000);
      }
      const ok = runs.filter((r) => !r.failed);
      const med = (f) => median(ok.map(f));
      out.modes[k] = ok.length
        ? {
            maxParallel: k,
            runs,
            totalMs: med((r) => r.totalMs),
            sumMs: med((r) => r.sumMs),
            meanMs: med((r) => r.meanMs),
            restartMs: med((r) => r.restartMs),
            maxMs: med((r) => r.maxMs),
            firstMs: med((r) => r.firstMs),
            atOnce: Math.max(...ok.map((r) => r.atOnce)),
          }
        : { maxParallel: k, skipped: runs[0]?.failed ?? 'no change measured' };
    } finally {
      await Promise.all(running.map((t) => t.stop()));
    }
  }
  return out;
}

/** { rest, rollout } (or { skipped }) */
export async function run({
  quick = false,
  windowS,
  tends,
  changes,
  parallel,
  only = ['rest', 'rollout'],
} = {}) {
  if (!existsSync(ETCD)) return { skipped: `no etcd at ${ETCD}` };
  if (!existsSync(TEND_MAIN)) return { skipped: `${TEND_MAIN} is missing: run \`npm run build\` first` };
  windowS ??= quick ? 15 : 60;
  tends ??= quick ? 5 : 10;
  changes ??= quick ? 1 : 3;
  const store = await startEtcd();
  const out = {
    etcd: versionOf(ETCD, ['--version'], /etcd Version: (\S+)/),
    load: loadavg().map((x) => x.toFixed(2)),
  };
  try {
    if (only.includes('rest')) out.rest = await atRest(store, { windowS, settleS: quick ? 5 : 20 });
    if (only.includes('rollout'))
      out.rollout = await rollout(store, { tends, changes, modes: parallel ?? (quick ? [0, 1] : [0, 1, 3]) });
  } finally {
    await store.stop();
  }
  out.loadAfter = loadavg().map((x) => x.toFixed(2));
  return out;
}

const perMin = (n, s) => (n * 60) / s;

/** The markdown of both parts. */
export function table(R) {
  if (!R || R.skipped) return `_not measured: ${R?.skipped ?? 'not run'}_`;
  const parts = [];
  const rest = R.rest;
  if (rest) {
    const row = (label, r) =>
      `| ${label} | ${fmt(perMin(r.puts, rest.windowS))} | ${fmt(perMin(r.deletes + r.txns, rest.windowS))} | ${fmt(perMin(r.proposals, rest.windowS))} | ${fmt(perMin(r.fleetWrites, rest.windowS))} | ${fmt(perMin(r.grpc.LeaseKeepAlive ?? 0, rest.windowS))} | ${fmt(perMin(r.leaseRenewed, rest.windowS))} | ${fmt(perMin(r.grpc.Range ?? 0, rest.windowS))} | ${fmt(r.tendCpuMs)} |`;
    parts.push(
      `At rest, per minute (a ${rest.windowS} s window after ${rest.settleS} s of settling; etcd's own counters):

| tend | puts | deletes + txns | raft proposals | writes under fleet/ (watch) | keep-alive messages | leases renewed | reads (Range) | tend CPU ms in the window |
|---|--:|--:|--:|--:|--:|--:|--:|--:|
${row('without the fleet document', rest.off)}
${row('with TEND_FLEET=on (TTL 15 s)', rest.on)}

One config change (the template's key; the service restarts): ${rest.on.changeWrites} write${rest.on.changeWrites === 1 ? '' : 's'} of the document.`,
    );
  }
  const roll = R.rollout;
  if (roll) {
    const rows = Object.values(roll.modes).map((m) => {
      const label = m.maxParallel ? `max_parallel ${m.maxParallel}` : 'no `rollout:` (all at once)';
      if (m.skipped) return `| ${label} | – | – | – | – | – | – | not measured: ${m.skipped} |`;
      const k = m.maxParallel || roll.tends;
      // the serial work a bound of k cannot avoid: ⌈n/k⌉ steps of one tend's restart + ready (with k = 1, the
      // sum); without rollout: every tend at once, the slowest one
      const steps = Math.ceil(roll.tends / k);
      const ideal = m.maxParallel ? steps * m.meanMs : m.maxMs;
      const bounded =
        m.atOnce <= k
          ? `${m.atOnce}`
          : `${m.atOnce} ❌ (more than max_parallel: the rollout did not bound it)`;
      return `| ${label} | ${fmt(m.totalMs / 1000)} | ${fmt(m.sumMs / 1000)} | ${fmt(m.meanMs)} (${fmt(m.restartMs)}) | ${fmt(m.totalMs / ideal, 3)}x | ${fmt((m.totalMs - ideal) / steps)} | ${fmt(m.firstMs)} | ${bounded} |`;
    });
    parts.push(
      `A rollout over ${roll.tends} tends (each service: ${roll.readyMs} ms of warm-up, \`ready: { log }\`), median of ${roll.changes} change${roll.changes === 1 ? '' : 's'}:

| | total, s (put → last ready) | sum of restart + ready, s | one tend's restart + ready (of which SIGTERM → new process), ms | total / ideal | coordination per step, ms | put → first SIGTERM, ms | most not ready at once |
|---|--:|--:|--:|--:|--:|--:|--:|
${rows.join('\n')}

"Restart + ready" is one tend's SIGTERM → its service ready on the new config (stamped by the service itself).
With \`max_parallel: k\` the n tends go in ⌈n/k⌉ steps: the ideal is ⌈n/k⌉ × one tend's restart + ready (with k = 1,
the sum); "coordination per step" is what the total adds to it, per step (render, the slot handed over in the
store, readiness noticed). Without \`rollout:\` the ideal is the slowest tend's restart + ready.`,
    );
  }
  return parts.join('\n\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const a = parseArgs();
  let code = 0;
  try {
    const quick = a.flag('quick');
    const res = await run({
      quick,
      windowS: a.get('window') && Number(a.get('window')),
      tends: a.get('tends') && Number(a.get('tends')),
      changes: a.get('changes') && Number(a.get('changes')),
      parallel: a.get('parallel') && a.list('parallel').map(Number),
      only: a.list('only', ['rest', 'rollout']),
    });
    const md = table(res);
    console.log(md);
    if (a.flag('write')) {
      writeFileSync(
        join(HERE, 'RESULTS.md'),
        `# Fleet benchmark

\`node bench/fleet/run.mjs${quick ? ' --quick' : ''} --write\` (after \`npm run build\`), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.
Machine: ${machine().text}; etcd ${res.etcd ?? '?'}. Load average before ${res.load?.join(', ')}, after ${res.loadAfter?.join(', ')} (a shared machine).

${md}
`,
      );
      say(`wrote ${join(HERE, 'RESULTS.md')}`);
    }
  } catch (e) {
    say(`fleet failed: ${e.stack ?? e}`);
    code = 1;
  } finally {
    await finish(code);
  }
}
