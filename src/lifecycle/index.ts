/**
 * The app above the services (whaleware, seed 002; MetaBrainz' runit + cron, seed 000): lifecycle stages
 * and app states, the monitor and its stats, settings for `tend up`, `finish` hooks and scheduled jobs.
 *
 * Stages run with cwd = the manifest's folder and env = tend's env + TEND_SETTINGS_FILE, TEND_DATA_DIR,
 * TEND_APP, TEND_STAGE; their output is echoed as `stage | line` and the last 4 KiB go into the `app` event
 * of a failure. At its timeout (or when tend stops) a stage's whole process group gets SIGTERM, then
 * SIGKILL 2 s later; whatever a stage leaves running in its group when it exits is stopped the same way.
 * The firstboot marker is `<data_dir>/.tend-firstboot`, written atomically after `firstboot` succeeded.
 */
export { type CommandOptions, type CommandResult, commandArgv, runCommand } from './command.js';
export { createFinishHooks, type FinishHooks, type FinishOptions } from './finish.js';
export {
  createLifecycle,
  type Lifecycle,
  type LifecycleOptions,
  type StageName,
  type StartOutcome,
} from './lifecycle.js';
export { FIRSTBOOT_MARKER, hasFirstbootMarker, markerPath, writeFirstbootMarker } from './marker.js';
export { createScheduler, type JobStatus, parseSchedule, type Scheduler } from './scheduler.js';
export { effectiveSettings, type KvPairs, prepareSettings, type SettingsState } from './settings.js';
