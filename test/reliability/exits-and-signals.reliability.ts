/**
 * Issue 14's rows on exits and signals, against the built `tend up` and real processes:
 *
 * - a reload (`on_change: reload`, `{ signal: SIGHUP }`) reaches Debian's real gunicorn master only, so its
 *   workers are replaced gracefully and a request in flight gets its answer (the signal used to go to the whole
 *   group: the workers died of SIGHUP, and `sh` in between died too and the service was restarted);
 * - `restart.prevent_exit_codes`: seed 000's run-lb-command pattern, a service that exits 3 while its config is
 *   incomplete, is not restarted until the config changes; an essential one ends tend with its code;
 * - `restart.success_exit_codes`: an essential service ending with one ends tend with 0.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend } from '../helpers/cli.js';
import { freePort } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';
import { allProcs, api, cleanupAll, project, sleep, status, tally } from './helpers.js';

afterEach(cleanupAll);

/** A WSGI app with a slow endpoint that says (in a file) when it has the request in hand. */
const APP_PY = `import os, time

def app(environ, start_response):
    if environ['PATH_INFO'] == '/slow':
        open('slow.started', 'w').write(str(os.getpid()))
        time.sleep(3)
        body = b'slow done'
    else:
        body = b'ok'
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
`;

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer`)));
    req.on('error', reject);
    req.end();
  });
}

/** gunicorn's master and workers in the service's process group (the master is the service's pid, or sh's child) */
function gunicorn(pgrp: number): { master?: number; workers: number[] } {
  const group = allProcs().filter((p) => p.pgrp === pgrp && p.state !== 'Z' && p.comm === 'gunicorn');
  const ids = new Set(group.map((p) => p.pid));
  return {
    master: group.find((p) => !ids.has(p.ppid))?.pid,
    workers: group
      .filter((p) => ids.has(p.ppid))
      .map((p) => p.pid)
      .sort(),
  };
}

describe('reload signals reach the main process', () => {
  for (const onChange of ['reload', '{ signal: SIGHUP }']) {
    it(`gunicorn with a request in flight: on_change: ${onChange}`, async () => {
      const t = tally(`reload of a gunicorn master/worker pair (on_change: ${onChange})`);
      const port = await freePort();
      // a string command without `exec`: tend runs it without keeping sh in between
      const dir = project(
        `state_dir: ./.tend
kv: file:./kv.yaml
services:
  web:
    command: gunicorn --workers 2 --graceful-timeout 30 --timeout 60 -b 127.0.0.1:${port} app:app
    ready: { http: "http://127.0.0.1:${port}/" }
    templates:
      - source: web.tmpl
        destination: web.conf
        on_change: ${onChange}
        wait: { min: 0s }
`,
        { 'app.py': APP_PY, 'web.tmpl': 'v={{ key "web/v" }}\n', 'kv.yaml': 'web:\n  v: 1\n' },
      );
      const sock = join(dir, '.tend', 'tend.sock');
      const tend = startTend(['up'], { cwd: dir });
      await tend.waitForOutput(/web ready/, 30_000);
      const before = (await status(sock)).services.find((s) => s.name === 'web');
      const group = before?.pid ?? 0;
      expect(group).toBeGreaterThan(0);
      const { master, workers: oldWorkers } = await waitFor(
        () => {
          const g = gunicorn(group);
          return g.workers.length === 2 ? g : undefined;
        },
        { what: 'two workers' },
      );
      // the service's main process is gunicorn's master: no sh in between
      expect(master).toBe(group);

      // a request in flight
      const slow = get(port, '/slow');
      await waitFor(() => {
        try {
          return readFileSync(join(dir, 'slow.started'), 'utf8') !== '';
        } catch {
          return false;
        }
      });
      writeFileSync(join(dir, 'kv.yaml'), 'web:\n  v: 2\n');
      await waitFor(() => readFileSync(join(dir, 'web.conf'), 'utf8') === 'v=2\n', { what: 'v=2 rendered' });

      const answer = await slow;
      t.add('requests in flight');
      expect(answer).toEqual({ status: 200, body: 'slow done' });
      // new workers, the same master, no restart
      const newWorkers = await waitFor(
        () => {
          const now = gunicorn(group);
          return now.master === master &&
            now.workers.length === 2 &&
            now.workers.every((p) => !oldWorkers.includes(p))
            ? now.workers
            : undefined;
        },
        { timeoutMs: 30_000, what: 'the workers replaced under the same master' },
      );
      const after = (await status(sock)).services.find((s) => s.name === 'web');
      expect(after).toMatchObject({ pid: group, restarts: 0, state: 'ready' });
      expect((await get(port, '/')).status).toBe(200);
      t.set('workers replaced', `${oldWorkers.join(',')} -> ${newWorkers.join(',')}`);
      tend.kill('SIGTERM');
      expect(await tend.exit(30_000)).toBe(0);
    });
  }
});

describe('exit codes that mean something', () => {
  const LB_SH = `#!/bin/sh
grep -q 'backend=.' lb.conf || { echo "lb.conf has no backend yet"; exit 3; }
exec sleep 3600
`;

  it('restart.prevent_exit_codes: exits 3 on incomplete config, held until the config changes', async () => {
    const t = tally('restart.prevent_exit_codes (run-lb-command pattern)');
    const dir = project(
      `state_dir: ./.tend
kv: file:./kv.yaml
services:
  lb:
    command: ./lb.sh
    restart: { prevent_exit_codes: [3], backoff: { initial: 50ms, max: 50ms } }
    templates:
      - source: lb.tmpl
        destination: lb.conf
        wait: { min: 0s }
`,
      { 'lb.sh': LB_SH, 'lb.tmpl': 'backend={{ keyOrDefault "lb/backend" "" }}\n', 'kv.yaml': 'lb: {}\n' },
    );
    const sock = join(dir, '.tend', 'tend.sock');
    const tend = startTend(['up'], { cwd: dir });
    const line = await tend.waitForOutput(/lb exited.*/, 20_000);
    expect(line[0]).toMatch(/exit code 3, in restart\.prevent_exit_codes: not restarted/);
    // time for several restarts with a 50 ms backoff, had it been a failure
    await sleep(1500);
    const held = (await status(sock)).services.find((s) => s.name === 'lb');
    expect(held).toMatchObject({ state: 'exited', restarts: 0, lastExit: { code: 3 } });
    t.set('restarts while held', held?.restarts ?? -1);

    writeFileSync(join(dir, 'kv.yaml'), 'lb:\n  backend: 10.0.0.1:80\n');
    await waitFor(
      async () => (await status(sock)).services.find((s) => s.name === 'lb')?.state === 'running',
      {
        timeoutMs: 20_000,
        what: 'lb running once its config is complete',
      },
    );
    t.add('config changes');
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
  });

  it('an essential service: a prevented code ends tend with that code, a success code with 0', async () => {
    const t = tally('exit codes of an essential service (prevent, success)');
    for (const [code, keys, expected] of [
      [3, 'prevent_exit_codes: [3]', 3],
      [2, 'success_exit_codes: [2]', 0],
    ] as const) {
      const dir = project(`state_dir: ./.tend
services:
  main:
    command: sleep 0.2; exit ${code}
    essential: true
    restart: { policy: on-failure, ${keys} }
  side:
    command: exec sleep 3600
`);
      const tend = startTend(['up'], { cwd: dir });
      expect(await tend.exit(20_000)).toBe(expected);
      expect(tend.output()).toMatch(/essential service main ended/);
      t.add('runs');
    }
  });
});

describe('a template that builds a huge string', () => {
  it('is a template error naming it, not retried until its inputs change', async () => {
    const t = tally('template output over 16 MiB (nested range loop)');
    const dir = project(
      `state_dir: ./.tend
kv: file:./kv.yaml
services:
  web:
    command: exec sleep 3600
    templates:
      - source: big.tmpl
        destination: big.conf
        on_change: none
        wait: { min: 0s }
`,
      {
        'big.tmpl':
          '{{ $n := key "n" | parseInt }}{{ range loop $n }}{{ range loop $n }}x{{ end }}{{ end }}\n',
        'kv.yaml': 'n: 3\n',
      },
    );
    const sock = join(dir, '.tend', 'tend.sock');
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/web running/, 20_000);
    await waitFor(() => readFileSync(join(dir, 'big.conf'), 'utf8') === 'xxxxxxxxx\n');

    const wrote = Date.now();
    writeFileSync(join(dir, 'kv.yaml'), 'n: 100000\n');
    const line = await tend.waitForOutput(/web: template error in big\.tmpl.*/, 90_000);
    t.set('error after ms', Date.now() - wrote);
    expect(line[0]).toMatch(
      /template error in big\.tmpl:1:\d+: executing "big\.tmpl" at <.*>: output larger than 16 MiB, the most a template may write; fix the template/,
    );
    expect(tend.output()).not.toMatch(/cannot read the KV store/);
    const cpu = () => {
      const f = readFileSync(`/proc/${tend.proc.pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks
    };
    // a retry would render again: ~10 s of CPU each under this load; without one tend idles
    const before = cpu();
    const t0 = Date.now();
    await sleep(3000);
    const ticks = cpu() - before;
    t.set('CPU ticks in 3 s after the error', ticks);
    expect(ticks).toBeLessThan(100);
    const s0 = Date.now();
    expect((await status(sock)).services.find((s) => s.name === 'web')?.state).toBe('running');
    t.set('status ms', Date.now() - s0);
    t.set('waited ms', Date.now() - t0);
    expect(readFileSync(join(dir, 'big.conf'), 'utf8')).toBe('xxxxxxxxx\n');

    // a changed input renders again
    writeFileSync(join(dir, 'kv.yaml'), 'n: 2\n');
    await waitFor(() => readFileSync(join(dir, 'big.conf'), 'utf8') === 'xxxx\n', { what: 'n=2 rendered' });
    t.add('renders');
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
  });
});

describe('the wall clock stepped back an hour', () => {
  // Debian's faketime (scripts/setup.sh installs it): Date.now of tend and its services goes back an hour
  // when the file says so; the monotonic clock is left alone, as a real step of the wall clock leaves it.
  const LIB = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

  it('leaves uptimes positive in tend status and health checks going (tend up under faketime)', async () => {
    const t = tally('wall clock stepped back an hour (faketime)');
    expect(existsSync(LIB), `${LIB} is missing: apt-get install faketime`).toBe(true);
    const dir = project(`state_dir: ./.tend
services:
  web:
    command: sleep 3600
    # back to back (each takes longer than the interval), so the step lands inside one
    health: { exec: "sleep 0.3; echo x >> checks", interval: 100ms, timeout: 5s }
`);
    const checks = () => {
      try {
        return readFileSync(join(dir, 'checks'), 'utf8').length / 2;
      } catch {
        return 0;
      }
    };
    const offset = join(dir, 'faketime');
    writeFileSync(offset, '+0\n');
    const sock = join(dir, '.tend', 'tend.sock');
    const tend = startTend(['up'], {
      cwd: dir,
      env: {
        LD_PRELOAD: LIB,
        FAKETIME_TIMESTAMP_FILE: offset,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    });
    await tend.waitForOutput(/app UP/, 20_000);
    type View = {
      app: { uptimeMs: number };
      services: Array<{ name: string; uptimeMs: number; startedAt: number }>;
    };
    const view = async () => (await api(sock, '/api/status')).json<View>();
    const startedAt = (await view()).services.find((x) => x.name === 'web')?.startedAt;
    await waitFor(() => checks() >= 1, { what: 'the first health check' });
    writeFileSync(offset, '-1h\n');
    const before = checks();
    await sleep(1100);
    // health checks go on (the next one was put an hour away when the step fell inside a check)
    await waitFor(() => checks() >= before + 3, { timeoutMs: 10_000, what: 'health checks after the step' });
    t.add('health checks after the step', checks() - before);
    const s = await view();
    const web = s.services.find((x) => x.name === 'web');
    t.set('app uptime ms', s.app.uptimeMs);
    t.set('web uptime ms', web?.uptimeMs ?? -1);
    expect(s.app.uptimeMs).toBeGreaterThanOrEqual(1000);
    expect(s.app.uptimeMs).toBeLessThan(600_000);
    expect(web?.uptimeMs).toBeGreaterThanOrEqual(1000);
    expect(web?.uptimeMs).toBeLessThan(600_000);
    expect(web?.startedAt).toBe(startedAt);
    const text = runTend(['status'], { cwd: dir });
    expect(text.stdout).toMatch(/up \d/);
    expect(text.stdout).not.toMatch(/(^|\s)-\d+(\.\d+)?(ms|s|m|h)\b/m);
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
  });
});
