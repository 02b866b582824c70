/**
 * One service's log: child output in, lines out to the file, the echo, the ring and the listeners.
 *
 * Two paths. A raw file without time stamps (the default) is a copy of what the service wrote: each chunk read
 * from the child goes to the file up to its last `\n` in one copy (the rest waits for its line end). Lines are
 * cut one by one only for those who read them as text now (the echo, listeners). Time-stamped and json files
 * need every line on its own: lines are split on Buffers and decoded only when someone needs text. In both, each
 * chunk is also copied into a ring of recent chunks (ring.ts) that `tail()` splits into lines only when asked.
 *
 * A chunk is only valid while it is handled: a service's sockets are read into one buffer that the next read
 * reuses (reader.ts), so whatever is kept is copied first (into the file's write block, the ring, the carry of
 * an unfinished line). That spares tend an allocation per read, which cost more than all the rest.
 *
 * tend's own lines about the service (`note`: "process 42 exited with code 3", "ready after 254ms", lines lost
 * to a full disk) go to the echo, the ring and the listeners, never into the file: the file is the service's
 * own output, which a log shipper reads as such.
 *
 * When the file falls more than `highWaterBytes` behind, the child's pipes are paused: the child then blocks on
 * its own write, which keeps every line without letting a fast child fill tend's memory or a slow disk stall
 * tend's loop.
 */

import type { LogPlan } from '../manifest/types.js';
import { createFileSink, type FileSink } from './file-sink.js';
import { createPrefixCache, JSON_NEEDS_ESCAPE, STREAMS } from './format.js';
import { routeOutput, unrouteOutput } from './reader.js';
import { createChunkRing } from './ring.js';
import { createLineSplitter, type LineSplitter } from './split.js';
import type { EchoTarget, LogLine, LogStats } from './types.js';

export interface ServiceLogOptions {
  service: string;
  plan: LogPlan;
  /** where `plan.stdout` lines go; without it nothing is echoed */
  echo?: EchoTarget;
  /** recent lines kept in memory for `tail` (default 1000): the ring holds ringSize × 256 bytes of output */
  ringSize?: number;
  /** longer lines are cut into pieces of this many bytes (default 64 KiB) */
  maxLineBytes?: number;
  /** pause the children's output when this many bytes wait for the disk (default 4 MiB) */
  highWaterBytes?: number;
  /** where the first error of a failing file goes (default: tend's stderr) */
  warn?: (message: string) => void;
}

export interface ServiceLog {
  /** reads a child's output stream until it ends; returns at once */
  attach(stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void;
  /** tend's line about the service, e.g. "exited with code 3" (stream `tend`): echo, ring, listeners, not the file */
  note(text: string): void;
  /** every line, in order, as it is read; returns the unsubscribe function */
  onLine(listener: (line: LogLine) => void): () => void;
  /** the last `n` lines from memory, oldest first */
  tail(n?: number): LogLine[];
  stats(): LogStats;
  /** resolves when every line accepted so far is on disk (or counted as dropped) */
  flush(): Promise<void>;
  /** lets go of the open file; the next lines go to the configured path anew (SIGUSR1, after logrotate) */
  reopen(): void;
  /** flushes and closes the file; later lines still reach the ring, listeners and echo, and count as dropped */
  close(): Promise<void>;
}

const NL = Buffer.from('\n');
const NONE = Buffer.alloc(0);
const QUOTE_END = Buffer.from('"}\n');

export function createServiceLog(opts: ServiceLogOptions): ServiceLog {
  const { service, plan } = opts;
  const ringSize = Math.max(0, opts.ringSize ?? 1000);
  const maxLineBytes = opts.maxLineBytes ?? 64 * 1024;
  const highWater = opts.highWaterBytes ?? 4 * 1024 * 1024;
  const lowWater = highWater / 4;
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`tend: logs of ${service}: ${m}\n`));
  const echo = plan.stdout ? opts.echo : undefined;
  const json = plan.format === 'json';
  const prefixes = createPrefixCache(plan.format, service, plan.timestamps);
  // the bytes as they came: chunks to the file, no per-line work unless someone reads lines
  const chunked = !json && !plan.timestamps;
  const listeners = new Set<(line: LogLine) => void>();

  let lines = 0;
  let echoDropped = 0;
  let listenerErrors = 0;

  const streams = new Set<NodeJS.ReadableStream>();
  let paused = false;
  let pauses = 0;

  const file: FileSink | undefined =
    plan.file === undefined
      ? undefined
      : createFileSink({
          file: plan.file,
          maxSizeBytes: plan.maxSizeBytes,
          keep: plan.keep,
          mode: plan.mode,
          warn,
          onProgress(pending) {
            if (paused && pending <= lowWater) {
              paused = false;
              for (const s of streams) s.resume();
            }
          },
          onRecover(n, error) {
            const text = `${n} log lines were dropped (${error}); writing again`;
            note(text);
            // not in the file, and with no echo nobody would see it
            if (echo === undefined) warn(text);
          },
        });

  // The state of one attached stream. Per stream, not per stdout/stderr: after a restart the old process's
  // output (a daemon it left behind, say) can still be open beside the new one's, and their unfinished lines
  // must not mix.
  interface Source {
    s: number;
    /** the last chunk ended with `\n` */
    atLineStart: boolean;
    /** raw: the bytes of an unfinished line that wait for the file */
    carry: Buffer[];
    carryLen: number;
    /** raw: the splitter for the echo and listeners, while any; `skip` drops the rest of a line begun before */
    reader?: { splitter: LineSplitter; skip: boolean };
    /** stamped and json: every line for the file */
    splitter?: LineSplitter;
  }
  const noteSource: Source = { s: 2, atLineStart: true, carry: [], carryLen: 0 };

  // Recent chunks, ringSize × 256 bytes of them (256 KiB by default), split into lines by tail().
  const ring = createChunkRing<Source>(ringSize * 256);

  // Reading a chunk is one moment: its lines share a timestamp, which also keeps the prefix cache hot.
  let now = 0;

  // Stamped lines of one buffer wait here and go to the file as one batch (appendLines), at the end of the
  // chunk or when the lines start coming from another buffer (an unfinished line joined with its end).
  let batchBuf: Buffer | undefined;
  let batchS = 0;
  let batchN = 0;
  let batchStarts = new Int32Array(256);
  let batchEnds = new Int32Array(256);

  function flushBatch(): void {
    if (batchN > 0 && batchBuf !== undefined && file !== undefined)
      file.appendLines(prefixes.prefix(now, batchS), batchBuf, batchStarts, batchEnds, batchN);
    batchN = 0;
    batchBuf = undefined;
  }

  /** a line of a stamped or json file (`buf` is valid only until the chunk is handled) */
  function emit(s: number, buf: Buffer, start: number, end: number): void {
    lines++;
    if (!json) {
      if (file !== undefined) {
        if (buf !== batchBuf || s !== batchS) {
          flushBatch();
          batchBuf = buf;
          batchS = s;
        }
        if (batchN === batchStarts.length) {
          const st = new Int32Array(batchN * 2);
          st.set(batchStarts);
          batchStarts = st;
          const en = new Int32Array(batchN * 2);
          en.set(batchEnds);
          batchEnds = en;
        }
        batchStarts[batchN] = start;
        batchEnds[batchN++] = end;
      }
      // text only when someone reads it now; the ring decodes on demand
      if (echo !== undefined || listeners.size > 0) toReaders(s, buf.toString('utf8', start, end));
      return;
    }
    const text = buf.toString('utf8', start, end);
    if (file !== undefined) {
      // most lines need no escaping, and copying their bytes is a third of the cost of JSON.stringify
      if (!JSON_NEEDS_ESCAPE.test(text))
        file.appendBytes(prefixes.prefix(now, s, true), buf, start, end, QUOTE_END);
      else file.appendText(prefixes.prefix(now, s), JSON.stringify(text), '}\n');
    }
    toReaders(s, text);
  }

  function toReaders(s: number, text: string): void {
    if (echo !== undefined && !echo.write(service, STREAMS[s], text)) echoDropped++;
    if (listeners.size > 0) {
      const line: LogLine = { time: now, service, stream: STREAMS[s], text };
      for (const l of listeners) {
        try {
          l(line);
        } catch {
          // a listener's bug must not cost the service its log
          listenerErrors++;
        }
      }
    }
  }

  function written(): void {
    if (file === undefined) return;
    file.kick();
    if (!paused && file.pending() > highWater) {
      paused = true;
      pauses++;
      for (const s of streams) s.pause();
    }
  }

  function note(text: string): void {
    now = Date.now();
    const one = text.replace(/\r?\n/g, ' ');
    lines++;
    ring.push(Buffer.from(`${one}\n`), now, noteSource, true);
    toReaders(2, one);
  }

  function countLines(buf: Buffer): number {
    let n = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    return n;
  }

  // ---- the chunked path (raw, no time stamps) ----

  /** `buf` up to its last `\n` goes to the file behind the source's carry; the rest becomes the carry */
  function fileChunk(src: Source, buf: Buffer): void {
    if (file === undefined) return;
    const last = buf.lastIndexOf(10);
    if (last === -1) {
      src.carry.push(Buffer.from(buf));
      src.carryLen += buf.length;
      // a line this long is cut, as the line splitter cuts it: it bounds what one child makes tend hold
      if (src.carryLen >= maxLineBytes) cutCarry(src);
      return;
    }
    if (src.carryLen > 0) {
      file.appendBytes(Buffer.concat(src.carry, src.carryLen), buf, 0, last + 1, NONE);
      src.carry = [];
      src.carryLen = 0;
    } else file.appendBytes(NONE, buf, 0, last + 1, NONE);
    if (last + 1 < buf.length) {
      src.carry.push(Buffer.from(buf.subarray(last + 1)));
      src.carryLen = buf.length - last - 1;
    }
  }

  /** the carry as lines of at most maxLineBytes, cut on a character boundary; a shorter rest stays */
  function cutCarry(src: Source): void {
    let c = Buffer.concat(src.carry, src.carryLen);
    while (c.length >= maxLineBytes) {
      let p = maxLineBytes;
      while (p > maxLineBytes - 3 && (c[p] & 0xc0) === 0x80) p--;
      (file as FileSink).appendBytes(NONE, c, 0, p, NL);
      c = c.subarray(p);
    }
    src.carry = c.length > 0 ? [Buffer.from(c)] : [];
    src.carryLen = c.length;
  }

  /** raw: the chunk's lines as text for the echo and listeners, while there are any */
  function readersChunk(src: Source, buf: Buffer): void {
    if (echo === undefined && listeners.size === 0) {
      src.reader = undefined;
      return;
    }
    let r = src.reader;
    if (r === undefined) {
      const s = src.s;
      const splitter = createLineSplitter(maxLineBytes, (b, start, end) =>
        toReaders(s, b.toString('utf8', start, end)),
      );
      r = { splitter, skip: !src.atLineStart };
      src.reader = r;
    }
    if (!r.skip) r.splitter.push(buf);
    else {
      const nl = buf.indexOf(10);
      if (nl !== -1) {
        r.skip = false;
        r.splitter.push(buf.subarray(nl + 1));
      }
    }
  }

  /** one chunk read from a child; `buf` is valid only during the call */
  function input(src: Source, buf: Buffer): void {
    now = Date.now();
    ring.push(buf, now, src, src.atLineStart);
    if (src.splitter !== undefined) {
      src.splitter.push(buf);
      flushBatch();
    } else {
      lines += countLines(buf);
      fileChunk(src, buf);
      readersChunk(src, buf);
    }
    src.atLineStart = buf[buf.length - 1] === 10;
    written();
  }

  function inputEnd(src: Source): void {
    now = Date.now();
    if (!src.atLineStart) {
      // a last line without `\n` is still a line
      ring.push(NL, now, src, false);
      if (src.splitter === undefined) {
        lines++;
        if (file !== undefined && src.carryLen > 0) {
          file.appendBytes(Buffer.concat(src.carry, src.carryLen), NL, 0, 1, NONE);
          src.carry = [];
          src.carryLen = 0;
        }
      }
      src.atLineStart = true;
    }
    src.splitter?.end();
    flushBatch();
    if (src.reader !== undefined && !src.reader.skip) src.reader.splitter.end();
    src.reader = undefined;
    written();
  }

  /** the lines of the ring, oldest first */
  function ringLines(): LogLine[] {
    const out: LogLine[] = [];
    let time = 0;
    const split = new Map<Source, LineSplitter>();
    ring.each((chunk, c) => {
      time = c.time;
      let sp = split.get(c.tag);
      let buf = chunk;
      if (sp === undefined) {
        if (!c.starts) {
          // the beginning of this line is no longer in the ring
          const nl = buf.indexOf(10);
          if (nl === -1) return;
          buf = buf.subarray(nl + 1);
        }
        const stream = STREAMS[c.tag.s];
        sp = createLineSplitter(maxLineBytes, (b, start, end) =>
          out.push({ time, service, stream, text: b.toString('utf8', start, end) }),
        );
        split.set(c.tag, sp);
      }
      sp.push(buf);
    });
    return out;
  }

  return {
    attach(stream, name) {
      const s = name === 'stderr' ? 1 : 0;
      const src: Source = { s, atLineStart: true, carry: [], carryLen: 0 };
      if (!chunked)
        src.splitter = createLineSplitter(maxLineBytes, (buf, start, end) => emit(s, buf, start, end));
      streams.add(stream);
      const take = (buf: Buffer): boolean => {
        if (buf.length > 0) input(src, buf);
        return true;
      };
      // a socket made with OUTPUT_ONREAD (reader.ts) hands its chunks here; any other stream emits 'data'
      routeOutput(stream, take);
      const done = (): void => {
        if (!streams.delete(stream)) return;
        unrouteOutput(stream);
        inputEnd(src);
      };
      stream.on('data', (data: Buffer | string) => take(typeof data === 'string' ? Buffer.from(data) : data));
      stream.on('end', done);
      stream.on('close', done);
      // a broken pipe ends the stream; the error itself is not the service's log
      stream.on('error', done);
      if (paused) stream.pause();
    },
    note,
    onLine(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    tail(n = ringSize) {
      const k = Math.max(0, Math.floor(n));
      return k === 0 ? [] : ringLines().slice(-k);
    },
    stats() {
      return {
        lines,
        bytes: file?.bytes ?? 0,
        dropped: file?.dropped ?? 0,
        echoDropped,
        rotations: file?.rotations ?? 0,
        pending: file?.pending() ?? 0,
        pauses,
        listenerErrors,
      };
    },
    flush() {
      return file ? file.flush() : Promise.resolve();
    },
    reopen() {
      file?.reopen();
    },
    close() {
      for (const s of streams) if (paused) s.resume();
      paused = false;
      return file ? file.close() : Promise.resolve();
    },
  };
}
