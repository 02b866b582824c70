import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** One process as /proc/<pid>/stat describes it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** R, S, D, Z (zombie), T (stopped), ... */
  state: string;
  /** Field 22 of /proc/<pid>/stat: clock ticks since boot. With the pid, identifies a process across pid reuse. */
  startTime: number;
  comm: string;
  /** fields 14 and 15: user plus system CPU time, in clock ticks (USER_HZ, 100 a second on Linux) */
  cpuTicks: number;
  /** field 24: resident set size, in pages */
  rssPages: number;
}

const PROC = '/proc';

let procChecked: boolean | undefined;

/** Whether a Linux procfs is mounted where we look; everything here degrades to "nothing found" without it. */
export function procAvailable(): boolean {
  if (procChecked === undefined) {
    try {
      procChecked = process.platform === 'linux' && readFileSync(`${PROC}/self/stat`, 'latin1').length > 0;
    } catch {
      procChecked = false;
    }
  }
  return procChecked;
}

/** Parses the text of /proc/<pid>/stat; undefined when it is not one. */
export function parseStat(text: string): ProcessInfo | undefined {
  // comm is in parentheses and may itself contain spaces and parentheses: the last ')' ends it.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  // Field n (1-based, as in proc(5)) is rest[n - 3].
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  if (rest.length < 20 || !Number.isInteger(pid)) return undefined;
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
    startTime: Number(rest[19]),
    cpuTicks: Number(rest[11]) + Number(rest[12]),
    rssPages: Number(rest[21]),
  };
}

export function processInfo(pid: number): ProcessInfo | undefined {
  if (!isPid(pid) || !procAvailable()) return undefined;
  try {
    return parseStat(readFileSync(`${PROC}/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** Every pid in /proc (processes, not threads). */
export function allPids(): number[] {
  if (!procAvailable()) return [];
  let names: string[];
  try {
    names = readdirSync(PROC);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const name of names) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) pids.push(Number(name));
  }
  return pids;
}

/** A snapshot of every readable process. Processes that vanish while we read are left out. */
export function allProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const pid of allPids()) {
    const info = processInfo(pid);
    if (info) out.push(info);
  }
  return out;
}

/**
 * Running members of process group pgid. Unlike kill(-pgid, 0), which succeeds while a member is a zombie
 * nobody has collected yet, empty means the group has really finished. Empty without /proc.
 */
export function groupMembers(pgid: number, snapshot: ProcessInfo[] = allProcesses()): number[] {
  return snapshot
    .filter((p) => p.pgid === pgid && !hasExited(p))
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}

/**
 * Direct children of pid. Uses /proc/<pid>/task/<tid>/children (one small read per thread, needs
 * CONFIG_PROC_CHILDREN) and falls back to scanning every process's parent.
 */
export function listChildren(pid: number): number[] {
  if (!isPid(pid)) return [];
  const fromTasks = childrenFromTasks(pid);
  if (fromTasks) return fromTasks;
  return allProcesses()
    .filter((p) => p.ppid === pid)
    .map((p) => p.pid)
    .sort((a, b) => a - b);
}

let childrenFiles: boolean | undefined;

function childrenFromTasks(pid: number): number[] | undefined {
  if (childrenFiles === undefined) {
    try {
      const tid = readdirSync(`${PROC}/self/task`)[0];
      childrenFiles = existsSync(`${PROC}/self/task/${tid}/children`);
    } catch {
      childrenFiles = false;
    }
  }
  if (!childrenFiles) return undefined;
  let tids: string[];
  try {
    tids = readdirSync(`${PROC}/${pid}/task`);
  } catch {
    return [];
  }
  const found = new Set<number>();
  for (const tid of tids) {
    try {
      for (const part of readFileSync(`${PROC}/${pid}/task/${tid}/children`, 'latin1').split(' ')) {
        if (part) found.add(Number(part));
      }
    } catch {
      // The thread ended while we read.
    }
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Every descendant of pid (children, their children, ...), from one scan of /proc so it also works without
 * children files. Processes that were reparented away (double fork, setsid daemons whose parent exited) are no
 * longer descendants: that is what the environment marker is for.
 */
export function descendants(pid: number, snapshot: ProcessInfo[] = allProcesses()): number[] {
  return descendantsOfAll([pid], snapshot);
}

export function descendantsOfAll(
  roots: Iterable<number>,
  snapshot: ProcessInfo[] = allProcesses(),
): number[] {
  const byParent = new Map<number, number[]>();
  for (const p of snapshot) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p.pid);
    else byParent.set(p.ppid, [p.pid]);
  }
  const rootSet = new Set(roots);
  const seen = new Set<number>();
  const queue = [...rootSet];
  while (queue.length > 0) {
    const next = queue.pop()!;
    for (const child of byParent.get(next) ?? []) {
      if (seen.has(child) || rootSet.has(child)) continue;
      seen.add(child);
      queue.push(child);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * Whether pid is a running process. A zombie is not: it has exited and only waits for its parent to read its
 * status. Without /proc, falls back to kill(pid, 0), which counts zombies as alive.
 */
export function isAlive(pid: number): boolean {
  if (!isPid(pid)) return false;
  if (procAvailable()) {
    const info = processInfo(pid);
    return info !== undefined && !hasExited(info);
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether pid still is the very process that had startTime (same pid, not reused), and has not exited. */
export function isSameProcess(pid: number, startTime: number): boolean {
  const info = processInfo(pid);
  return info !== undefined && info.startTime === startTime && !hasExited(info);
}

/**
 * Whether a process has exited (zombie or dead). The stat of a process is its main thread's: that thread can
 * be a zombie while others still run (it called pthread_exit) or are still dying (after SIGKILL, with the
 * process's files — and so its locks — not yet released). The process is gone only with its last thread.
 */
export function hasExited(info: ProcessInfo): boolean {
  if (info.state !== 'Z' && info.state !== 'X') return false;
  let tids: string[];
  try {
    tids = readdirSync(`${PROC}/${info.pid}/task`);
  } catch {
    return true;
  }
  for (const tid of tids) {
    if (tid === String(info.pid)) continue;
    const state = processInfo(Number(tid))?.state;
    if (state !== undefined && state !== 'Z' && state !== 'X') return false;
  }
  return true;
}

/** argv of pid; empty when unreadable or a kernel thread. */
export function readCmdline(pid: number): string[] {
  try {
    const text = readFileSync(`${PROC}/${pid}/cmdline`, 'utf8');
    return text === '' ? [] : text.replace(/\0$/, '').split('\0');
  } catch {
    return [];
  }
}

/** pid and its ancestors up to the namespace's init: never ours to kill. */
export function selfAndAncestors(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  for (let i = 0; i < 1000 && pid > 0 && !out.has(pid); i++) {
    out.add(pid);
    pid = processInfo(pid)?.ppid ?? 0;
  }
  return out;
}

export function isPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0;
}

/**
 * Clock ticks a second of /proc's CPU times. USER_HZ is 100 on every Linux architecture Node runs on (the
 * kernel scales to it whatever its own HZ is).
 */
export const TICKS_PER_SECOND = 100;

let pageBytes: number | undefined;

/**
 * Bytes of a page, for the rss fields of /proc: 4 KiB on x86-64, up to 64 KiB on some arm64 kernels. Derived
 * once from our own resident size as /proc/self/statm and Node report it, which needs no native call.
 */
export function pageSize(): number {
  if (pageBytes === undefined) {
    pageBytes = 4096;
    try {
      const pages = Number(readFileSync(`${PROC}/self/statm`, 'latin1').split(' ')[1]);
      const guess = process.memoryUsage().rss / pages;
      for (const size of [4096, 16384, 65536]) if (Math.abs(guess - size) / size < 0.25) pageBytes = size;
    } catch {}
  }
  return pageBytes;
}

/** CPU time and memory of a process group, all its running members summed. */
export interface GroupUsage {
  /** CPU seconds used by the members running now (user + system) */
  cpuSeconds: number;
  /** resident memory of its members, bytes */
  rssBytes: number;
  /** how many processes were counted */
  processes: number;
}

/**
 * Usage of each process group asked for, from one scan of /proc. A group with no running member is absent.
 * Memory shared between members (a forking server's pages) counts once per member, as `ps` shows it.
 */
export function groupUsage(
  pgids: Iterable<number>,
  snapshot: ProcessInfo[] = allProcesses(),
): Map<number, GroupUsage> {
  const wanted = new Set(pgids);
  const out = new Map<number, GroupUsage>();
  if (wanted.size === 0) return out;
  const page = pageSize();
  for (const p of snapshot) {
    if (!wanted.has(p.pgid) || hasExited(p)) continue;
    const u = out.get(p.pgid) ?? { cpuSeconds: 0, rssBytes: 0, processes: 0 };
    u.cpuSeconds += p.cpuTicks / TICKS_PER_SECOND;
    u.rssBytes += p.rssPages * page;
    u.processes++;
    out.set(p.pgid, u);
  }
  return out;
}
