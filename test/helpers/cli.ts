/** Runs the built CLI as a real process, and makes sure no tend outlives its test. */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** the build of this test run (see test/global-setup.ts), else dist/ */
export const CLI =
  process.env.TEND_TEST_CLI ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface TendProcess {
  proc: ChildProcess;
  output(): string;
  /** resolves with the exit code (128+n for a signal) */
  exited: Promise<number>;
  /** like `exited`, but fails with tend's output if it has not exited within the time */
  exit(timeoutMs?: number): Promise<number>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();

/** Starts `tend ARGS` in its own process group, so cleanup can take its services down with it. */
export function startTend(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): TendProcess {
  const proc = spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(proc);
  let out = '';
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  };
  proc.stdout?.on('data', onData);
  proc.stderr?.on('data', onData);
  const exited = new Promise<number>((resolve) => {
    proc.once('exit', (code, signal) => {
      live.delete(proc);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  return {
    proc,
    output: () => out,
    exited,
    exit(timeoutMs = 15_000) {
      return Promise.race([
        exited,
        new Promise<number>((_, reject) =>
          setTimeout(
            () => reject(new Error(`tend did not exit within ${timeoutMs}ms; output:\n${out}`)),
            timeoutMs,
          ).unref(),
        ),
      ]);
    },
    kill: (signal = 'SIGTERM') => proc.kill(signal),
    async waitForOutput(re, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (Date.now() > deadline || proc.exitCode !== null) {
          throw new Error(`timed out waiting for ${re} in tend output:\n${out}`);
        }
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}

/** Runs `tend ARGS` to completion. */
export function runTend(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Stops every tend started by startTend that still runs: SIGTERM first so it stops its services (they live in
 * their own process groups), SIGKILL after a few seconds as a last resort.
 */
export async function stopAllTends(graceMs = 8000) {
  const procs = [...live];
  live.clear();
  await Promise.all(
    procs.map(async (p) => {
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      const t = setTimeout(() => {
        try {
          if (p.pid) process.kill(-p.pid, 'SIGKILL');
        } catch {}
      }, graceMs);
      await gone;
      clearTimeout(t);
    }),
  );
}

/**
 * Runs `tend ARGS` to completion without blocking this process: runTend's spawnSync stops the test's event loop
 * for the whole run of the CLI (a second or more under load), and with it anything the test serves from this
 * process, such as a TCP proxy in front of etcd, whose lease keep-alives then starve (test/fleet/fleet.test.ts).
 */
export function runTendAsync(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        cwd: opts.cwd,
        env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env },
        encoding: 'utf8',
        timeout: 30_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
