/**
 * The restart defaults, as a user of the quickstart meets them: a worker that runs a while and crashes is kept
 * alive forever (backing off), and only a tight crash loop is given up on.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-keepalive-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  return dir;
}

describe('restart defaults', () => {
  it('keep a worker that crashes every ~1.5s alive: never failed, restarted again and again', async () => {
    // the old defaults (every run under 60s a failure, 5 in 60s) made this worker `failed` at its 5th crash
    const dir = project(`
services:
  worker:
    command: echo working; sleep 1.5; exit 1
    logs: { file: false }
`);
    const t = startTend(['up'], { cwd: dir, env: { TEND_STATE_DIR: join(dir, '.state') } });
    // 7 lives = 6 crashes, more than max_failures (5)
    // its first start, then a line per crash and the restart it brings
    await waitFor(() => (t.output().match(/worker (running|exited 1 · restart)/g) ?? []).length >= 7, {
      timeoutMs: 60_000,
      what: '7 lives of the worker',
    });
    expect(t.proc.exitCode).toBe(null);
    expect(t.output()).not.toMatch(/worker failed|failures in/);
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
  }, 90_000);

  it('give up on a tight crash loop, and say no "retrying" when tend is about to exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-keepalive-'));
    dirs.push(dir);
    const t = startTend(['run', '--name', 'loop', '--', 'sh', '-c', 'exit 3'], {
      cwd: dir,
      env: { XDG_RUNTIME_DIR: dir },
    });
    expect(await t.exit(30_000)).toBe(3);
    expect(t.output()).toMatch(/5 failures in 10s/);
    expect(t.output()).not.toMatch(/retrying/);
  });

  it('tend run takes --max-failures, --reset-after and --backoff-max', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-keepalive-'));
    dirs.push(dir);
    const t = startTend(
      [
        'run',
        '--name',
        'loop',
        '--max-failures',
        '2',
        '--reset-after',
        '5s',
        '--backoff-max',
        '1s',
        '--',
        'sh',
        '-c',
        'exit 4',
      ],
      { cwd: dir, env: { XDG_RUNTIME_DIR: dir } },
    );
    expect(await t.exit(30_000)).toBe(4);
    expect(t.output()).toMatch(/2 failures in 10s/);
    const bad = startTend(['run', '--backoff-max', 'soon', '--', 'true'], {
      cwd: dir,
      env: { XDG_RUNTIME_DIR: dir },
    });
    expect(await bad.exit()).toBe(2);
    expect(bad.output()).toMatch(/soon/);
  });
});
