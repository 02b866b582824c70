/**
 * Low-level Linux process utilities for the supervisor: subreaper and orphan reaping, process trees from
 * /proc, finding a service's escaped daemons by an environment marker, surviving a SIGKILLed tend (pid record,
 * leftovers, pid file), and the one runner of a short command in its own group (run.ts). Linux only; elsewhere each piece degrades to doing nothing and says so.
 */
export {
  findSetpriv,
  launchAs,
  needsSwitch,
  resetSetprivLookup,
  type UserIds,
  type UserLaunch,
} from './as-user.js';
export { fastSpawn, fastSpawnAvailable } from './fast-spawn.js';
export { FlockUnavailable, tryLockExclusive } from './flock.js';
export { type KillTreeOptions, killTree, type ProcessId, waitGone } from './kill.js';
export {
  findMarked,
  MARKER_VAR,
  type Marker,
  markerEnv,
  newRunId,
  parseMarker,
  readMarker,
} from './marker.js';
export { acquirePidFile, PID_FILE, type PidFileResult } from './pidfile.js';
export {
  allProcesses,
  descendants,
  type GroupUsage,
  groupMembers,
  groupUsage,
  isAlive,
  listChildren,
  type ProcessInfo,
  procAvailable,
  processInfo,
} from './proc.js';
export { decodeWaitStatus, type Reaper, type ReaperOptions, startReaper } from './reaper.js';
export {
  createPidRecord,
  type KillLeftoversOptions,
  killLeftovers,
  type LeftoverOutcome,
  type PidEntry,
  type PidRecord,
  type PidRecordOptions,
  RECORD_FILE,
} from './record.js';
export { catchRealtimeSignals, type RealtimeSignals, realtimeName } from './rt-signals.js';
export {
  type CommandLine,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_OUTPUT_MAX,
  describeRun,
  type RunOptions,
  type RunResult,
  runCommand,
  signalGroupOf,
} from './run.js';
export {
  adoptInheritedSockets,
  bindSocket,
  HELD_FD_MIN,
  type HeldSocket,
  MAX_SOCKETS_PER_SERVICE,
  SocketError,
  type SocketSpec,
  type SocketTarget,
} from './sockets.js';
export { becomeSubreaper } from './subreaper.js';
export { installSpawnHook, isNodeChild, spawnTracked, trackChild } from './tracked.js';
