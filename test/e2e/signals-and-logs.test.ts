/**
 * Signals an operator (or a confused tool) sends to tend, and log files moved under its feet: tend keeps
 * supervising, stops only on the signals that mean stop, and follows a log file renamed or deleted by hand.
 */
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
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
  const dir = mkdtempSync(join(tmpdir(), 'tend-sig-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), `state_dir: ${join(dir, 'state')}\n${manifest}`);
  return dir;
}

describe('signals to tend', () => {
  it('survives the signals that mean nothing to it, and QUIT stops the stack like TERM', async () => {
    const dir = project('services:\n  web:\n    command: exec sleep 60\n');
    const t = startTend(['up'], { cwd: dir });
    const pid = Number((await t.waitForOutput(/web running \(pid (\d+)\)/))[1]);
    await t.waitForOutput(/app UP/);
    for (const sig of [
      'SIGALRM',
      'SIGVTALRM',
      'SIGPROF',
      'SIGPWR',
      'SIGXCPU',
      'SIGSYS',
      'SIGTRAP',
    ] as const) {
      t.kill(sig);
    }
    await t.waitForOutput(/received SIGTRAP; ignored/);
    expect(t.proc.exitCode).toBeNull();
    expect(alive(pid)).toBe(true);
    t.kill('SIGQUIT');
    expect(await t.exit(15_000)).toBe(0);
    expect(t.output()).toMatch(/app STOPPED/);
    expect(alive(pid)).toBe(false);
  });
});

describe('log files moved by hand', () => {
  const counter = 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.01; done';
  const numbers = (files: string[]) =>
    files
      .filter((f) => existsSync(f))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n'))
      .map((l) => /line (\d+)$/.exec(l)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);

  it('a renamed log (logrotate without copytruncate) is followed by a new file, no line lost', async () => {
    const dir = project(`services:\n  count:\n    command: '${counter}'\n    logs: { format: raw }\n`);
    const log = join(dir, 'state/logs/count.log');
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/);
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('line 20'), {
      what: '20 lines',
    });
    renameSync(log, `${log}.old`);
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('line'), {
      what: 'a new log file under the same name',
      timeoutMs: 5000,
    });
    t.kill('SIGTERM');
    await t.exit(15_000);
    const got = numbers([`${log}.old`, log]);
    expect(got.length).toBeGreaterThan(20);
    // every number from 1 to the last, each once
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
  });

  it('a deleted log comes back on SIGUSR1, the logrotate convention', async () => {
    const dir = project(`services:\n  count:\n    command: '${counter}'\n    logs: { format: raw }\n`);
    const log = join(dir, 'state/logs/count.log');
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/);
    await waitFor(() => existsSync(log), { what: 'the log' });
    unlinkSync(log);
    t.kill('SIGUSR1');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('line'), {
      what: 'a new log file',
      timeoutMs: 5000,
    });
    expect(t.proc.exitCode).toBeNull();
  });
});
