/**
 * The file line formats. Both are one line per log line, so `grep`, `tail -f` and `wc -l` work on the files:
 *
 *   raw:  `<ISO-8601 UTC time with ms> <stream> <text>`
 *         2026-11-22T03:12:00.123Z stdout listening on :8080
 *   json: {"time":"2026-11-22T03:12:00.123Z","service":"web","stream":"stdout","msg":"listening on :8080"}
 *
 * `stream` is `stdout`, `stderr`, or `tend` for lines tend writes on the service's behalf ("exited with code 3").
 * In raw files the text is the child's bytes as they came (less the line end), so the fields are split on the
 * first two spaces.
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

export function createPrefixCache(format: 'raw' | 'json', service: string): PrefixCache {
  let ms = Number.NaN;
  let iso = '';
  const cache: (Buffer | undefined)[] = [];
  const serviceJson = JSON.stringify(service);
  return {
    prefix(time, s, quoted = false) {
      if (time !== ms) {
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
            : `{"time":"${iso}","service":${serviceJson},"stream":"${STREAMS[s]}","msg":${quoted ? '"' : ''}`,
        );
        cache[k] = p;
      }
      return p;
    },
  };
}

/**
 * Reads a line of a log file (either format) back into a LogLine, for `tend logs` when the ring does not reach
 * far enough. Returns undefined for a line that is in neither format (e.g. a line torn by a full disk).
 */
export function parseLogLine(line: string, service: string): LogLine | undefined {
  if (line.startsWith('{')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      const time = typeof o.time === 'string' ? Date.parse(o.time) : Number.NaN;
      const stream = o.stream;
      if (Number.isNaN(time) || typeof o.msg !== 'string' || !isStream(stream)) return undefined;
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
