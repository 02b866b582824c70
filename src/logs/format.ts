/**
 * The file line formats.
 *
 *   raw (the default): the bytes the service wrote, nothing in front; stdout and stderr share the file
 *         listening on :8080
 *   raw, `timestamps: true`: `<ISO-8601 UTC time with ms> <stream> <text>`
 *         2026-11-22T03:12:00.123Z stdout listening on :8080
 *   json: {"time":"2026-11-22T03:12:00.123Z","service":"web","stream":"stdout","msg":"listening on :8080"}
 *         (`timestamps: false` leaves out "time")
 *
 * Time-stamped and json files have one line per log line, split and stamped by tend. A raw file without stamps
 * is a copy of the chunks the service wrote (only a last line without `\n` gets one, and a line longer than
 * 64 KiB is cut), which is what supervisord, PM2 and docker's json-file driver give a log shipper. `stream` is
 * `stdout` or `stderr`; tend's own lines about a service ("process 42 exited with code 3") never go into its
 * file: they are on tend's output, in the events and in `tend logs`.
 */
import type { LogLine, LogStream } from './types.js';

export const STREAMS: readonly LogStream[] = ['stdout', 'stderr', 'tend'];

/**
 * Prefix bytes for the current millisecond, rebuilt at most once per millisecond per stream: formatting a date
 * costs far more than copying 30 bytes, and a burst of lines shares a handful of distinct milliseconds.
 */
export interface PrefixCache {
  /**
   * bytes before the text of a line at `time` on stream `s` (index into STREAMS); for json, `quoted` adds the
   * opening quote of the message for text that is copied as it is
   */
  prefix(time: number, s: number, quoted?: boolean): Buffer;
}

/** text that can go between JSON quotes as it is: printable ASCII without `"` and `\` */
export const JSON_NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/;

export function createPrefixCache(format: 'raw' | 'json', service: string, timestamps = true): PrefixCache {
  let ms = Number.NaN;
  let iso = '';
  const cache: (Buffer | undefined)[] = [];
  const serviceJson = JSON.stringify(service);
  return {
    prefix(time, s, quoted = false) {
      if (time !== ms && timestamps) {
        ms = time;
        iso = new Date(time).toISOString();
        cache.fill(undefined);
      }
      const k = quoted ? s + 3 : s;
      let p = cache[k];
      if (p === undefined) {
        p = Buffer.from(
          format === 'raw'
            ? `${iso} ${STREAMS[s]} `
            : `{${timestamps ? `"time":"${iso}",` : ''}"service":${serviceJson},"stream":"${STREAMS[s]}","msg":${quoted ? '"' : ''}`,
        );
        cache[k] = p;
      }
      return p;
    },
  };
}

/**
 * Reads a line of a log file (any format) back into a LogLine, for `tend logs` when the ring does not reach
 * far enough. Returns undefined for a line that is neither json nor time-stamped raw: a raw file without stamps
 * (the callers show such a line as it is, with no time), or a line torn by a full disk. A json line without a
 * time (`timestamps: false`) has the time NaN.
 */
export function parseLogLine(line: string, service: string): LogLine | undefined {
  if (line.startsWith('{')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      const time = typeof o.time === 'string' ? Date.parse(o.time) : Number.NaN;
      const stream = o.stream;
      if ((o.time !== undefined && Number.isNaN(time)) || typeof o.msg !== 'string' || !isStream(stream))
        return undefined;
      return { time, service: typeof o.service === 'string' ? o.service : service, stream, text: o.msg };
    } catch {
      return undefined;
    }
  }
  const a = line.indexOf(' ');
  const b = a === -1 ? -1 : line.indexOf(' ', a + 1);
  if (b === -1) return undefined;
  const time = Date.parse(line.slice(0, a));
  const stream = line.slice(a + 1, b);
  if (Number.isNaN(time) || !isStream(stream)) return undefined;
  return { time, service, stream, text: line.slice(b + 1) };
}

function isStream(s: unknown): s is LogStream {
  return s === 'stdout' || s === 'stderr' || s === 'tend';
}
