import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { allPids } from './proc.js';

/**
 * The environment variable that marks every process of a service, `<runId>:<service>`. Children inherit
 * their environment, so a daemon that double-forks or calls setsid to leave its process group still carries
 * it: /proc/<pid>/environ is how tend finds it again.
 *
 * Limits: /proc/<pid>/environ is the environment a process was exec'd with, so a process that exec's with a
 * scrubbed environment (`env -i`, some sudo setups) loses the marker; reading another user's environ needs
 * root or the same uid; a zombie has no environ.
 */
export const MARKER_VAR = 'TEND_INSTANCE';

export interface Marker {
  runId: string;
  service: string;
}

const RUN_ID = /^[A-Za-z0-9._-]+$/;

/** A new run id: unique per `tend up`, sortable by start time, safe in the marker. */
export function newRunId(): string {
  return `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** The environment entry to add to a service's environment. */
export function markerEnv(runId: string, service: string): Record<string, string> {
  if (!RUN_ID.test(runId)) throw new TypeError(`invalid run id ${JSON.stringify(runId)}: use [A-Za-z0-9._-]`);
  if (service.includes('\0')) throw new TypeError('a service name cannot contain NUL');
  return { [MARKER_VAR]: `${runId}:${service}` };
}

/** Parses a marker value; the run id cannot contain ':', the service name can. */
export function parseMarker(value: string): Marker | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  const runId = value.slice(0, colon);
  if (!RUN_ID.test(runId)) return undefined;
  return { runId, service: value.slice(colon + 1) };
}

const NEEDLE = Buffer.from(`${MARKER_VAR}=`);

/** The marker in pid's environment, if any (undefined also when unreadable). */
export function readMarker(pid: number): Marker | undefined {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  // Entries are NUL-terminated: a match counts at the start or right after a NUL, not inside another value.
  let at = env.indexOf(NEEDLE);
  while (at > 0 && env[at - 1] !== 0) at = env.indexOf(NEEDLE, at + 1);
  if (at < 0) return undefined;
  const start = at + NEEDLE.length;
  let end = env.indexOf(0, start);
  if (end < 0) end = env.length;
  return parseMarker(env.toString('utf8', start, end));
}

/**
 * pids of processes whose marker satisfies predicate, found by scanning /proc/<pid>/environ (unreadable ones
 * are skipped). Never includes this process.
 */
export function findMarked(predicate: (marker: Marker) => boolean): number[] {
  const found: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    const marker = readMarker(pid);
    if (marker && predicate(marker)) found.push(pid);
  }
  return found;
}
