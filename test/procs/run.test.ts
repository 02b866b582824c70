/** runCommand: the one runner of a short command; one kill rule, bounded output, a timeout that says so. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/procs/index.js';
import { alive, waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-run-'));
  dirs.push(d);
  return d;
};

describe('runCommand', () => {
  it('reports the exit code and the output', async () => {
    const r = await runCommand(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r).toMatchObject({ ok: false, code: 3, signal: null, timedOut: false, aborted: false });
    expect(r.output).toBe('out\nerr\n');
    expect(r.stdout).toBe('out\n');
  });

  it('runs a string under /bin/sh with the given cwd, env and stdin', async () => {
    const dir = tmp();
    const r = await runCommand('read line; echo "$line $FOO $(pwd)"', {
      cwd: dir,
      env: { FOO: 'bar' },
      input: 'hi\n',
    });
    expect(r.ok).toBe(true);
    expect(r.stdout).toBe(`hi bar ${dir}\n`);
  });

  it('at the timeout kills the whole group, a child that ignores TERM too, and says it timed out', async () => {
    const dir = tmp();
    const pidFile = join(dir, 'child.pid');
    // The child ignores TERM and outlives the parent's TERM; only SIGKILL to the group ends it.
    const script = `sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done' & wait`;
    const r = await runCommand(['/bin/sh', '-c', script], { timeoutMs: 300, killAfterMs: 200 });
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    const child = Number(readFileSync(pidFile, 'utf8'));
    // The result is given once nothing of the group runs any more.
    expect(alive(child)).toBe(false);
  });

  it('a command is over when its process is: what it left running in its group is killed', async () => {
    const dir = tmp();
    const pidFile = join(dir, 'bg.pid');
    const r = await runCommand(
      ['/bin/sh', '-c', `(trap "" TERM; exec sleep 30) & echo $! > ${pidFile}; exit 0`],
      {
        killAfterMs: 100,
      },
    );
    expect(r.ok).toBe(true);
    expect(alive(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('keeps the output bounded: the last maxOutput characters, the first maxStdout of stdout', async () => {
    const r = await runCommand(
      ['/bin/sh', '-c', 'i=0; while [ $i -lt 2000 ]; do echo "line $i"; i=$((i+1)); done'],
      {
        maxOutput: 100,
        maxStdout: 50,
      },
    );
    expect(r.ok).toBe(true);
    expect(r.output.length).toBe(100);
    expect(r.output.endsWith('line 1999\n')).toBe(true);
    expect(r.stdout.length).toBe(50);
    expect(r.stdout.startsWith('line 0\n')).toBe(true);
  });

  it('an abort kills the group and says so', async () => {
    const ac = new AbortController();
    let pid: number | undefined;
    const p = runCommand(['sleep', '30'], {
      signal: ac.signal,
      killAfterMs: 100,
      onSpawn: (c) => (pid = c.pid),
    });
    await waitFor(() => pid !== undefined);
    ac.abort();
    const r = await p;
    expect(r).toMatchObject({ ok: false, aborted: true, signal: 'SIGTERM' });
    expect(alive(pid as number)).toBe(false);
  });

  it('a missing program is an error, not a crash', async () => {
    const r = await runCommand(['/nonexistent/prog']);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ENOENT/);
  });
});
