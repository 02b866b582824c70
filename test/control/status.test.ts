/**
 * `tend status` as an operator reads it: what each service waits for (its readiness probe's last answer and
 * elapsed/timeout), CPU and memory of its whole process group, jobs with their runs and last result, and a
 * backoff countdown that counts down. The built CLI against a real `tend up`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StatusView } from '../../src/control/types.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let closedPort: number;
let listener: Server | undefined;

const status = () => JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout) as StatusView;
const text = () => runTend(['status'], { cwd: dir }).stdout;
const row = (out: string, name: string) => out.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';

/** A port nobody listens on: bound once, then closed. */
async function freePort(): Promise<number> {
  const s: Server = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tend-status-'));
  closedPort = await freePort();
  mkdirSync(join(dir, 'kv/app'), { recursive: true });
  writeFileSync(join(dir, 'kv/app/mode'), '@@MISSING@@');
  writeFileSync(join(dir, 'mode.tmpl'), 'mode = {{ key "app/mode" }}\n');
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
services:
  burner:
    # a process group of three: the shell, a busy loop and a sleeper
    command: (while :; do :; done) & sleep 600 & wait
  probe:
    command: exec sleep 600
    ready: { tcp: "127.0.0.1:${closedPort}", interval: 200ms, timeout: 60s }
  crasher:
    command: exit 4
    restart: { backoff: { initial: 40s, max: 40s }, max_failures: 0 }
  conf:
    command: exec sleep 600
    templates:
      - source: mode.tmpl
        destination: etc/mode.conf
        sentinel: "@@MISSING@@"
`,
  );
  startTend(['up'], { cwd: dir });
  await waitFor(() => status().services.length === 4, { what: 'tend up', timeoutMs: 20_000 });
}, 40_000);

afterAll(async () => {
  await stopAllTends();
  listener?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tend status', () => {
  it('says what a service waits for: its readiness probe, the probe’s answer, elapsed and timeout', async () => {
    await waitFor(() => /\(ECONNREFUSED\) [1-9]\d*s\/1m/.test(row(text(), 'probe')), {
      what: 'the probe answer',
      timeoutMs: 15_000,
    });
    expect(row(text(), 'probe')).toMatch(
      new RegExp(`running .*waiting for tcp 127\\.0\\.0\\.1:${closedPort} \\(ECONNREFUSED\\) \\d+s/1m$`),
    );
    expect(status().services.find((s) => s.name === 'probe')?.waiting).toMatch(/^waiting for tcp /);
    // the port opens: the service is ready, waits for nothing, and the app comes UP (jobs run from then on)
    listener = createServer((c) => c.end());
    await new Promise<void>((r) => listener!.listen(closedPort, '127.0.0.1', r));
    await waitFor(() => status().services.find((s) => s.name === 'probe')?.state === 'ready', {
      what: 'probe ready',
      timeoutMs: 15_000,
    });
    expect(status().services.find((s) => s.name === 'probe')?.waiting).toBeUndefined();
  });

  it('shows CPU and memory summed over the service’s process group', async () => {
    await waitFor(() => (status().services.find((s) => s.name === 'burner')?.usage?.cpu ?? 0) > 5, {
      what: 'a CPU sample of the busy loop',
      timeoutMs: 20_000,
    });
    const burner = status().services.find((s) => s.name === 'burner')!;
    expect(burner.usage!.processes).toBeGreaterThanOrEqual(3);
    expect(burner.usage!.rssBytes).toBeGreaterThan(100 * 1024);
    expect(row(text(), 'burner')).toMatch(/^burner\s+running\s+\d+\s+\S+\s+\d+\.\d%\s+\d+(\.\d)?[KM]\s+0\s/);
  });

  it('counts a backoff down instead of repeating the delay it had when it began', async () => {
    await waitFor(() => status().services.find((s) => s.name === 'crasher')?.state === 'backoff', {
      what: 'crasher backing off',
      timeoutMs: 15_000,
    });
    const left = () => {
      const m = /restarting in (\d+(?:\.\d+)?)s/.exec(row(text(), 'crasher'));
      return m ? Number(m[1]) : Number.NaN;
    };
    const first = left();
    expect(first).toBeGreaterThan(0);
    await waitFor(() => left() <= first - 1, { what: 'the countdown to move', timeoutMs: 10_000 });
    expect(status().services.find((s) => s.name === 'crasher')?.retryAt).toBeGreaterThan(Date.now());
  });

  it('notes a template whose output holds its sentinel, below the tables', async () => {
    await waitFor(() => (status().notes ?? []).length > 0, { what: 'a note', timeoutMs: 15_000 });
    expect(text()).toMatch(
      /^! conf: etc\/mode\.conf holds its sentinel "@@MISSING@@"; the last good file stays$/m,
    );
    // a real value: the note goes
    writeFileSync(join(dir, 'kv/app/mode'), 'live');
    await waitFor(() => (status().notes ?? []).length === 0, { what: 'the note gone', timeoutMs: 15_000 });
  });

  it('lists jobs apart, with their runs and how the last one ended, not restarts', async () => {
    // jobs run once the app is UP: a stack of its own, which the probe above does not hold in WARMUP
    const jobs = mkdtempSync(join(tmpdir(), 'tend-status-jobs-'));
    try {
      writeFileSync(
        join(jobs, 'tend.yaml'),
        `name: jobs\nservices:\n  web:\n    command: exec sleep 600\n  tick:\n    command: echo tick; exit 3\n    schedule: "* * * * * *"\n`,
      );
      startTend(['up'], { cwd: jobs });
      const jobStatus = () => JSON.parse(runTend(['status', '--json'], { cwd: jobs }).stdout) as StatusView;
      await waitFor(() => (jobStatus().services.find((s) => s.name === 'tick')?.runs?.runs ?? 0) >= 2, {
        what: 'two runs of the job',
        timeoutMs: 15_000,
      });
      const out = runTend(['status'], { cwd: jobs }).stdout;
      expect(out).toMatch(/^JOB\s+STATE\s+PID\s+CPU\s+MEM\s+RUNS\s+LAST RUN\s+REASON$/m);
      expect(row(out, 'tick')).toMatch(/^tick\s+\S+\s+.*\s\d+\s+exit 3 after \d+ms, \d+s ago/);
      expect(out.split('\n').find((l) => l.startsWith('SERVICE'))).toContain('RESTARTS');
      expect(out.split('\n').filter((l) => /^tick /.test(l))).toHaveLength(1);
    } finally {
      rmSync(jobs, { recursive: true, force: true });
    }
  });
});
