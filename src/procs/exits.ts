import { __WALL, ECHILD, EINTR, type Libc, loadLibc, WNOHANG } from './native.js';
import { isNodeChild } from './tracked.js';

/**
 * The one SIGCHLD listener for the children tend collects itself: services started by fastSpawn (claimed by
 * pid) and orphans reparented to tend (the reaper's). Node's own children (child_process) stay libuv's.
 *
 * Why not a waitpid(<pid>, WNOHANG) for every claimed child on each SIGCHLD (what fastSpawn did): that is one
 * FFI call per live service for every exit, so a burst of k exits among n services cost k × n calls — with
 * 5,000 services, 5,000 calls before one exit was even seen, and a stop of everything was quadratic.
 *
 * Instead, `waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT)` names one child that has exited without
 * collecting it (WNOWAIT leaves it waitable), so tend decides whose it is before anything is taken:
 * - claimed (fastSpawn's): waitpid(<that pid>) collects it and its owner hears the status;
 * - an orphan or untracked child the reaper may take: reaped by pid the same way;
 * - one of Node's (tracked: libuv collects it on its own SIGCHLD watcher): left alone. The kernel keeps
 *   naming the same first zombie, so tend cannot see past it: it looks again on the next turn of the loop, by
 *   which libuv has collected its child; if that child is still there after a few turns, one full pass asks
 *   every claimed pid by name (the old way: always right, O(n)).
 * - anything else nobody may take (no reaper running, or a pre-existing child in its grace period): the full
 *   pass, at once.
 * It repeats until no zombie is left, so a SIGCHLD costs about two calls per exited child, whatever n is.
 * Nothing here ever reaps a pid it has not named first, so no child of Node's is ever taken.
 */

/** How the owner of a claimed pid hears of its end: the raw wait status, or undefined if it was lost. */
export type ExitListener = (status: number | undefined) => void;

/** The reaper's say over children nobody claimed or tracks. */
export interface OrphanPolicy {
  /** whether this zombie (neither claimed nor Node's) may be reaped now */
  mayReap(pid: number): boolean;
  /** after it was reaped, with its raw wait status */
  reaped(pid: number, status: number): void;
  /** the reaper's own full scan (used when the peek is blocked) */
  scan(): void;
}

const P_ALL = 0;
const WEXITED = 4;
const WNOWAIT = 0x01000000;
// Turns of the event loop to wait for libuv to collect a child of Node's that hides the zombies behind it.
const NODE_RETRIES = 5;
// A guard against a kernel or libc that answered nonsense: far more exits than one pass can have.
const MAX_PER_PASS = 1_000_000;

const claims = new Map<number, ExitListener>();
const policies = new Set<OrphanPolicy>();
let listening = false;
let retryPending = false;
let retries = 0;
let info: Buffer | undefined;
let pidOffset = 16;

/** Counters for diagnostics and tests: how the passes went. */
export const exitStats = { peeks: 0, collected: 0, fullPasses: 0 };

function libc(): Libc | undefined {
  const loaded = loadLibc();
  return 'libc' in loaded ? loaded.libc : undefined;
}

/**
 * siginfo_t: si_signo, si_errno, si_code (ints), then the union, aligned to the pointer size: si_pid is its
 * first field (offset 16 on 64-bit Linux, 12 on 32-bit).
 */
function siginfo(c: Libc): Buffer {
  if (!info) {
    info = Buffer.alloc(128);
    pidOffset = c.pointerSize === 8 ? 16 : 12;
  }
  return info;
}

/** The pid of one exited child, not collected; 0 when there is none (or no child at all). */
function peek(c: Libc): number {
  const buf = siginfo(c);
  buf.fill(0, 0, pidOffset + 4);
  exitStats.peeks++;
  for (let attempt = 0; attempt < 3; attempt++) {
    const rc = c.waitid(P_ALL, 0, buf, WEXITED | WNOHANG | WNOWAIT | __WALL);
    if (rc === 0) return buf.readInt32LE(pidOffset);
    const errno = c.errno();
    if (errno === ECHILD) return 0;
    if (errno !== EINTR) return -1;
  }
  return -1;
}

/** Collects pid; its raw status, or undefined when it was gone (ECHILD) or not collectable now. */
function collect(c: Libc, pid: number): { got: boolean; status?: number } {
  const status = [0];
  for (let attempt = 0; attempt < 3; attempt++) {
    const got = c.waitpid(pid, status, WNOHANG | __WALL);
    if (got === pid) return { got: true, status: status[0] };
    if (got === 0) return { got: false };
    const errno = c.errno();
    if (errno === ECHILD) return { got: true, status: undefined };
    if (errno !== EINTR) return { got: false };
  }
  return { got: false };
}

function deliver(pid: number, status: number | undefined): void {
  const listener = claims.get(pid);
  if (!listener) return;
  claims.delete(pid);
  exitStats.collected++;
  listener(status);
}

/** The old way, right whatever is at the head of the list: ask every claimed pid, then the reaper's scan. */
function fullPass(c: Libc): void {
  exitStats.fullPasses++;
  for (const pid of [...claims.keys()]) {
    const r = collect(c, pid);
    if (r.got) deliver(pid, r.status);
  }
  for (const p of policies) p.scan();
}

/** One pass over the exited children, as far as the peek can see: what is left to do. */
function pass(c: Libc): 'done' | 'full' | 'node' {
  for (let n = 0; n < MAX_PER_PASS; n++) {
    const pid = peek(c);
    if (pid === 0) return 'done';
    if (pid < 0) return 'full';
    if (claims.has(pid)) {
      const r = collect(c, pid);
      if (!r.got) return 'full';
      deliver(pid, r.status);
    } else if (isNodeChild(pid)) {
      return 'node';
    } else if (policies.size > 0 && [...policies].every((p) => p.mayReap(pid))) {
      const r = collect(c, pid);
      if (!r.got) return 'full';
      if (r.status !== undefined) for (const p of policies) p.reaped(pid, r.status);
    } else {
      return 'full';
    }
  }
  return 'full';
}

/** Collects every exited child that is tend's to collect. Safe to call at any time; the SIGCHLD listener. */
export function drainExits(): void {
  const c = libc();
  if (!c) return;
  const outcome = pass(c);
  if (outcome === 'node' && retries < NODE_RETRIES) {
    // libuv's to collect, on this turn of the loop or the next: look again then.
    retries++;
    if (!retryPending) {
      retryPending = true;
      setImmediate(() => {
        retryPending = false;
        drainExits();
      });
    }
    return;
  }
  retries = 0;
  if (outcome !== 'done') fullPass(c);
}

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('SIGCHLD', drainExits);
}

/**
 * Collects pid when it exits and calls listener with its status. Claim it in the same tick as the spawn,
 * before the loop runs again (a child that exits at once is then still uncollected). The SIGCHLD listener is
 * installed on the first claim; call watchExits() before the first spawn so no early signal is missed.
 */
export function claimExit(pid: number, listener: ExitListener): void {
  listen();
  claims.set(pid, listener);
}

/** Installs the SIGCHLD listener now (before a first spawn whose child could exit at once). */
export function watchExits(): boolean {
  if (!libc()) return false;
  listen();
  return true;
}

/** Pids claimed and not collected yet. */
export function claimedCount(): number {
  return claims.size;
}

/** Every claimed pid asked by name (the backstop for a SIGCHLD that never came). */
export function collectClaimed(): void {
  const c = libc();
  if (!c) return;
  for (const pid of [...claims.keys()]) {
    const r = collect(c, pid);
    if (r.got) deliver(pid, r.status);
  }
}

/** The reaper joins the pass: orphans it may take are reaped as they are named. Returns the unsubscribe. */
export function addOrphanPolicy(policy: OrphanPolicy): () => void {
  listen();
  policies.add(policy);
  return () => {
    policies.delete(policy);
  };
}
