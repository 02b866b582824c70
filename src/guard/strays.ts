import {
  allProcesses,
  findMarked,
  isNodeChild,
  killTree,
  type Marker,
  type ProcessId,
  type ProcessInfo,
  readMarker,
  waitGone,
} from '../procs/index.js';

export interface Stray extends ProcessId {
  comm: string;
  pgid: number;
  /** the service named by its marker */
  service: string;
}

export interface StrayQuery {
  runId: string;
  /**
   * Leave alone processes that descend from a child Node still owns (a notify `exec` sink delivering the
   * last events, a finish hook): they carry the run's marker but are not strays.
   */
  spareNodeChildren?: boolean;
}

/**
 * Processes marked with the run's marker that are still running: the daemons that escaped
 * their process group with setsid or a double fork. One scan of /proc/<pid>/environ; only on stops, never on
 * the spawn → exit → respawn path.
 */
export function findStrays(q: StrayQuery): Stray[] {
  const pids = findMarked((m: Marker) => m.runId === q.runId);
  if (pids.length === 0) return [];
  const snapshot = allProcesses();
  const byPid = new Map(snapshot.map((p) => [p.pid, p]));
  const underNodeChild = (info: ProcessInfo): boolean => {
    for (let p: ProcessInfo | undefined = info, hops = 0; p && hops < 1000; hops++) {
      if (isNodeChild(p.pid)) return true;
      if (p.ppid === process.pid) return false;
      p = byPid.get(p.ppid);
    }
    return false;
  };
  const out: Stray[] = [];
  for (const pid of pids) {
    const info = byPid.get(pid);
    if (!info || info.state === 'Z' || info.state === 'X') continue;
    if (q.spareNodeChildren && underNodeChild(info)) continue;
    // In the process group of a child tend still owns: a service (its stop takes the group) or a short command
    // of a service (an exec probe, a finish hook, a check: they carry the service's marker, and the one runner
    // stops their group itself). Not escaped.
    if (isNodeChild(info.pgid)) continue;
    const service = readMarker(pid)?.service;
    if (service === undefined) continue;
    out.push({ pid, startTime: info.startTime, comm: info.comm, pgid: info.pgid, service });
  }
  return out;
}

/**
 * signal to each stray and its descendants, SIGKILL to whatever is left after timeoutMs; resolves once they
 * are gone (or survived SIGKILL, which only uninterruptible sleep explains). Returns those that needed SIGKILL.
 */
export async function stopStrays(
  strays: Stray[],
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<{ killed: Stray[]; survivors: Stray[] }> {
  if (strays.length === 0) return { killed: [], survivors: [] };
  killTree(
    strays.map((s) => s.pid),
    signal,
  );
  const stubborn = await waitGone(strays, timeoutMs);
  if (stubborn.length === 0) return { killed: [], survivors: [] };
  killTree(
    stubborn.map((s) => s.pid),
    'SIGKILL',
  );
  const survivors = await waitGone(stubborn, 2000);
  return { killed: stubborn, survivors };
}

export function describeStrays(strays: Stray[]): string {
  return strays.map((s) => `${s.pid} (${s.comm})`).join(', ');
}
