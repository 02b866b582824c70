/**
 * Real-time signals to tend (`kill -RTMIN+3`, a misdirected `kill -50`): Node has no name for them, so
 * `process.on` cannot catch them and their default action used to end tend, leaving its services
 * unsupervised. Now SIGRTMIN+3 and +4 (systemd's halt and poweroff) stop the stack like TERM, every other one
 * is ignored with a note; and what tend starts (services through posix_spawn, probes through child_process)
 * still gets every signal at its default disposition.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { alive, waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-rtsig-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), `state_dir: ${join(dir, 'state')}\n${manifest}`);
  return dir;
}

/** The SigIgn and SigCgt masks of a process, from /proc/<pid>/status. */
function masks(status: string) {
  return {
    ignored: /SigIgn:\s*([0-9a-f]+)/.exec(status)?.[1],
    caught: /SigCgt:\s*([0-9a-f]+)/.exec(status)?.[1],
  };
}

const RTMIN = 34; // glibc's; the CI image is glibc
const RTMAX = 64;

describe('real-time signals to tend', () => {
  it('ignores the ones without a meaning, and its children start with default dispositions', async () => {
    // the probe runs through child_process (libuv resets only signals 1–31 in a forked child): it records
    // the dispositions it was given; the service itself starts through posix_spawn
    const dir = project(`services:
  web:
    command: exec sleep 60
    ready: { exec: 'grep -E "^Sig(Ign|Cgt)" /proc/self/status > probe.txt' }
`);
    const t = startTend(['up'], { cwd: dir });
    const pid = Number((await t.waitForOutput(/web running \(pid (\d+)\)/))[1]);
    await t.waitForOutput(/app UP/);
    // signals Node names still go through tend's own listener, which must not take them for a stop
    t.kill('SIGUSR2');
    t.kill('SIGUSR1');
    for (let n = RTMIN; n <= RTMAX; n++)
      if (n !== RTMIN + 3 && n !== RTMIN + 4) process.kill(t.proc.pid as number, n);
    await t.waitForOutput(/received SIGRTMAX; ignored/);
    expect(t.output()).toMatch(/received SIGRTMIN\+5; ignored/);
    expect(t.proc.exitCode).toBeNull();
    expect(t.proc.signalCode).toBeNull();
    expect(alive(pid)).toBe(true);

    // tend now catches 34–64; what it starts must not inherit anything
    const own = masks(readFileSync(`/proc/${t.proc.pid}/status`, 'utf8'));
    expect(BigInt(`0x${own.caught}`) >> 33n).toBe((1n << 31n) - 1n);
    expect(masks(readFileSync(`/proc/${pid}/status`, 'utf8'))).toEqual({
      ignored: '0000000000000000',
      caught: '0000000000000000',
    });
    const probeFile = join(dir, 'probe.txt');
    await waitFor(
      () => {
        try {
          return readFileSync(probeFile, 'utf8').includes('SigCgt');
        } catch {
          return false;
        }
      },
      { what: 'the probe wrote its dispositions' },
    );
    expect(masks(readFileSync(probeFile, 'utf8')).ignored).toBe('0000000000000000');

    t.kill('SIGTERM');
    expect(await t.exit(15_000)).toBe(0);
  });

  it('SIGRTMIN+3 (systemd halt, the STOPSIGNAL of systemd-style images) stops the stack like TERM', async () => {
    const dir = project('services:\n  web:\n    command: exec sleep 60\n');
    const t = startTend(['up'], { cwd: dir });
    const pid = Number((await t.waitForOutput(/web running \(pid (\d+)\)/))[1]);
    await t.waitForOutput(/app UP/);
    process.kill(t.proc.pid as number, RTMIN + 3);
    expect(await t.exit(15_000)).toBe(0);
    expect(t.output()).toMatch(/received SIGRTMIN\+3/);
    expect(t.output()).toMatch(/app STOPPED/);
    expect(alive(pid)).toBe(false);
  });
});
