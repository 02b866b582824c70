/**
 * A new user's first hour (issue 15), replayed against the built CLI: the quickstart runs three minutes and its
 * worker, which crashes every five seconds, is never given up on; then what the README and the guides tell the
 * user to type, from another terminal: `tend status`, `tend logs -f`, `tend restart --all`, `tend down`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { tally } from './helpers.js';

const dirs: string[] = [];
const followers: ChildProcess[] = [];
afterEach(async () => {
  for (const f of followers.splice(0)) f.kill('SIGKILL');
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** How long the quickstart runs before the user starts typing (the three minutes). */
const RUN_MS = Number(process.env.TEND_FIRST_HOUR_MS ?? 180_000);

describe('the first hour', () => {
  it('the quickstart keeps its crashing worker alive for three minutes; status, logs -f, restart --all, down', {
    timeout: RUN_MS + 120_000,
  }, async () => {
    const t = tally('first hour: quickstart three minutes, then the everyday commands');
    const dir = mkdtempSync(join(tmpdir(), 'tend-first-hour-'));
    dirs.push(dir);
    cpSync(new URL('../../examples/quickstart', import.meta.url), dir, { recursive: true });
    rmSync(join(dir, 'etc'), { recursive: true, force: true });
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
    const port = await freePort();
    const tend = startTend(['up'], { cwd: dir, env: { PORT: String(port) } });
    await tend.waitForOutput(/app UP/, 30_000);

    const started = Date.now();
    let worst = '';
    while (Date.now() - started < RUN_MS) {
      await new Promise((r) => setTimeout(r, 5000));
      const st = JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as {
        services: Array<{ name: string; state: string; restarts: number }>;
      };
      const worker = st.services.find((s) => s.name === 'worker');
      expect(worker?.state, `worker after ${Math.round((Date.now() - started) / 1000)}s`).not.toBe('failed');
      worst = worker?.state ?? worst;
    }
    expect(tend.output()).not.toMatch(/worker failed/);
    expect(tend.output()).not.toMatch(/retrying in/);
    const restarts = (
      JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as {
        services: Array<{ name: string; restarts: number }>;
      }
    ).services.find((s) => s.name === 'worker')?.restarts;
    // the worker crashes every ~5 s: it was restarted throughout, not given up on
    expect(restarts).toBeGreaterThanOrEqual(Math.floor(RUN_MS / 15_000));
    t.set('worker_restarts', restarts ?? 0);
    t.set('last_state_seen', worst);

    // the commands the guides type, from another terminal
    const status = runTend(['status'], { cwd: dir });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^web\s/m);
    expect(status.stdout).toMatch(/^worker\s/m);

    const follow = spawn(process.execPath, [CLI, 'logs', '-f', 'worker'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    followers.push(follow);
    let followed = '';
    follow.stdout?.on('data', (c: Buffer) => {
      followed += c.toString();
    });
    await waitFor(() => /working on job/.test(followed), { what: 'tend logs -f worker', timeoutMs: 15_000 });

    const before = tend.output().length;
    const restart = runTend(['restart', '--all'], { cwd: dir });
    expect(restart.code, restart.stderr).toBe(0);
    await waitFor(() => /web ready/.test(tend.output().slice(before)), {
      what: 'web ready after restart --all',
    });

    const down = runTend(['down'], { cwd: dir });
    expect(down.code, down.stderr).toBe(0);
    expect(await tend.exit(30_000)).toBe(0);
    expect(tend.output()).toMatch(/app STOPPED/);
    t.add('minutes', RUN_MS / 60_000);
  });
});
