import { addOrphanPolicy } from './exits.js';
import { __WALL, EINTR, type Libc, loadLibc, WNOHANG } from './native.js';
import { listChildren, procAvailable, processInfo } from './proc.js';
import { installSpawnHook, isNodeChild } from './tracked.js';

export interface ReaperOptions {
  /**
   * Extra pids not to reap, on top of every child Node's child_process owns (always skipped). Only needed for
   * children created behind Node's back.
   */
  isTracked?: (pid: number) => boolean;
  /**
   * Period of the backstop scan. Default 30 s: SIGCHLD triggers a scan at once, the timer only catches a
   * signal that was missed, so it need not wake an idle tend often.
   */
  intervalMs?: number;
  /** Called for each orphan reaped, with its raw wait status (see decodeWaitStatus). */
  onReaped?: (pid: number, status: number) => void;
  /**
   * Patch ChildProcess.prototype.spawn so every child Node spawns (also from libraries) is tracked. Default
   * true; turning it off makes safety depend on every spawn going through spawnTracked/trackChild.
   */
  hookSpawns?: boolean;
  /**
   * Also reap when SIGCHLD arrives, so zombies do not wait for the timer: each orphan is reaped as exits.ts
   * names it, without a scan. Default true.
   */
  onSigchld?: boolean;
}

export interface Reaper {
  /** Stops the timer and the SIGCHLD listener. Idempotent. */
  stop(): void;
  /** Reaps every eligible zombie child now; returns how many were reaped. */
  reapNow(): number;
  /** Set when reaping is impossible here (no /proc, no koffi, not Linux); the reaper then does nothing. */
  warning?: string;
}

/**
 * Reaps orphaned zombies that were reparented to this process (as PID 1, or as a child subreaper), and
 * never a child Node is waiting for.
 *
 * Each scan lists this process's children, keeps the zombies, drops the tracked ones and calls
 * waitpid(<pid>, WNOHANG) on each remaining one by pid. Never waitpid(-1): that would collect whichever child
 * exited, including one of Node's, whose 'exit' event would then be lost.
 *
 * Races, and why they are harmless:
 * - A tracked child that exited but that libuv has not collected yet is a zombie with a tracked pid: skipped,
 *   libuv collects it.
 * - A pid is untracked in the same synchronous callback where libuv collected it, so a reused pid is never
 *   mistaken for Node's, and a tracked pid can never belong to an orphan.
 * - Everything runs on the JavaScript thread, as does every spawn: no spawn can happen between our read of
 *   the registry and our waitpid.
 *
 * SIGCHLD: Node 20 (libuv 1.46) lets JavaScript listen to SIGCHLD without harm. libuv itself watches SIGCHLD
 * to collect its children, and it multiplexes one signal among any number of watchers, so its own watcher
 * still fires and every 'exit' event still arrives (tested: 200 children with a listener and the reaper at
 * 10 ms, all exit codes right). On SIGCHLD no scan runs: exits.ts names each exited child without collecting
 * it (waitid, WNOWAIT) and an orphan is reaped by that pid when mayReap says so; the scan is its fallback and
 * the timer's, a backstop (a zombie that was reparented while already dead also sends SIGCHLD, but a missed
 * signal costs nothing with it). The timer is unref'd: the reaper never keeps tend alive.
 */
export function startReaper(opts: ReaperOptions = {}): Reaper {
  const intervalMs = opts.intervalMs ?? 30_000;
  const loaded = loadLibc();
  const unavailable = !procAvailable()
    ? '/proc is not available'
    : 'error' in loaded
      ? loaded.error
      : undefined;
  if (unavailable || !('libc' in loaded)) {
    return { stop() {}, reapNow: () => 0, warning: `cannot reap orphans: ${unavailable}` };
  }
  const { libc } = loaded;

  if (opts.hookSpawns !== false) installSpawnHook();

  const preexisting = snapshotUntrackedChildren();
  // Checked before /proc/<pid>/stat is read: with every service a tracked child, a scan reads no stat file.
  const tracked = (pid: number) => isNodeChild(pid) || (opts.isTracked?.(pid) ?? false);
  const reapNow = () => reapZombieChildren(libc, tracked, preexisting, opts.onReaped);

  let stopped = false;
  const timer = setInterval(reapNow, intervalMs);
  timer.unref();

  // On SIGCHLD, exits.ts names each exited child (waitid with WNOWAIT) and asks here whether it may go: no
  // listing of every child per signal, which with 5,000 services was 5,000 pids read and checked per exit.
  const listen = opts.onSigchld !== false;
  const leave = listen
    ? addOrphanPolicy({
        mayReap: (pid) => {
          if (stopped || tracked(pid)) return false;
          const info = preexisting.size() > 0 ? processInfo(pid) : undefined;
          return !(info && preexisting(pid, info.startTime));
        },
        reaped: (pid, status) => {
          try {
            opts.onReaped?.(pid, status);
          } catch {
            // A failing callback must not stop the remaining zombies from being reaped.
          }
        },
        scan: () => {
          if (!stopped) reapNow();
        },
      })
    : undefined;

  return {
    reapNow,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      leave?.();
    },
  };
}

function reapZombieChildren(
  libc: Libc,
  tracked: (pid: number) => boolean,
  preexisting: (pid: number, startTime: number) => boolean,
  onReaped: ((pid: number, status: number) => void) | undefined,
): number {
  let reaped = 0;
  for (const pid of listChildren(process.pid)) {
    if (tracked(pid)) continue;
    // Only zombies: waitpid(WNOHANG) on a live child would return 0 anyway, but this saves the FFI call.
    const info = processInfo(pid);
    if (info?.state !== 'Z' || preexisting(pid, info.startTime)) continue;
    const status = [0];
    let got = -1;
    for (let attempt = 0; attempt < 3; attempt++) {
      got = libc.waitpid(pid, status, WNOHANG | __WALL);
      if (got !== -1 || libc.errno() !== EINTR) break;
    }
    if (got === pid) {
      reaped++;
      try {
        onReaped?.(pid, status[0]);
      } catch {
        // A failing callback must not stop the remaining zombies from being reaped.
      }
    }
    // -1 with ECHILD: someone else collected it meanwhile. Anything else: best effort, the next scan retries.
  }
  return reaped;
}

/**
 * Children that existed before the reaper (and its spawn hook) started could be Node's own, spawned before
 * anything tracked them: the supervisor should start the reaper before its first spawn, but a mistake there
 * must not cost an exit event. Such a child is left alone until it has been a zombie for a while: libuv
 * collects its own children on the first loop turn after their SIGCHLD, so a zombie still there a second
 * later is an orphan. Returns whether to skip pid (identified with its start time) now.
 */
function snapshotUntrackedChildren(): ((pid: number, startTime: number) => boolean) & { size(): number } {
  const known = new Map<number, { startTime: number; zombieSince?: number }>();
  for (const pid of listChildren(process.pid)) {
    const info = processInfo(pid);
    if (info && !isNodeChild(pid)) known.set(pid, { startTime: info.startTime });
  }
  const skip = (pid: number, startTime: number) => {
    const entry = known.get(pid);
    if (!entry || entry.startTime !== startTime) return false;
    const now = Date.now();
    entry.zombieSince ??= now;
    if (now - entry.zombieSince < PREEXISTING_GRACE_MS) return true;
    known.delete(pid);
    return false;
  };
  return Object.assign(skip, { size: () => known.size });
}

const PREEXISTING_GRACE_MS = 1000;

/** Exit code or terminating signal number from a raw wait status (WIFEXITED/WEXITSTATUS/WTERMSIG). */
export function decodeWaitStatus(status: number): { code: number | null; signal: number | null } {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: sig };
}
