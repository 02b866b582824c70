/** posix_spawn through koffi: the child must get what child_process.spawn (detached, piped) would give it. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fastSpawn, fastSpawnAvailable, isNodeChild, processInfo } from '../../src/procs/index.js';

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGKILL');
    } catch {}
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const c = fastSpawn(file, args, { cwd: opts.cwd ?? tmpdir(), env: opts.env ?? { PATH: process.env.PATH } });
  if (!c) throw new Error('fastSpawn unavailable');
  children.push(c);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  c.stdout?.on('data', (b: Buffer) => out.push(b));
  c.stderr?.on('data', (b: Buffer) => err.push(b));
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    c.once('exit', (code, signal) => resolve([code, signal])),
  );
  const closed = Promise.all([
    new Promise((r) => c.stdout?.once('close', r)),
    new Promise((r) => c.stderr?.once('close', r)),
  ]);
  return {
    c,
    exited,
    output: async () => {
      await closed;
      return { out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
    },
  };
}

describe.runIf(fastSpawnAvailable())('fastSpawn', () => {
  // First in the file, so it is the process's first fastSpawn: a child that exits at once must not have its
  // SIGCHLD land before anything listens for it (it would then wait 5 s for the backstop).
  it('collects a child that exits at once, even as the very first spawn', async () => {
    const t0 = Date.now();
    const { exited } = run('/bin/true', []);
    expect(await exited).toEqual([0, null]);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('gives the child its own session, /dev/null for stdin, sockets for output, the cwd and exactly the env given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-fast-'));
    dirs.push(dir);
    const script =
      'echo "pid=$$ cwd=$(pwd) foo=$FOO home=$(printenv HOME || echo unset)"; ' +
      'echo "sid=$(cut -d" " -f6 /proc/$$/stat) pgrp=$(cut -d" " -f5 /proc/$$/stat)"; ' +
      'readlink /proc/$$/fd/0; echo oops >&2; exit 7';
    const { c, exited, output } = run('sh', ['-c', script], {
      cwd: dir,
      env: { PATH: '/usr/bin:/bin', FOO: 'a b=c' },
    });
    expect(isNodeChild(c.pid!)).toBe(true);
    expect(await exited).toEqual([7, null]);
    const { out, err } = await output();
    expect(out).toContain(`pid=${c.pid} cwd=${dir} foo=a b=c home=unset`);
    expect(out).toContain(`sid=${c.pid} pgrp=${c.pid}`);
    expect(out).toMatch(/\/dev\/null\n/);
    expect(err).toBe('oops\n');
    // collected: no longer protected from the reaper, and no zombie left
    expect(isNodeChild(c.pid!)).toBe(false);
    expect(processInfo(c.pid!)).toBeUndefined();
  });

  it('starts the program with no signal ignored or blocked', async () => {
    // The spawned program reads its own mask (a shell in between would show its own, which dash changes
    // around each fork). tend's Node ignores SIGPIPE, and an ignored signal survives exec.
    const { exited, output } = run('grep', ['-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    expect(await exited).toEqual([0, null]);
    const { out } = await output();
    expect(out).toMatch(/SigIgn:\s+0+\n/);
    expect(out).toMatch(/SigBlk:\s+0+\n/);
  });

  it('reports death by a signal like child_process does', async () => {
    const { c, exited } = run('sleep', ['30']);
    process.kill(c.pid!, 'SIGTERM');
    expect(await exited).toEqual([null, 'SIGTERM']);
    expect(c.signalCode).toBe('SIGTERM');
  });

  it('finds the executable on the child’s PATH, not tend’s, and says ENOENT like child_process', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-fast-'));
    dirs.push(dir);
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    expect(() => run('sleep', ['1'], { env: { PATH: dir } })).toThrow(/^spawn sleep ENOENT$/);
    expect(() => run('/no/such/program', [])).toThrow(/^spawn \/no\/such\/program ENOENT$/);
    expect(() => run('sh', ['-c', 'true'], { cwd: join(dir, 'missing') })).toThrow(/^spawn sh ENOENT$/);
    // the sockets of the failed spawns were closed
    expect(fds()).toBe(before);
    // a failed spawn leaves nothing half-done: the next one works
    expect(() => run('sh', ['-c', 'exit 0'])).not.toThrow();
  });

  it('many children exiting together are each collected once, with their own code', async () => {
    const runs = Array.from({ length: 30 }, (_, i) => run('sh', ['-c', `exit ${i}`]));
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes.map(([code]) => code)).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });
});
