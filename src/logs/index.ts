/**
 * Logs of supervised children: split into lines, time-stamped, written in batches to a size-rotated file,
 * echoed to tend's stdout and kept in a ring for `tend logs`, the dashboard and log readiness probes.
 * File formats are described in format.ts.
 */
export { createEcho, type Echo, type EchoOptions } from './echo.js';
export { parseLogLine } from './format.js';
export { readLastLines } from './read-last.js';
export { createServiceLog, type ServiceLog, type ServiceLogOptions } from './service-log.js';
export type { EchoTarget, LogLine, LogStats, LogStream } from './types.js';
