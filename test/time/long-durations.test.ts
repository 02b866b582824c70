/**
 * Every timer tend sets from a user's duration survives the largest duration the manifest accepts (issue 20):
 * parseDuration takes up to Number.MAX_SAFE_INTEGER ms, and Node's setTimeout fires a delay past 2^31-1 ms
 * after 1 ms with a TimeoutOverflowWarning (AbortSignal.timeout throws past 2^32). Here every such duration is
 * set to that largest value in one manifest, run through the built CLI: no warning, no error, and nothing
 * fires early — the crashing service is not restarted, the waiting ones do not give up, the changed key is not
 * rendered before its quiescence, the stage, probe, hook and webhook do not time out.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEASE_TTL_MAX_S } from '../../src/kv/etcd.js';
import { openKv } from '../../src/kv/index.js';
import { parseDuration } from '../../src/manifest/units.js';
import {
  type Effect,
  type Input,
  initialModel,
  type Model,
  transition,
} from '../../src/supervisor/machine.js';
import { setLongTimeout } from '../../src/time/index.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { freePort, startEtcd } from '../helpers/etcd.js';
import { servicePlan } from '../helpers/plan.js';
import { alive, sleep, waitFor } from '../helpers/wait.js';

const BIG = `${Number.MAX_SAFE_INTEGER}ms`;

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the largest accepted duration', () => {
  it('is what parseDuration accepts, and a long timer holds it without a warning', async () => {
    expect(parseDuration(BIG)).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => parseDuration(`${Number.MAX_SAFE_INTEGER + 2}ms`)).toThrow(/too large/);
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      let fired = false;
      const t = setLongTimeout(() => {
        fired = true;
      }, Number.MAX_SAFE_INTEGER);
      await sleep(50);
      expect(fired).toBe(false);
      expect(t.pending).toBe(true);
      t.clear();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });

  it('in every duration of a manifest: no TimeoutOverflowWarning, nothing fires early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-long-durations-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'kv/app'), { recursive: true });
    writeFileSync(join(dir, 'kv/app/v'), 'one');
    writeFileSync(join(dir, 'web.tmpl'), 'v={{ key "app/v" }}\n');
    writeFileSync(join(dir, 'missing.tmpl'), 'v={{ key "app/nope" }}\n');
    const webPort = await freePort();
    const sockPort = await freePort();
    let hooks = 0;
    const hook = createServer((req, res) => {
      hooks++;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    servers.push(hook);
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const hookPort = (hook.address() as { port: number }).port;
    const restart = `{ max_failures: 0, min_uptime: ${BIG}, window: ${BIG}, cooldown: ${BIG}, reset_after: ${BIG}, backoff: { initial: ${BIG}, max: ${BIG} } }`;
    writeFileSync(
      join(dir, 'tend.yaml'),
      `stages:
  boot: { command: "true", timeout: ${BIG} }
  monitor: { command: "echo {}", interval: ${BIG}, timeout: ${BIG} }
notify:
  - { webhook: "http://127.0.0.1:${hookPort}/", timeout: ${BIG} }
  - { exec: "cat > /dev/null", timeout: ${BIG}, events: [service] }
services:
  web:
    command: exec python3 -m http.server ${webPort} --bind 127.0.0.1
    ready: { http: "http://127.0.0.1:${webPort}/", timeout: ${BIG} }
    health: { http: "http://127.0.0.1:${webPort}/", interval: ${BIG}, timeout: ${BIG}, grace: ${BIG} }
    register: { port: ${webPort}, ttl: ${BIG} }
    stop: { timeout: ${BIG} }
    finish: "true"
    finish_timeout: ${BIG}
    restart: ${restart}
    templates:
      - { source: web.tmpl, destination: out/web.conf, wait: { min: ${BIG}, max: ${BIG} }, missing_timeout: ${BIG} }
  flappy:
    command: exit 1
    restart: ${restart}
    stop: { timeout: ${BIG} }
  slowready:
    command: exec sleep 600
    ready: { exec: "false", interval: ${BIG}, timeout: ${BIG} }
  waiter:
    command: exec sleep 600
    requires: [nobody]
    requires_timeout: ${BIG}
  incomplete:
    command: exec sleep 600
    templates:
      - { source: missing.tmpl, destination: out/missing.conf, missing_timeout: ${BIG} }
  sock:
    command: echo $$$$ >> sock.pids; exec sleep 600
    listen: ["127.0.0.1:${sockPort}"]
    restart: { overlap: ${BIG} }
    stop: { timeout: ${BIG} }
  cronjob:
    command: "true"
    schedule: "0 0 29 2 *"
`,
    );
    const check = runTend(['check'], { cwd: dir });
    expect(check.code, check.stderr).toBe(0);

    const tend = startTend(['up'], { cwd: dir });
    const status = () => {
      const r = runTend(['status', '--json'], { cwd: dir });
      if (r.code !== 0) return undefined;
      const v = JSON.parse(r.stdout) as {
        services: Array<{ name: string; state: string; restarts: number; ready: boolean }>;
      };
      return Object.fromEntries(v.services.map((s) => [s.name, s]));
    };
    await waitFor(
      () =>
        status()?.web?.state === 'ready' &&
        status()?.flappy?.state === 'backoff' &&
        status()?.flappy?.restarts === 1,
      {
        timeoutMs: 30_000,
        what: 'web ready, flappy in backoff after its one immediate restart',
      },
    );
    expect(readFileSync(join(dir, 'out/web.conf'), 'utf8')).toBe('v=one\n');
    await waitFor(() => hooks > 0, { what: 'a webhook delivery' });

    // a restart with overlap: the old process keeps serving beside the new one (not stopped after 1 ms)
    const pids = () => readFileSync(join(dir, 'sock.pids'), 'utf8').trim().split('\n').map(Number);
    await waitFor(() => pids().length === 1, { what: 'sock started' });
    expect(runTend(['restart', 'sock', '--no-wait'], { cwd: dir }).code).toBe(0);
    await waitFor(() => pids().length === 2, { what: 'the new sock process' });
    const [oldPid, newPid] = pids();

    // a change waits out wait.min (not 1 ms); the others keep waiting rather than giving up
    writeFileSync(join(dir, 'kv/app/v'), 'two');
    await sleep(1500);
    const s = status();
    // the first crash restarts at once; the second waits out backoff.initial
    expect(s?.flappy).toMatchObject({ state: 'backoff', restarts: 1 });
    // its ready probe failed once; the next attempt is far off, and the ready timeout has not fired
    expect(s?.slowready).toMatchObject({ state: 'running', ready: false });
    expect(s?.waiter?.state).toBe('waiting');
    expect(s?.incomplete?.state).toBe('waiting');
    expect(s?.web?.state).toBe('ready');
    expect(readFileSync(join(dir, 'out/web.conf'), 'utf8')).toBe('v=one\n');
    expect(alive(oldPid)).toBe(true);
    expect(alive(newPid)).toBe(true);

    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
    expect(tend.output()).not.toMatch(
      /TimeoutOverflowWarning|RangeError|ERR_OUT_OF_RANGE|no answer within|timed out|did not finish/,
    );
  });

  it('as an etcd registration TTL: held at what the client can time, and kept alive without a warning', async () => {
    // the etcd3 client times keep-alives with setInterval(TTL/3) and a setTimeout(TTL): past 2^31 ms they
    // fire at once (a spin of keep-alives, then the lease given up as timed out)
    const etcd = await startEtcd();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const kv = openKv(`${etcd.url}/long-ttl/`, { env: {} });
    try {
      const lease = await kv.grantLease(Number.MAX_SAFE_INTEGER);
      expect(lease.ttlMs).toBe(LEASE_TTL_MAX_S * 1000);
      let lost = false;
      lease.onLost(() => {
        lost = true;
      });
      await sleep(1500);
      expect(lost).toBe(false);
      await lease.revoke();
    } finally {
      process.off('warning', onWarning);
      await kv.close();
      await etcd.close();
    }
    expect(warnings).toEqual([]);
  });

  it("in the machine's timers (backoff, cooldown, kill): each asks for the full delay, and a long timer holds it", async () => {
    const M = Number.MAX_SAFE_INTEGER;
    const plan = servicePlan('w', 'false', {
      restart: {
        backoff: { initialMs: M, maxMs: M },
        maxFailures: 3,
        minUptimeMs: M,
        windowMs: M,
        cooldownMs: M,
        resetAfterMs: M,
      },
      stop: { timeoutMs: M },
    });
    let m: Model = initialModel();
    const timers: Array<Extract<Effect, { t: 'timer' }>> = [];
    const feed = (input: Record<string, unknown>, now: number) => {
      const r = transition(m, { ...input, now } as Input, plan, 1);
      m = r.model;
      for (const e of r.effects) if (e.t === 'timer') timers.push(e);
    };
    feed({ t: 'start' }, 0);
    feed({ t: 'spawned', pid: 1 }, 0);
    feed({ t: 'exit', code: 1, signal: null }, 10); // at once
    feed({ t: 'spawned', pid: 2 }, 10);
    feed({ t: 'exit', code: 1, signal: null }, 20); // backoff
    expect(m.state).toBe('backoff');
    feed({ t: 'timer', name: 'backoff' }, 30);
    feed({ t: 'spawned', pid: 3 }, 30);
    feed({ t: 'exit', code: 1, signal: null }, 40); // the third failure within window: failed, cooldown
    expect(m.state).toBe('failed');
    feed({ t: 'start' }, 50);
    feed({ t: 'spawned', pid: 4 }, 50);
    feed({ t: 'stop' }, 60); // kill after stop.timeout
    const byName = Object.fromEntries(timers.map((t) => [t.name, t.ms]));
    // jitter spreads backoff over [d/2, d]: still far past what setTimeout holds
    expect(byName.backoff).toBeGreaterThanOrEqual(M / 2);
    expect(byName.cooldown).toBe(M);
    expect(byName.kill).toBe(M);

    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    let fired = 0;
    const armed = timers.map((t) => setLongTimeout(() => fired++, t.ms));
    await sleep(50);
    for (const t of armed) t.clear();
    process.off('warning', onWarning);
    expect(fired).toBe(0);
    expect(warnings).toEqual([]);
  });
});
