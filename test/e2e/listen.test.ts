/**
 * Socket activation end to end: tend binds a service's `listen:` sockets and holds them while the service
 * restarts 20 times (crashes, KV changes, `tend restart`), with a client sending requests all along. With
 * `listen:` not one request fails (connections wait in the kernel's backlog); without it, the same restarts
 * refuse connections (asserted, so that this test can fail).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

// A WSGI app that takes half a second to start, like a real one importing its framework.
const WSGI_APP = `import os, time
time.sleep(0.5)
def app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [('ok %d %s\\n' % (os.getppid(), os.environ.get('LISTEN_FDNAMES', '-'))).encode()]
`;

// A Node service: the inherited socket when there is one (sd_listen_fds' rule: LISTEN_PID must be its pid),
// its own otherwise. SIGTERM and SIGUSR2 (the test's "crash", exit code 3) finish the requests in flight.
const NODE_APP = `import http from 'node:http';
const inherited = process.env.LISTEN_FDS === '1' && process.env.LISTEN_PID === String(process.pid);
if (process.env.LISTEN_FDS && !inherited) { console.error('LISTEN_PID is not my pid'); process.exit(9); }
const server = http.createServer((req, res) => res.end('ok ' + process.pid + ' ' + (process.env.LISTEN_FDNAMES ?? '-') + '\\n'));
server.listen(inherited ? { fd: 3 } : { host: '127.0.0.1', port: Number(process.env.PORT) });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('SIGUSR2', () => server.close(() => process.exit(3)));
`;

interface Load {
  ok: number;
  failed: number;
  errors: Map<string, number>;
  longestMs: number;
  stop(): Promise<void>;
}

/** Requests in a loop (two at a time, a new connection each), until stopped or 60 s or 200,000 requests. */
function load(port: number): Load {
  const stats: Load = { ok: 0, failed: 0, errors: new Map(), longestMs: 0, stop: async () => {} };
  let running = true;
  const deadline = Date.now() + 60_000;
  const one = () =>
    new Promise<void>((resolve) => {
      const t0 = Date.now();
      const fail = (why: string) => {
        stats.failed++;
        stats.errors.set(why, (stats.errors.get(why) ?? 0) + 1);
        resolve();
      };
      const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 20_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          stats.longestMs = Math.max(stats.longestMs, Date.now() - t0);
          if (res.statusCode === 200) stats.ok++;
          else fail(`HTTP ${res.statusCode}`);
          resolve();
        });
        res.on('error', (e) => fail((e as NodeJS.ErrnoException).code ?? e.message));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => fail((e as NodeJS.ErrnoException).code ?? e.message));
    });
  const worker = async () => {
    while (running && Date.now() < deadline && stats.ok + stats.failed < 200_000) await one();
  };
  const workers = [worker(), worker()];
  stats.stop = async () => {
    running = false;
    await Promise.all(workers);
  };
  return stats;
}

/** `tend ARGS` without blocking this process's event loop (the load runs in it). */
function tendAsync(args: string[], cwd: string): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      cwd,
      stdio: 'ignore',
      env: { ...process.env, NO_COLOR: '1' },
    });
    p.on('exit', (code) => resolve(code ?? -1));
  });
}

const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

interface Setup {
  dir: string;
  port: number;
  tend: TendProcess;
}

async function up(kind: 'gunicorn' | 'node', withListen: boolean): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tend-listen-'));
  dirs.push(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'app.py'), WSGI_APP);
  writeFileSync(join(dir, 'web.mjs'), NODE_APP);
  writeFileSync(join(dir, 'web.tmpl'), 'generation {{ key "web/gen" }}\n');
  mkdirSync(join(dir, 'kv', 'web'), { recursive: true });
  writeFileSync(join(dir, 'kv', 'web', 'gen'), '0');
  const command =
    kind === 'gunicorn'
      ? `[gunicorn, --workers, "1", --bind, "127.0.0.1:${port}", --chdir, "${dir}", "app:app"]`
      : `[node, web.mjs]`;
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: listen-${kind}
kv: file:./kv
services:
  web:
    command: ${command}
    env: { PORT: "${port}" }
${withListen ? `    listen:\n      - { address: "127.0.0.1:${port}", name: http }\n` : ''}    templates:
      - { source: web.tmpl, destination: web.conf, on_change: restart }
    ready: { http: "http://127.0.0.1:${port}/", interval: 100ms, timeout: 30s }
    restart: { policy: always, backoff: { initial: 100ms, max: 200ms }, max_failures: 0 }
    stop: { timeout: 10s }
`,
  );
  const tend = startTend(['up'], { cwd: dir });
  await tend.waitForOutput(/web ready/, 20_000);
  return { dir, port, tend };
}

/** Restarts web `times` times, by turns a crash, a KV change and `tend restart`, each once it is ready again. */
async function restartLoop(s: Setup, times: number, crash: (pid: number) => void): Promise<void> {
  for (let i = 0; i < times; i++) {
    const readyBefore = count(s.tend.output(), /web ready/g);
    const pids = [...s.tend.output().matchAll(/web running \(pid (\d+)\)/g)];
    const pid = Number(pids[pids.length - 1][1]);
    switch (i % 3) {
      case 0:
        crash(pid);
        break;
      case 1:
        writeFileSync(join(s.dir, 'kv', 'web', 'gen'), String(i));
        break;
      default:
        expect(await tendAsync(['restart', 'web'], s.dir)).toBe(0);
    }
    await waitFor(() => count(s.tend.output(), /web ready/g) > readyBefore, {
      timeoutMs: 30_000,
      what: `web ready again after restart ${i + 1}\n${s.tend.output()}`,
    });
  }
}

describe('listen: a restart refuses no connection', () => {
  it('gunicorn restarted 20 times (crash, KV change, tend restart) under load: zero failed requests', async () => {
    const s = await up('gunicorn', true);
    const l = load(s.port);
    await restartLoop(s, 20, (pid) => process.kill(pid, 'SIGKILL'));
    await l.stop();
    const out = s.tend.output();
    expect(count(out, /web running \(pid/g)).toBe(21);
    expect(out).toMatch(/killed by SIGKILL/);
    expect({ failed: l.failed, errors: Object.fromEntries(l.errors) }).toEqual({ failed: 0, errors: {} });
    expect(l.ok).toBeGreaterThan(100);
  }, 90_000);

  it('the same without listen: refuses connections', async () => {
    const s = await up('gunicorn', false);
    const l = load(s.port);
    await restartLoop(s, 3, (pid) => process.kill(pid, 'SIGKILL'));
    await l.stop();
    expect(l.failed).toBeGreaterThan(0);
    expect(l.errors.get('ECONNREFUSED') ?? 0).toBeGreaterThan(0);
  }, 60_000);

  it('a Node service using { fd: 3 } restarted 20 times under load: zero failed requests, LISTEN_PID its own', async () => {
    const s = await up('node', true);
    const l = load(s.port);
    await restartLoop(s, 20, (pid) => process.kill(pid, 'SIGUSR2'));
    await l.stop();
    const out = s.tend.output();
    expect(count(out, /web running \(pid/g)).toBe(21);
    expect(out).not.toMatch(/exited with code 9/);
    expect({ failed: l.failed, errors: Object.fromEntries(l.errors) }).toEqual({ failed: 0, errors: {} });
    expect(l.ok).toBeGreaterThan(100);
  }, 60_000);
});
