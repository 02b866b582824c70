import {
  type ChildProcess,
  ChildProcess as ChildProcessClass,
  type SpawnOptions,
  spawn,
} from 'node:child_process';

/**
 * The pids Node's child_process owns: spawned and not yet reported by an 'exit' event. libuv collects each of
 * them with waitpid(<that pid>) when SIGCHLD arrives; if anyone else reaps one first, libuv's waitpid fails
 * with ECHILD and Node silently never emits 'exit' (the service would look alive forever). The reaper skips
 * every pid in here.
 *
 * Kept on globalThis under a registered symbol so that two copies of this module (say, src and dist both
 * loaded in one process) still share one registry.
 */
const REGISTRY = Symbol.for('tend.procs.nodeChildren');
const HOOKED = Symbol.for('tend.procs.spawnHooked');

type Globals = Record<symbol, unknown>;

function registry(): Set<number> {
  const g = globalThis as unknown as Globals;
  let set = g[REGISTRY] as Set<number> | undefined;
  if (!set) {
    set = new Set();
    g[REGISTRY] = set;
  }
  return set;
}

/** Whether pid is a child Node is waiting for (so nobody else may reap it). */
export function isNodeChild(pid: number): boolean {
  return registry().has(pid);
}

/**
 * Records a child started behind Node's back (fastSpawn), whose owner collects it itself, so that the orphan
 * reaper leaves it alone; untrackPid once it was collected.
 */
export function trackPid(pid: number): void {
  registry().add(pid);
}

export function untrackPid(pid: number): void {
  registry().delete(pid);
}

/** The pids of every tracked child, for diagnostics and tests. */
export function nodeChildren(): number[] {
  return [...registry()].sort((a, b) => a - b);
}

/**
 * Records child's pid until Node has collected it. Must be called in the same tick as the spawn, before the
 * event loop runs again: libuv cannot reap the child before then, so there is no window where the reaper could
 * take it. Idempotent.
 */
export function trackChild(child: ChildProcess): ChildProcess {
  const pid = child.pid;
  // No pid: the spawn failed and there is no process to protect.
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return child;
  const set = registry();
  if (set.has(pid)) return child;
  set.add(pid);
  // 'exit' is emitted right after libuv's waitpid succeeded; 'close' follows it and is a backstop should a
  // listener remove ours. Untracking then matters: the pid may be reused by an orphan we do need to reap.
  const untrack = () => {
    set.delete(pid);
  };
  child.once('exit', untrack);
  child.once('close', untrack);
  return child;
}

/** child_process.spawn, with the child tracked so the reaper never steals its exit status. */
export function spawnTracked(
  command: string,
  args: readonly string[] = [],
  options: SpawnOptions = {},
): ChildProcess {
  return trackChild(spawn(command, args, options));
}

/**
 * Makes every asynchronous spawn in this process tracked — spawn, exec, execFile and fork all go through
 * ChildProcess.prototype.spawn — including those made by libraries and by code that forgot spawnTracked.
 * spawnSync and friends need nothing: they block the JavaScript thread until their child is collected, so the
 * reaper cannot run in between.
 *
 * Not covered: children spawned from worker threads (their own copy of child_process, which this does not
 * patch) and processes forked by native addons. tend spawns from neither.
 */
export function installSpawnHook(): void {
  const g = globalThis as unknown as Globals;
  if (g[HOOKED]) return;
  g[HOOKED] = true;
  const proto = ChildProcessClass.prototype as unknown as { spawn: (...args: unknown[]) => unknown };
  const original = proto.spawn;
  proto.spawn = function trackedSpawn(this: ChildProcess, ...args: unknown[]) {
    const result = original.apply(this, args);
    trackChild(this);
    return result;
  };
}
