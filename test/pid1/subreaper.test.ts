/** tend outside a PID namespace: child subreaper, escaped daemons, crash safety, one tend per state folder. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, listChildren, processInfo } from '../../src/procs/index.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { killTagged, processesRunning, project, removeDir, testTag } from './helpers.js';

const linux = process.platform === 'linux';
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await stopAllTends();
  for (const c of cleanups.splice(0).reverse()) c();
});

function setup(files: Record<string, string>) {
  const dir = project(files);
  const tag = testTag();
  cleanups.push(() => {
    killTagged(tag);
    removeDir(dir);
  });
  const env = { TEND_TEST_TAG: tag };
  return { dir, env, up: () => startTend(['up'], { cwd: dir, env }) };
}

const readPid = (file: string) => Number(readFileSync(file, 'utf8').trim());

describe.skipIf(!linux)('tend as a child subreaper', () => {
  it('adopts and reaps the orphans of a service', async () => {
    const { dir, up } = setup({
      'tend.yaml': `
services:
  forker:
    # each grandchild outlives its parent, then writes the pid of its new parent
    command: |
      for i in 1 2 3 4 5; do
        (sh -c 'sleep 0.3; cut -d" " -f4 /proc/$$$$/stat >> ppids' &)
      done
      exec sleep 3021
`,
    });
    const t = up();
    await t.waitForOutput(/app UP/);
    const ppids = join(dir, 'ppids');
    await waitFor(() => existsSync(ppids) && readFileSync(ppids, 'utf8').trim().split('\n').length === 5, {
      what: 'five orphans reporting their parent',
    });
    // adopted by tend, not by the machine's init
    expect(new Set(readFileSync(ppids, 'utf8').trim().split('\n'))).toEqual(new Set([String(t.proc.pid)]));
    await sleep(2000);
    const zombies = listChildren(t.proc.pid!).filter((p) => processInfo(p)?.state === 'Z');
    expect(zombies).toEqual([]);
  });

  it('stops a daemon that escaped its process group with its service, and on stop', async () => {
    const { dir, up } = setup({
      'tend.yaml': `
services:
  web:
    command: exec sleep 3022
  worker:
    command: "setsid sh -c 'echo $$$$ > daemon.pid; exec sleep 3023' </dev/null >/dev/null 2>&1 & exec sleep 3024"
    stop: { timeout: 2s }
  stubborn:
    # ignores SIGTERM: SIGKILL after its stop timeout
    command: "setsid sh -c 'trap \\"\\" TERM; echo $$$$ > stubborn.pid; while true; do sleep 0.1; done' </dev/null >/dev/null 2>&1 & exec sleep 3025"
    stop: { timeout: 1s }
`,
    });
    const t = up();
    await t.waitForOutput(/app UP/);
    await waitFor(() => existsSync(join(dir, 'daemon.pid')) && existsSync(join(dir, 'stubborn.pid')));
    const daemon = readPid(join(dir, 'daemon.pid'));
    const stubborn = readPid(join(dir, 'stubborn.pid'));
    expect(isAlive(daemon)).toBe(true);

    const r = runTend(['stop', 'worker'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    await waitFor(() => !isAlive(daemon), { what: 'the escaped daemon to be gone' });
    expect(processesRunning(['sleep', '3022'])).toHaveLength(1);

    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
    expect(isAlive(stubborn)).toBe(false);
    expect(t.output()).toMatch(/SIGKILL to \d+ \(sh\)/);
  });

  it('after a SIGKILLed tend, the next one stops the leftovers first: each service runs once', async () => {
    const { up } = setup({
      'tend.yaml': `
services:
  web:
    command: exec sleep 3031
  worker:
    command: "setsid sleep 3032 </dev/null >/dev/null 2>&1 & exec sleep 3033"
`,
    });
    const first = up();
    await first.waitForOutput(/app UP/);
    await waitFor(() => processesRunning(['sleep', '3032']).length === 1);
    const before = ['3031', '3032', '3033'].map((a) => processesRunning(['sleep', a])[0]);
    await sleep(200); // the pid record's debounced write
    first.kill('SIGKILL');
    await first.exited;
    // tend is gone, its services are not
    for (const pid of before) expect(isAlive(pid)).toBe(true);

    const second = up();
    await second.waitForOutput(/app UP/);
    expect(second.output()).toMatch(/stopped 3 process\(es\) a previous tend left running/);
    for (const pid of before) expect(isAlive(pid)).toBe(false);
    await waitFor(() => processesRunning(['sleep', '3032']).length === 1, {
      what: `one new daemon; output:\n${second.output()}`,
    });
    for (const a of ['3031', '3032', '3033']) expect(processesRunning(['sleep', a])).toHaveLength(1);
  });

  it('refuses a second tend on the same state folder with exit 1', async () => {
    const { dir, env, up } = setup({
      'tend.yaml': `
services:
  web:
    command: exec sleep 3041
`,
    });
    const t = up();
    await t.waitForOutput(/app UP/);
    const r = runTend(['up'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another tend (pid ${t.proc.pid}) is running for this state folder`);
    // and it touched nothing: the first one's service still runs alone
    expect(processesRunning(['sleep', '3041'])).toHaveLength(1);
  });
});
