import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDir, writeFileAtomic } from '../fsx/index.js';
import { killTree, type ProcessId, waitGone } from './kill.js';
import { findMarked, readMarker } from './marker.js';
import {
  allProcesses,
  descendantsOfAll,
  hasExited,
  procAvailable,
  processInfo,
  selfAndAncestors,
} from './proc.js';

export const RECORD_FILE = 'procs.json';

/** One process tend started, as recorded for the next run in case this one is SIGKILLed. */
export interface PidEntry {
  pid: number;
  /** The process group tend created for it (detached spawn: the pid itself). */
  pgid: number;
  service: string;
  /** From /proc when added; null when /proc was unreadable (then the entry cannot be verified, only reported). */
  startTime: number | null;
  runId: string;
}

interface RecordFile {
  version: 1;
  runId: string;
  /** The tend that wrote it, for humans reading the file. */
  tendPid: number;
  entries: PidEntry[];
}

export interface PidRecord {
  /**
   * Records a started process. Reads its start time from /proc right away — call it in the same tick as the
   * spawn, when the pid cannot have been collected and reused yet. The file is written later, off this path.
   */
  add(entry: { pid: number; service: string; pgid?: number; startTime?: number }): void;
  remove(pid: number): void;
  entries(): PidEntry[];
  /** Writes pending changes now; resolves once they are on disk or the failure was reported. Never rejects. */
  flush(): Promise<void>;
  /** Clean shutdown: nothing of ours runs any more, so no record. Never rejects. */
  clear(): Promise<void>;
}

export interface PidRecordOptions {
  /** Coalesces bursts of add/remove into one write. Default 50 ms. */
  debounceMs?: number;
  /** Where write failures go. Default: process.emitWarning. */
  onError?: (err: Error) => void;
}

/**
 * The record of what this run of tend started, in `<stateDir>/procs.json`, for killLeftovers in the next run.
 *
 * Writes are atomic (temporary file, then rename) so a crash mid-write leaves the previous version, and they
 * are debounced and asynchronous so a spawn never waits for the disk. No fsync: the record guards against
 * tend dying, not the machine — the page cache survives the former, and the services do not survive the
 * latter.
 *
 * Call killLeftovers before creating the record of a new run: the first write replaces the previous run's.
 * Then flush() once before starting anything, so a SIGKILL at any later moment leaves a record naming this run.
 */
export function createPidRecord(stateDir: string, runId: string, opts: PidRecordOptions = {}): PidRecord {
  const file = join(stateDir, RECORD_FILE);
  const debounceMs = opts.debounceMs ?? 50;
  const report =
    opts.onError ??
    ((err: Error) => process.emitWarning(`cannot write ${file}: ${err.message}`, 'TendProcsWarning'));
  const entries = new Map<number, PidEntry>();
  // Each entry's JSON, made once when it is added: the file is rewritten on every spawn and exit, and
  // serialising all 5,000 entries of a large app anew (pretty-printed, 600 KB) for each restart of one
  // service was most of that restart's CPU and garbage. A write now joins these lines.
  const lines = new Map<number, string>();

  let timer: NodeJS.Timeout | undefined;
  // version counts changes; written is the version last on disk: a flush with nothing new is free. A new
  // record starts dirty: its first flush writes the run id with no entries, which is enough for the next run
  // to find (by their marker) whatever this one starts before its entries reach the disk.
  let version = 1;
  let written = 0;
  // After clear() and until the next add(), the file should not exist rather than list nothing.
  let removed = false;
  let chain: Promise<void> = Promise.resolve();

  const persist = (): Promise<void> => {
    // Serialised: two renames racing could leave the older content last. Each run writes the state as it is
    // then, so a burst of changes costs one write.
    chain = chain.then(async () => {
      if (written === version) return;
      const target = version;
      try {
        if (removed) {
          await unlink(file).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
          });
        } else {
          // the RecordFile shape, one entry a line
          const head: Omit<RecordFile, 'entries'> = { version: 1, runId, tendPid: process.pid };
          const body = [...lines.values()].join(',\n');
          const content = `${JSON.stringify(head).slice(0, -1)},"entries":[${body ? `\n${body}\n` : ''}]}\n`;
          await makeDir(stateDir);
          // rewritten on every spawn and exit: not worth an fsync (it matters after a crash of tend, not the host)
          await writeFileAtomic(file, content, { fsync: false });
        }
        written = target;
      } catch (err) {
        report(err as Error);
      }
    });
    return chain;
  };

  const cancelTimer = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  const schedule = () => {
    version++;
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void persist();
    }, debounceMs);
    // A pending write never keeps tend alive; at a clean exit the supervisor flushes or clears.
    timer.unref();
  };

  return {
    add(entry) {
      const startTime = entry.startTime ?? processInfo(entry.pid)?.startTime ?? null;
      const e: PidEntry = {
        pid: entry.pid,
        pgid: entry.pgid ?? entry.pid,
        service: entry.service,
        startTime,
        runId,
      };
      entries.set(e.pid, e);
      lines.set(e.pid, JSON.stringify(e));
      removed = false;
      schedule();
    },
    remove(pid) {
      lines.delete(pid);
      if (entries.delete(pid)) schedule();
    },
    entries: () => [...entries.values()],
    flush() {
      cancelTimer();
      return persist();
    },
    clear() {
      cancelTimer();
      entries.clear();
      lines.clear();
      removed = true;
      version++;
      return persist();
    },
  };
}

export interface LeftoverOutcome {
  pid: number;
  service: string;
  /** gone: had already exited (or its pid now belongs to another process); terminated: exited after
   * SIGTERM; killed: still there after timeoutMs, sent SIGKILL. */
  outcome: 'gone' | 'terminated' | 'killed';
}

export interface KillLeftoversOptions {
  /** How long SIGTERM gets before SIGKILL. */
  timeoutMs: number;
  log?: (msg: string) => void;
}

/**
 * Stops what a previous run of tend left running (it was SIGKILLed, or the machine's init killed it alone),
 * so that no service ends up running twice. Call it after acquirePidFile succeeded (no other tend owns the
 * state dir) and before the new run's createPidRecord.
 *
 * What counts as left over:
 * - each recorded pid that is alive and whose start time still matches (a pid reused since is not ours);
 * - every member of a verified entry's process group, and their descendants;
 * - every process carrying the marker of a recorded run id: daemons that escaped their group.
 *
 * All of them get SIGTERM (the set is frozen first, see killTree, and each process is signalled once rather
 * than per group, so nobody gets a second SIGTERM that some programs read as "force quit"); whatever is still
 * there after timeoutMs gets SIGKILL. The record is then removed. Never rejects: problems go to log.
 */
export async function killLeftovers(
  stateDir: string,
  opts: KillLeftoversOptions,
): Promise<LeftoverOutcome[]> {
  const log = opts.log ?? (() => {});
  const file = join(stateDir, RECORD_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log(`cannot read ${file}: ${(err as Error).message}`);
    return [];
  }
  const record = parseRecord(text);
  if (!record) {
    log(`ignoring ${file}: not a process record`);
    await removeIfUnchanged(file, text, log);
    return [];
  }
  if (!procAvailable()) {
    log(`cannot check for processes left by the previous run: /proc is not available`);
    return [];
  }

  const outcomes: LeftoverOutcome[] = [];
  const spare = selfAndAncestors();
  // pid -> what we know of it; the start time pins the identity so a pid reused meanwhile is left alone.
  const targets = new Map<number, ProcessId & { service: string }>();
  const snapshot = allProcesses();
  const byPid = new Map(snapshot.map((p) => [p.pid, p]));
  const addTarget = (pid: number, service: string) => {
    const info = byPid.get(pid);
    if (!info || spare.has(pid) || targets.has(pid) || hasExited(info)) return;
    targets.set(pid, { pid, startTime: info.startTime, service });
  };

  const verifiedGroups = new Map<number, string>();
  for (const entry of record.entries) {
    const info = byPid.get(entry.pid);
    if (entry.startTime === null && info)
      log(`cannot verify pid ${entry.pid} (${entry.service}): no start time`);
    if (!info || entry.startTime === null || info.startTime !== entry.startTime) continue;
    addTarget(entry.pid, entry.service);
    // With the leader verified, the group that bears its pid is the one tend created for the service.
    if (info.pgid === entry.pgid) verifiedGroups.set(entry.pgid, entry.service);
  }
  for (const p of snapshot) {
    const service = verifiedGroups.get(p.pgid);
    if (service !== undefined) addTarget(p.pid, service);
  }
  const runIds = new Set([record.runId, ...record.entries.map((e) => e.runId)]);
  for (const pid of findMarked((m) => runIds.has(m.runId))) {
    addTarget(pid, readMarker(pid)?.service ?? '?');
  }
  // Descendants that lost the marker (a scrubbed environment) belong to the service of their nearest target.
  const serviceOf = (pid: number): string => {
    for (
      let p = byPid.get(pid)?.ppid, hops = 0;
      p !== undefined && hops < 1000;
      p = byPid.get(p)?.ppid, hops++
    ) {
      const target = targets.get(p);
      if (target) return target.service;
    }
    return '?';
  };
  for (const pid of descendantsOfAll([...targets.keys()], snapshot)) {
    addTarget(pid, readMarker(pid)?.service ?? serviceOf(pid));
  }
  for (const entry of record.entries) {
    if (!targets.has(entry.pid)) outcomes.push({ pid: entry.pid, service: entry.service, outcome: 'gone' });
  }

  if (targets.size > 0) {
    const list = [...targets.values()];
    log(
      `stopping ${list.length} process(es) left by run ${record.runId}: ${list.map((t) => t.pid).join(' ')}`,
    );
    // killTree also reaches children born since our scan: descendants of verified processes are ours too.
    killTree(
      list.filter((t) => isStill(t)).map((t) => t.pid),
      'SIGTERM',
    );
    const stubborn = await waitGone(list, opts.timeoutMs);
    const stubbornPids = new Set(stubborn.map((t) => t.pid));
    if (stubborn.length > 0) {
      log(`SIGKILL to ${stubborn.length} process(es) still there after ${opts.timeoutMs} ms`);
      killTree(
        stubborn.filter((t) => isStill(t)).map((t) => t.pid),
        'SIGKILL',
      );
      // SIGKILL is not instant (a process in uninterruptible sleep); the caller wants ports and files free.
      const survivors = await waitGone(stubborn, 2000);
      for (const s of survivors) log(`process ${s.pid} (${s.service}) survived SIGKILL`);
    }
    for (const t of list) {
      outcomes.push({
        pid: t.pid,
        service: t.service,
        outcome: stubbornPids.has(t.pid) ? 'killed' : 'terminated',
      });
    }
  }

  await removeIfUnchanged(file, text, log);
  return outcomes;
}

function isStill(t: ProcessId): boolean {
  return processInfo(t.pid)?.startTime === t.startTime;
}

/** Removes the record unless a new run has already replaced it (then it is not ours to delete). */
async function removeIfUnchanged(file: string, expected: string, log: (msg: string) => void): Promise<void> {
  try {
    if ((await readFile(file, 'utf8')) === expected) await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log(`cannot remove ${file}: ${(err as Error).message}`);
  }
}

function parseRecord(text: string): RecordFile | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  const r = data as Partial<RecordFile>;
  if (r.version !== 1 || typeof r.runId !== 'string' || !Array.isArray(r.entries)) return undefined;
  const entries = r.entries.filter(
    (e): e is PidEntry =>
      typeof e === 'object' &&
      e !== null &&
      Number.isInteger(e.pid) &&
      e.pid > 0 &&
      Number.isInteger(e.pgid) &&
      typeof e.service === 'string' &&
      (e.startTime === null || Number.isInteger(e.startTime)) &&
      typeof e.runId === 'string',
  );
  return { version: 1, runId: r.runId, tendPid: Number(r.tendPid), entries };
}
