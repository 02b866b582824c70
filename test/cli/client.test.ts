/** The CLI against a real running tend: status, start/stop/restart, logs, maintenance, cfg. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionResult, StatusView } from '../../src/control/types.js';
import { CLI, runTend, startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { alive, waitFor } from '../helpers/wait.js';

const MANIFEST = `
name: shop
settings:
  defaults:
    db: { host: localhost, port: 5432 }
    features: [a, b]
services:
  db:
    command: exec sleep 600
  web:
    command: i=0; while :; do i=$((i+1)); echo "tick $i"; sleep 0.2; done
    after: [db]
  worker:
    command: echo "worker says hi" >&2; exec sleep 600
  burst:
    command: seq 1 1500; exec sleep 600
`;

let dir: string;
let tend: TendProcess;
const children: Array<ReturnType<typeof spawn>> = [];

const cli = (...args: string[]) => runTend(args, { cwd: dir });
const status = () => JSON.parse(cli('status', '--json').stdout) as StatusView;
const service = (name: string) => status().services.find((s) => s.name === name)!;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tend-cli-'));
  writeFileSync(join(dir, 'tend.yaml'), MANIFEST);
  tend = startTend(['up'], { cwd: dir });
  await waitFor(
    () => {
      const r = cli('status', '--json');
      return (
        r.code === 0 && (JSON.parse(r.stdout) as StatusView).services.every((s) => s.state === 'running')
      );
    },
    { what: 'every service running', timeoutMs: 20_000, intervalMs: 100 },
  );
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await stopAllTends();
  rmSync(dir, { recursive: true, force: true });
});

describe('tend status', () => {
  it('lists every service with its state, in human text and JSON', () => {
    const text = cli('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^shop: UP/);
    expect(text.stdout).toMatch(/SERVICE\s+STATE\s+PID/);
    for (const name of ['db', 'web', 'worker'])
      expect(text.stdout).toMatch(new RegExp(`^${name}\\s+running\\s+\\d+`, 'm'));

    const st = status();
    expect(st.app.name).toBe('shop');
    expect(st.app.pid).toBe(tend.proc.pid);
    expect(st.services.map((s) => s.name)).toEqual(['db', 'web', 'worker', 'burst']);
    for (const s of st.services) {
      expect(s.state).toBe('running');
      expect(alive(s.pid!)).toBe(true);
      expect(s.restarts).toBe(0);
    }
  });

  it('says clearly that no tend is running, and exits 1', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tend-none-'));
    try {
      writeFileSync(join(empty, 'tend.yaml'), 'services: {}\n');
      const r = runTend(['status'], { cwd: empty });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /no tend is running for \.\/tend\.yaml \(socket \.\/\.tend\/tend\.sock not found\)/,
      );
      expect(r.stderr).toMatch(/tend up/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('finds the socket through --socket and TEND_SOCKET from anywhere', () => {
    const sock = join(dir, '.tend', 'tend.sock');
    const a = runTend(['status', '--json', '--socket', sock], { cwd: tmpdir() });
    expect(a.code).toBe(0);
    expect((JSON.parse(a.stdout) as StatusView).app.name).toBe('shop');
    const b = runTend(['status', '--json'], { cwd: tmpdir(), env: { TEND_SOCKET: sock } });
    expect(b.code).toBe(0);
    const c = runTend(['status', '--json', '-f', join(dir, 'tend.yaml')], { cwd: tmpdir() });
    expect(c.code).toBe(0);
  });
});

describe('tend start/stop/restart', () => {
  it('restart gives the service a new pid', () => {
    const before = service('worker').pid!;
    const r = cli('restart', 'worker');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`worker: restarted, pid ${before} → \\d+`));
    const after = service('worker');
    expect(after.pid).toBeDefined();
    expect(after.pid).not.toBe(before);
    expect(after.restarts).toBe(1);
    expect(alive(before)).toBe(false);
  });

  it('stop keeps a service down until start; --json answers parse', () => {
    const pid = service('worker').pid!;
    const stop = cli('stop', 'worker', '--json');
    expect(stop.code).toBe(0);
    const [res] = JSON.parse(stop.stdout) as ActionResult[];
    expect(res.action).toBe('stop');
    expect(res.after.state).toBe('stopped');
    expect(alive(pid)).toBe(false);
    expect(service('worker').state).toBe('stopped');

    const start = cli('start', 'worker');
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/worker: running \(pid \d+\)/);
    expect(service('worker').state).toBe('running');
  });

  it('an unknown service is a usage error naming the known ones', () => {
    const r = cli('restart', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no service "nope".*services: db, web, worker, burst/);
  });
});

describe('tend logs', () => {
  it('prints the last lines of one service, or of all prefixed by service', () => {
    const one = cli('logs', '-n', '3', 'web');
    expect(one.code).toBe(0);
    const lines = one.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^tick \d+$/);

    const all = cli('logs', '-n', '500');
    expect(all.stdout).toMatch(/^web\s+\| tick \d+$/m);
    expect(all.stdout).toMatch(/^worker\s+\| worker says hi$/m);

    const json = cli('logs', '-n', '2', '--json', 'web');
    const parsed = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(parsed[0]).toMatchObject({ service: 'web', stream: 'stdout' });
  });

  it('reaches past the in-memory ring into the log file, without gaps or repeats', () => {
    const numbers = (out: string) =>
      out
        .trim()
        .split('\n')
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    expect(numbers(cli('logs', '-n', '1400', 'burst').stdout)).toEqual(range(101, 1500));
    expect(numbers(cli('logs', '-n', '5000', 'burst').stdout)).toEqual(range(1, 1500));
  });

  it('-f follows new lines as the service writes them', async () => {
    const last = Number(/tick (\d+)/.exec(cli('logs', '-n', '1', 'web').stdout)![1]);
    const child = spawn(process.execPath, [CLI, 'logs', '-f', '-n', '0', 'web'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1' },
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const seen = () => [...out.matchAll(/tick (\d+)/g)].map((m) => Number(m[1]));
    await waitFor(() => seen().filter((n) => n > last + 1).length >= 3, {
      what: 'followed lines',
      timeoutMs: 15_000,
    });
    const nums = seen();
    // consecutive: nothing lost, nothing repeated
    for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe(nums[i - 1] + 1);
    child.kill('SIGTERM');
  });

  it('rejects a bad -n', () => {
    expect(cli('logs', '-n', 'lots').code).toBe(2);
  });
});

describe('tend maintenance and cfg', () => {
  it('maintenance on|off flips a flag that status shows', () => {
    const on = cli('maintenance', 'on');
    expect(on.code).toBe(0);
    expect(on.stdout).toMatch(/maintenance on/);
    expect(status().app.maintenance).toBe(true);
    expect(cli('status').stdout).toMatch(/UP \(maintenance\)/);
    expect(JSON.parse(cli('maintenance', '--json').stdout)).toEqual({ maintenance: true });
    expect(cli('maintenance', 'off').code).toBe(0);
    expect(status().app.maintenance).toBe(false);
    expect(cli('maintenance', 'sideways').code).toBe(2);
  });

  it('cfg get prints the effective settings from the running tend, one value by path', () => {
    const all = cli('cfg', 'get');
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({
      db: { host: 'localhost', port: 5432 },
      features: ['a', 'b'],
    });
    expect(JSON.parse(cli('cfg', 'get', 'db.port').stdout)).toBe(5432);
    expect(JSON.parse(cli('cfg', 'get', 'features.1').stdout)).toBe('b');
    const missing = cli('cfg', 'get', 'db.nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no setting at db\.nope/);
  });

  it('cfg get works without a running tend, from the manifest', () => {
    const other = mkdtempSync(join(tmpdir(), 'tend-cfg-'));
    try {
      writeFileSync(join(other, 'tend.yaml'), MANIFEST);
      const r = runTend(['cfg', 'get', 'db'], { cwd: other, env: { CFG: '{"db":{"port":6543}}' } });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ host: 'localhost', port: 6543 });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
