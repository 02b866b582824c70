/** tend as PID 1 of a PID namespace, the way `ENTRYPOINT ["tend", "up"]` runs it in a container. */
import { cpSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, isAlive, processInfo } from '../../src/procs/index.js';
import { runTend } from '../helpers/cli.js';
import { sleep, waitFor } from '../helpers/wait.js';
import {
  canUnsharePid,
  killTagged,
  type Pid1Tend,
  project,
  removeDir,
  startPid1Tend,
  testTag,
  withTimeout,
  zombiesUnder,
} from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function start(files: Record<string, string>): { dir: string; tend: Pid1Tend } {
  const dir = project(files);
  const tag = testTag();
  const tend = startPid1Tend(['up'], { cwd: dir, env: { TEND_TEST_TAG: tag } });
  cleanups.push(() => {
    try {
      if (tend.proc.pid) process.kill(-tend.proc.pid, 'SIGKILL');
    } catch {}
    killTagged(tag);
    removeDir(dir);
  });
  return { dir, tend };
}

/** pids, seen from here, of the namespace's processes whose command line is argv */
function inNamespace(tend: Pid1Tend, argv: string): number[] {
  return descendants(tend.proc.pid!).filter((p) => {
    try {
      return processInfo(p)?.state !== 'Z' && cmdline(p) === argv;
    } catch {
      return false;
    }
  });
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0').join(' ');
}

describe.skipIf(!canUnsharePid())('tend as PID 1', () => {
  it('reaps the orphans of a service that double-forks: no zombie left after 2 s', async () => {
    const { tend } = start({
      'tend.yaml': `
services:
  forker:
    # 20 rounds of children whose parent exits at once: each lands on PID 1 and exits there
    command: |
      i=0
      while [ $i -lt 20 ]; do
        (sh -c 'sleep 0.05' &)
        (setsid sh -c 'sleep 0.1' &)
        i=$((i+1))
        sleep 0.05
      done
      exec sleep 300
`,
    });
    await tend.waitForOutput(/app UP/);
    const pid1 = tend.hostPid();
    // the forker ends its rounds in about 1 s; every orphan has exited by then
    await waitFor(() => inNamespace(tend, 'sleep 300').length === 1, {
      timeoutMs: 10_000,
      what: 'rounds done',
    });
    await sleep(2000);
    expect(zombiesUnder(pid1)).toEqual([]);
    expect(isAlive(pid1)).toBe(true);
  });

  it('SIGTERM to PID 1 stops every service, escaped daemons included, and exits 0', async () => {
    const { dir, tend } = start({
      'tend.yaml': `
services:
  web:
    command: exec sleep 3011
    stop: { timeout: 3s }
  daemon:
    # leaves its process group and session, as a double-forking daemon does
    command: "setsid sh -c 'exec sleep 3012' </dev/null >/dev/null 2>&1 & exec sleep 3013"
    stop: { timeout: 3s }
`,
    });
    await tend.waitForOutput(/app UP/);
    await waitFor(() => inNamespace(tend, 'sleep 3012').length === 1, { what: 'the daemon' });
    const escaped = inNamespace(tend, 'sleep 3012')[0];
    const pid1 = tend.hostPid();

    // `tend stop daemon` from outside the namespace, through the control socket: the daemon goes with it,
    // while PID 1 still runs (when PID 1 exits the kernel kills the namespace anyway, proving nothing).
    const r = runTend(['stop', 'daemon', '-f', join(dir, 'tend.yaml')], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => !isAlive(escaped), { timeoutMs: 10_000, what: 'the escaped daemon to be gone' });
    expect(isAlive(pid1)).toBe(true);
    await tend.waitForOutput(/left the process group of daemon/);

    process.kill(pid1, 'SIGTERM');
    expect(await withTimeout(tend.exited, 15_000, `tend to exit:\n${tend.output()}`)).toBe(0);
    expect(tend.output()).toMatch(/web stopped/);
    expect(tend.output()).toMatch(/app STOPPED/);
  });

  it('a daemon a stage started is stopped before PID 1 exits', async () => {
    const { tend } = start({
      'tend.yaml': `
stages:
  # waits until the daemon has left the stage's group: tend stops what a stage leaves in its group
  warmup: "setsid sh -c 'touch escaped; exec sleep 3014' </dev/null >/dev/null 2>&1 & while [ ! -e escaped ]; do sleep 0.05; done"
services:
  web:
    command: exec sleep 3015
`,
    });
    await tend.waitForOutput(/app UP/);
    await waitFor(() => inNamespace(tend, 'sleep 3014').length === 1, { what: 'the stage daemon' });
    process.kill(tend.hostPid(), 'SIGTERM');
    expect(await withTimeout(tend.exited, 15_000, 'tend to exit')).toBe(0);
    expect(tend.output()).toMatch(/stopping 1 process\(es\) that escaped their process group: \d+ \(sleep\)/);
  });

  it('runs examples/docker the way its Dockerfile does: PID 1, probes answer, orphans reaped, clean stop', async () => {
    const example = fileURLToPath(new URL('../../examples/docker', import.meta.url));
    const dir = project({});
    cpSync(example, dir, { recursive: true });
    const [web, http] = [await freePort(), await freePort()];
    const tag = testTag();
    const tend = startPid1Tend(['up'], {
      cwd: dir,
      env: {
        TEND_TEST_TAG: tag,
        PORT: String(web),
        TEND_HTTP: `127.0.0.1:${http}`,
        DATA_DIR: join(dir, 'volume'),
        CFG: '{"greeting":"bonjour","worker":{"interval_seconds":0.2}}',
      },
    });
    cleanups.push(() => {
      try {
        if (tend.proc.pid) process.kill(-tend.proc.pid, 'SIGKILL');
      } catch {}
      killTagged(tag);
      removeDir(dir);
    });
    await tend.waitForOutput(/app UP/, 30_000);
    const ready = await fetch(`http://127.0.0.1:${http}/readyz`);
    expect(ready.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${web}/`)).text()).toBe('bonjour from example/web\n');
    expect(readFileSync(join(dir, 'volume', 'created-at'), 'utf8')).toMatch(/^\d{4}-/);
    // the worker leaves an orphan every 0.2 s; each lives 1 s
    await sleep(2500);
    const pid1 = tend.hostPid();
    // an orphan that exits this very moment is a zombie until the reaper's SIGCHLD: what must not happen is a
    // zombie that stays (one seen now and still there half a second later)
    const seen = zombiesUnder(pid1);
    await sleep(500);
    expect(zombiesUnder(pid1).filter((z) => seen.includes(z))).toEqual([]);
    process.kill(pid1, 'SIGTERM');
    expect(await withTimeout(tend.exited, 20_000, `tend to exit:\n${tend.output()}`)).toBe(0);
    expect(tend.output()).toMatch(/web: SIGTERM, closing/);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
