/**
 * What `tend up` owes the machine around its stack, wiring src/procs into the run:
 * - PID 1 and subreaper: `prctl(PR_SET_CHILD_SUBREAPER)` and a reaper that collects orphans by pid, never a
 *   child Node's child_process waits for (see src/procs/reaper.ts); warnings where that cannot work;
 * - crash safety: the pid file (`<state_dir>/tend.pid`, an flock: a second live tend is refused with exit 1),
 *   the leftovers of a SIGKILLed previous run stopped before anything starts, and this run's processes
 *   recorded in `<state_dir>/procs.json`;
 * - escaped daemons: every process carries `TEND_INSTANCE=<run>:<service>` (a service's probes, checks and
 *   hooks too; `<run>:@tend` for stages and notify scripts); those that left their process group are stopped
 *   with their service, and any left at the end of the run are stopped before tend exits;
 * - systemd's notify protocol when $NOTIFY_SOCKET is set: READY=1 at UP, RELOADING=1 while RESTARTING,
 *   STOPPING=1 at STOPPING, STATUS= always, WATCHDOG=1 when the unit asks for it. Services never see
 *   NOTIFY_SOCKET.
 */
export {
  anotherTendMessage,
  type Guard,
  type GuardOptions,
  RUN_LABEL,
  sdMessage,
  startGuard,
  startReaping,
} from './guard.js';
export { openSdNotify, type SdNotifier, socketAddress, watchdogIntervalMs } from './sd-notify.js';
export { findStrays, type Stray, stopStrays } from './strays.js';
