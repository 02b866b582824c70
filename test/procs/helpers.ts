import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * Compiles src/procs and the fixtures to JavaScript that plain `node` runs (Node 20 cannot run TypeScript).
 * Output goes under node_modules/.cache, which no linter or type check looks at, and from where `koffi`
 * still resolves through the project's node_modules.
 */
export function buildFixtures(): { script(name: string): string; cleanup(): void } {
  const cache = join(ROOT, 'node_modules', '.cache', 'tend-procs-test');
  mkdirSync(cache, { recursive: true });
  const out = mkdtempSync(join(cache, 'build-'));
  const fixtures = readdirSync(join(ROOT, 'test/procs/fixtures'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(ROOT, 'test/procs/fixtures', f));
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  execFileSync(
    tsc,
    [
      '--ignoreConfig',
      '--outDir',
      out,
      '--rootDir',
      ROOT,
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--strict',
      '--skipLibCheck',
      ...fixtures,
    ],
    { cwd: ROOT, stdio: 'pipe' },
  );
  // Below node_modules, Node does not look further up for the project's "type": "module".
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  return {
    script: (name) => join(out, 'test/procs/fixtures', name),
    cleanup: () => {
      rmSync(out, { recursive: true, force: true });
      try {
        rmdirSync(cache);
      } catch {
        // Another test file's build is still there.
      }
    },
  };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'tend-procs-'));
}

/** Spawns process groups and kills every one of them (and anything else registered) on cleanup. */
export function processJanitor() {
  const groups = new Set<number>();
  const pids = new Set<number>();
  return {
    /** Spawns cmd detached (own process group), remembered for cleanup. */
    spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
      const child = spawn(cmd, args, { stdio: 'ignore', ...opts, detached: true });
      if (child.pid) groups.add(child.pid);
      child.on('error', () => {});
      return child;
    },
    track(pid: number) {
      pids.add(pid);
    },
    cleanup() {
      for (const g of groups) kill(-g);
      for (const p of pids) kill(p);
      groups.clear();
      pids.clear();
    },
  };
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export async function waitFor<T>(
  fn: () => T | undefined | false,
  timeoutMs = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs a node script to completion and parses the last line of its stdout as JSON. */
export function runJson(
  command: string,
  args: string[],
  janitor: ReturnType<typeof processJanitor>,
  timeoutMs = 25_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const child = janitor.spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => {
      out += d;
    });
    child.stderr?.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => reject(new Error(`timed out: ${out}${err}`)), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolvePromise(JSON.parse(last));
      } catch {
        reject(new Error(`exit ${code}, stdout ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`));
      }
    });
  });
}

export function canUnsharePid(): boolean {
  try {
    execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}
