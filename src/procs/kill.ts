import { allProcesses, descendantsOfAll, isPid, isSameProcess, selfAndAncestors } from './proc.js';

export interface KillTreeOptions {
  /** Also signal every descendant of the given pids. Default true. */
  descendants?: boolean;
  /**
   * SIGSTOP the whole set first, re-scanning until no new child appears, then signal, then SIGCONT. Without
   * it a process that forks while we walk the tree can leave a child behind. Default: true for signals that
   * end a process, false for 0 and job-control signals (where SIGCONT would undo or confuse the request).
   */
  freeze?: boolean;
}

const NO_FREEZE = new Set<NodeJS.Signals | number>([
  0,
  'SIGSTOP',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
]);

/**
 * Sends signal to each pid and (by default) to all their descendants; returns the pids it reached. Never
 * signals this process or its ancestors, whatever it is given. Missing processes are skipped silently.
 */
export function killTree(
  pids: Iterable<number>,
  signal: NodeJS.Signals | number = 'SIGTERM',
  opts: KillTreeOptions = {},
): number[] {
  const spare = selfAndAncestors();
  const roots = new Set([...pids].filter((p) => isPid(p) && !spare.has(p)));
  const withDescendants = opts.descendants !== false;
  const freeze = withDescendants && (opts.freeze ?? !NO_FREEZE.has(signal));

  const collect = (known: Set<number>) => {
    const all = new Set(roots);
    if (withDescendants) for (const p of descendantsOfAll([...roots, ...known], allProcesses())) all.add(p);
    for (const p of spare) all.delete(p);
    return all;
  };

  let targets: Set<number>;
  const frozen = new Set<number>();
  if (freeze) {
    // Bounded: a tree that keeps growing faster than we can stop it gets what we found after a few rounds.
    for (let round = 0; round < 10; round++) {
      let added = 0;
      for (const p of collect(frozen)) {
        if (frozen.has(p)) continue;
        frozen.add(p);
        added++;
        send(p, 'SIGSTOP');
      }
      if (added === 0) break;
    }
    targets = frozen;
  } else {
    targets = collect(new Set());
  }

  const reached: number[] = [];
  for (const p of targets) if (send(p, signal)) reached.push(p);
  for (const p of frozen) send(p, 'SIGCONT');
  return reached.sort((a, b) => a - b);
}

function send(pid: number, signal: NodeJS.Signals | number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    // ESRCH: already gone. EPERM: not ours to signal; either way nothing more to do here.
    return false;
  }
}

export interface ProcessId {
  pid: number;
  startTime: number;
}

/**
 * Waits until every process is gone (exited, zombie, or its pid reused by another process) or timeoutMs has
 * passed; returns those still running.
 */
export async function waitGone<T extends ProcessId>(
  procs: T[],
  timeoutMs: number,
  pollMs = 25,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  let left = procs.filter((p) => isSameProcess(p.pid, p.startTime));
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, deadline - Date.now()))));
    left = left.filter((p) => isSameProcess(p.pid, p.startTime));
  }
  return left;
}
