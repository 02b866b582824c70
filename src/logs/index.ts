/**
 * Logs of supervised children: split into lines, time-stamped, written in batches to a size-rotated file,
 * echoed to tend's stdout and kept in a ring for `tend logs`, the dashboard and log readiness probes.
 *
 * File lines (details in format.ts):
 *   raw   2026-11-22T03:12:00.123Z stdout listening on :8080
 *   json  {"time":"2026-11-22T03:12:00.123Z","service":"web","stream":"stdout","msg":"listening on :8080"}
 * Rotation renames web.log → web.log.1 → … → web.log.<keep>; keep 0 truncates in place.
 * Lines longer than maxLineBytes (64 KiB) become several lines; a full disk drops and counts lines, and a file
 * that falls behind pauses the children's pipes instead of growing tend's memory.
 */
export { colourOf, createEcho, type Echo, type EchoOptions, PALETTE, TEND_LABEL } from './echo.js';
export { escapeControls } from './escape.js';
export { parseLogLine } from './format.js';
export { readLastLines } from './read-last.js';
export { OUTPUT_ONREAD } from './reader.js';
export { createServiceLog, type ServiceLog, type ServiceLogOptions } from './service-log.js';
export { createLineSplitter, type LineSink, type LineSplitter } from './split.js';
export type { EchoTarget, LogLine, LogStats, LogStream } from './types.js';
