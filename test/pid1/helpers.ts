/** Projects in temp folders, tend as PID 1 of a new PID namespace, and a janitor that leaves no process behind. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allProcesses, descendants, processInfo } from '../../src/procs/index.js';
import { CLI } from '../helpers/cli.js';

/**
 * Every tend a test starts gets TEND_TEST_TAG=<tag> in its environment, which all its services and their
 * daemons inherit: cleanup finds them all by it, even those that escaped every process group.
 */
export function testTag(): string {
  return `pid1-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}

export function killTagged(tag: string): void {
  const needle = Buffer.from(`TEND_TEST_TAG=${tag}\0`);
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`).includes(needle)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone, or not ours to read
    }
  }
}

export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-pid1-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Running processes whose argv is exactly `argv` (e.g. a `sleep 3071` only one test uses). */
export function processesRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return allProcesses()
    .filter((p) => p.state !== 'Z' && p.state !== 'X')
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/cmdline`, 'utf8') === want;
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

export function zombiesUnder(pid: number): number[] {
  return descendants(pid).filter((p) => processInfo(p)?.state === 'Z');
}

export function canUnsharePid(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export interface Pid1Tend {
  /** the unshare process, in this namespace */
  proc: ChildProcess;
  /** tend's pid as seen from here (it is 1 inside its namespace) */
  hostPid(): number;
  output(): string;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** resolves with unshare's exit code, which is tend's */
  exited: Promise<number>;
}

/** `tend ARGS` as PID 1 of a new PID namespace (with its own /proc), through `unshare --pid --fork`. */
export function startPid1Tend(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Pid1Tend {
  const proc = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', '--kill-child', process.execPath, CLI, ...args],
    {
      cwd: opts.cwd,
      env: { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let out = '';
  proc.stdout?.on('data', (d) => {
    out += d;
  });
  proc.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1))),
  );
  return {
    proc,
    hostPid() {
      const children = readdirSync(`/proc/${proc.pid}/task`).flatMap((tid) =>
        readFileSync(`/proc/${proc.pid}/task/${tid}/children`, 'latin1').trim().split(/\s+/).filter(Boolean),
      );
      if (children.length !== 1) throw new Error(`unshare has ${children.length} children`);
      return Number(children[0]);
    },
    output: () => out,
    exited,
    async waitForOutput(re, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = out.match(re);
        if (m) return m;
        if (Date.now() > deadline || proc.exitCode !== null) {
          throw new Error(`timed out waiting for ${re} in tend output:\n${out}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref()),
  ]);
}
