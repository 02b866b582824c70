// One temporary folder per bench process, and the guarantee that nothing it started outlives it.
//
// Every supervisor is started with TEND_BENCH_RUN=<id> in its environment; supervisors pass their environment
// on to their services (runsvdir → runsv → run, supervisord, PM2's daemon, tend), so `sweep()` finds every
// process of this run by reading /proc/<pid>/environ, whatever state a failed workload left it in, and kills
// it. `cleanup()` runs on normal exit, on an uncaught error, and on SIGINT/SIGTERM/SIGHUP.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidsWithEnv } from './proc.mjs';
import { sleep } from './util.mjs';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(BENCH_DIR, '..');
export const MARKER = 'TEND_BENCH_RUN';

let work;
const cleanups = [];

/** The run's folder (created on first use), its marker and the environment to give every supervisor. */
export function workdir() {
  if (work) return work;
  const dir = mkdtempSync(join(tmpdir(), 'tend-bench-'));
  const id = `${process.pid}-${Date.now()}`;
  work = { dir, id, env: { ...process.env, [MARKER]: id } };
  installCleanup();
  return work;
}

/** A fresh sub-folder of the work dir. */
export function subdir(...parts) {
  const d = join(workdir().dir, ...parts);
  mkdirSync(d, { recursive: true });
  return d;
}

/** Registers fn (sync or async) to run at cleanup, newest first. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** SIGKILLs every process whose environment holds name=value (default: this run's marker); returns how many. */
export function sweep(name = MARKER, value = work?.id) {
  if (!work) return 0;
  const pids = pidsWithEnv(name, value);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  return pids.length;
}

/** Kills what is left (of name=value, default the whole run) and waits up to 5 s until it is gone. */
export async function sweepAndWait(name = MARKER, value = work?.id) {
  if (!work || sweep(name, value) === 0) return 0;
  for (let i = 0; i < 50; i++) {
    await sleep(100);
    if (pidsWithEnv(name, value).length === 0) return 0;
    sweep(name, value);
  }
  return pidsWithEnv(name, value).length;
}

let cleaned = false;
async function cleanup() {
  if (cleaned || !work) return;
  cleaned = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch {}
  }
  await sweepAndWait();
  rmSync(work.dir, { recursive: true, force: true });
}

function cleanupSync() {
  if (cleaned || !work) return;
  cleaned = true;
  sweep();
  rmSync(work.dir, { recursive: true, force: true });
}

function installCleanup() {
  process.once('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, async () => {
      process.stderr.write(`bench: ${sig}: cleaning up\n`);
      await cleanup();
      process.exit(130);
    });
  }
}

/** Ends the run: cleanup, then the exit code. */
export async function finish(code = 0) {
  await cleanup();
  process.exitCode = code;
}

/** Compiles a C file of bench/ into the work dir's bin/ once; returns the binary's path. */
const compiled = new Map();
export function compile(relSource, name) {
  if (compiled.has(relSource)) return compiled.get(relSource);
  const bin = subdir('bin');
  const out = join(bin, name);
  execFileSync('cc', ['-O2', '-o', out, join(BENCH_DIR, relSource)], { stdio: 'inherit' });
  chmodSync(out, 0o755);
  compiled.set(relSource, out);
  return out;
}
