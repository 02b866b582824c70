/**
 * One service's log: child output in, lines out to the file, the echo, the ring and the listeners.
 *
 * Two paths. A raw file without time stamps (the default) is a copy of what the service wrote: each chunk read
 * from the child goes to the file up to its last `\n` in one copy (the rest waits for its line end), and to a
 * ring of recent chunks that `tail()` splits into lines only when asked. Lines are cut one by one only for
 * those who read them as text now (the echo, listeners). Time-stamped and json files need every line on its
 * own: lines are split on Buffers and decoded only when someone needs text.
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
import { createLineSplitter, type LineSplitter } from './split.js';
import type { EchoTarget, LogLine, LogStats } from './types.js';

export interface ServiceLogOptions {
  service: string;
  plan: LogPlan;
  /** where `plan.stdout` lines go; without it nothing is echoed */
  echo?: EchoTarget;
  /** recent lines kept in memory for `tail` (default 1000; a raw file without stamps keeps ringSize × 256 bytes) */
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
  // the bytes as they came: chunks to the file and the ring, no per-line work unless someone reads lines
  const chunked = !json && !plan.timestamps;
  const listeners = new Set<(line: LogLine) => void>();

  // The ring is parallel arrays rather than an object per line: tail() builds objects only when asked. A line
  // nobody needed as text yet is kept as its bytes (a view of the chunk it came in) and decoded in tail():
  // decoding every line was a third of the log path's CPU (bench/RESULTS.md, F5). The views pin at most the
  // ring's own lines plus one chunk per stream, since chunks arrive in order; Node never reuses a chunk it
  // handed out, so a view stays valid.
  //
  // The arrays start empty and double up to ringSize as lines come (16, 32, … 1000): allocated whole, they cost
  // 33 KiB a service, most of an idle tend's memory per service (a heap snapshot of 100 silent services: 3.3
  // MiB; bench/RESULTS.md F8). Until the ring is full it has never wrapped, so growing keeps its order.
  let ringCap = 0;
  let ringTime = new Float64Array(0);
  let ringStream = new Uint8Array(0);
  const ringText: (string | undefined)[] = [];
  const ringBytes: (Buffer | undefined)[] = [];
  let ringStart = new Int32Array(0);
  let ringEnd = new Int32Array(0);
  let ringNext = 0;
  let ringCount = 0;

  function growRing(): void {
    const cap = Math.min(ringSize, Math.max(16, ringCap * 2));
    const time = new Float64Array(cap);
    time.set(ringTime);
    ringTime = time;
    const str = new Uint8Array(cap);
    str.set(ringStream);
    ringStream = str;
    const st = new Int32Array(cap);
    st.set(ringStart);
    ringStart = st;
    const en = new Int32Array(cap);
    en.set(ringEnd);
    ringEnd = en;
    for (let i = ringCap; i < cap; i++) {
      ringText.push(undefined);
      ringBytes.push(undefined);
    }
    ringCap = cap;
  }

  /** Makes `ringNext` a slot to write: grows the ring until it has its size, then wraps. */
  function ringSlot(): void {
    if (ringNext < ringCap) return;
    if (ringCap < ringSize) growRing();
    else ringNext = 0;
  }

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

  // Reading a chunk is one moment: its lines share a timestamp, which also keeps the prefix cache hot.
  let now = 0;

  function emit(s: number, buf: Buffer, start: number, end: number): void {
    lines++;
    // text only when someone reads it now; the ring decodes on demand
    const text =
      json || echo !== undefined || listeners.size > 0 ? buf.toString('utf8', start, end) : undefined;
    if (ringSize > 0) {
      ringSlot();
      ringTime[ringNext] = now;
      ringStream[ringNext] = s;
      ringText[ringNext] = text;
      if (text === undefined) {
        ringBytes[ringNext] = buf;
        ringStart[ringNext] = start;
        ringEnd[ringNext] = end;
      } else ringBytes[ringNext] = undefined;
      ringNext++;
      if (ringCount < ringSize) ringCount++;
    }
    if (text === undefined) {
      // A line that ended in a bare `\n` is copied with it: one copy fewer per line than adding NL.
      if (file !== undefined) {
        if (buf[end] === 10) file.appendBytes(prefixes.prefix(now, s), buf, start, end + 1, NONE);
        else file.appendBytes(prefixes.prefix(now, s), buf, start, end, NL);
      }
      return;
    }
    if (file !== undefined) {
      if (!json) file.appendBytes(prefixes.prefix(now, s), buf, start, end, NL);
      // most lines need no escaping, and copying their bytes is a third of the cost of JSON.stringify
      else if (!JSON_NEEDS_ESCAPE.test(text))
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
    if (chunked) ringChunk(noteSource, Buffer.from(`${one}\n`));
    else if (ringSize > 0) {
      ringSlot();
      ringTime[ringNext] = now;
      ringStream[ringNext] = 2;
      ringText[ringNext] = one;
      ringBytes[ringNext] = undefined;
      ringNext++;
      if (ringCount < ringSize) ringCount++;
    }
    toReaders(2, one);
  }

  // ---- the chunked path (raw, no time stamps) ----

  // The state of one attached stream. Per stream, not per stdout/stderr: after a restart the old process's
  // output (a daemon it left behind, say) can still be open beside the new one's, and their unfinished lines
  // must not mix.
  interface Source {
    s: number;
    /** the last chunk ended with `\n` */
    atLineStart: boolean;
    /** the bytes of an unfinished line that wait for the file */
    carry: Buffer[];
    carryLen: number;
    /** the splitter for the echo and listeners, while any; `skip` drops the rest of a line begun before */
    reader?: { splitter: LineSplitter; skip: boolean };
  }
  const noteSource: Source = { s: 2, atLineStart: true, carry: [], carryLen: 0 };

  // Recent chunks, oldest first from `chunkHead`, at most `chunkBudget` bytes beyond the newest one. `starts`
  // says the chunk begins a line, so that tail() can skip the rest of a line whose beginning was evicted.
  const chunkBudget = ringSize * 256;
  const chunks: { time: number; src: Source; buf: Buffer; starts: boolean }[] = [];
  let chunkHead = 0;
  let chunkBytes = 0;

  function ringChunk(src: Source, buf: Buffer): void {
    if (chunkBudget <= 0) return;
    chunks.push({ time: now, src, buf, starts: src.atLineStart });
    chunkBytes += buf.length;
    while (chunkBytes - chunks[chunkHead].buf.length >= chunkBudget)
      chunkBytes -= chunks[chunkHead++].buf.length;
    if (chunkHead > 64 && chunkHead * 2 > chunks.length) {
      chunks.splice(0, chunkHead);
      chunkHead = 0;
    }
  }

  function countLines(buf: Buffer): number {
    let n = 0;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    return n;
  }

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

  function chunk(src: Source, buf: Buffer): void {
    lines += countLines(buf);
    ringChunk(src, buf);
    fileChunk(src, buf);
    if (echo !== undefined || listeners.size > 0) {
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
    } else src.reader = undefined;
    src.atLineStart = buf[buf.length - 1] === 10;
  }

  function chunkEnd(src: Source): void {
    if (!src.atLineStart) {
      // a last line without `\n` is still a line
      lines++;
      ringChunk(src, NL);
      if (file !== undefined && src.carryLen > 0) {
        file.appendBytes(Buffer.concat(src.carry, src.carryLen), NL, 0, 1, NONE);
        src.carry = [];
        src.carryLen = 0;
      }
      src.atLineStart = true;
    }
    if (src.reader !== undefined && !src.reader.skip) src.reader.splitter.end();
    src.reader = undefined;
  }

  /** the lines of the chunk ring, oldest first */
  function chunkLines(): LogLine[] {
    const out: LogLine[] = [];
    let time = 0;
    const split = new Map<Source, LineSplitter>();
    for (let i = chunkHead; i < chunks.length; i++) {
      const c = chunks[i];
      time = c.time;
      let sp = split.get(c.src);
      let buf = c.buf;
      if (sp === undefined) {
        if (!c.starts) {
          // the beginning of this line was evicted
          const nl = buf.indexOf(10);
          if (nl === -1) continue;
          buf = buf.subarray(nl + 1);
        }
        const stream = STREAMS[c.src.s];
        sp = createLineSplitter(maxLineBytes, (b, start, end) =>
          out.push({ time, service, stream, text: b.toString('utf8', start, end) }),
        );
        split.set(c.src, sp);
      }
      sp.push(buf);
    }
    return out;
  }

  return {
    attach(stream, name) {
      const s = name === 'stderr' ? 1 : 0;
      const src: Source = { s, atLineStart: true, carry: [], carryLen: 0 };
      const splitter = chunked
        ? undefined
        : createLineSplitter(maxLineBytes, (buf, start, end) => emit(s, buf, start, end));
      streams.add(stream);
      const done = (): void => {
        if (!streams.delete(stream)) return;
        now = Date.now();
        if (splitter === undefined) chunkEnd(src);
        else splitter.end();
        written();
      };
      stream.on('data', (data: Buffer | string) => {
        now = Date.now();
        const buf = typeof data === 'string' ? Buffer.from(data) : data;
        if (buf.length === 0) return;
        if (splitter === undefined) chunk(src, buf);
        else splitter.push(buf);
        written();
      });
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
      if (chunked) {
        const k = Math.max(0, Math.floor(n));
        return k === 0 ? [] : chunkLines().slice(-k);
      }
      const k = Math.max(0, Math.min(Math.floor(n), ringCount));
      const out: LogLine[] = new Array(k);
      let i = ringCap === 0 ? 0 : (ringNext - k + ringCap) % ringCap;
      for (let j = 0; j < k; j++) {
        let text = ringText[i];
        if (text === undefined) {
          text = (ringBytes[i] as Buffer).toString('utf8', ringStart[i], ringEnd[i]);
          ringText[i] = text;
          ringBytes[i] = undefined;
        }
        out[j] = { time: ringTime[i], service, stream: STREAMS[ringStream[i]], text };
        i = i + 1 === ringCap ? 0 : i + 1;
      }
      return out;
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
