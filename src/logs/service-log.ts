/**
 * One service's log: child output in, lines out to the file, the echo, the ring and the listeners.
 *
 * Every line is decoded once (the ring and listeners need text) and the file gets bytes copied into a batch, so
 * the per-line cost is a string, a few copies and no syscall. When the file falls more than `highWaterBytes`
 * behind, the child's pipes are paused: the child then blocks on its own write, which keeps every line without
 * letting a fast child fill tend's memory or a slow disk stall tend's loop.
 */

import type { LogPlan } from '../manifest/types.js';
import { createFileSink, type FileSink } from './file-sink.js';
import { createPrefixCache, JSON_NEEDS_ESCAPE, STREAMS } from './format.js';
import { createLineSplitter } from './split.js';
import type { EchoTarget, LogLine, LogStats } from './types.js';

export interface ServiceLogOptions {
  service: string;
  plan: LogPlan;
  /** where `plan.stdout` lines go; without it nothing is echoed */
  echo?: EchoTarget;
  /** recent lines kept in memory for `tail` (default 1000) */
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
  /** a line tend writes on the service's behalf, e.g. "exited with code 3" (stream `tend`) */
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
  const prefixes = createPrefixCache(plan.format, service);
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
            note(`${n} log lines were dropped (${error})`);
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
      if (ringNext === ringCap) {
        if (ringCap < ringSize) growRing();
        else ringNext = 0;
      }
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
    const b = Buffer.from(text.replace(/\r?\n/g, ' '));
    emit(2, b, 0, b.length);
    written();
  }

  return {
    attach(stream, name) {
      const s = name === 'stderr' ? 1 : 0;
      const splitter = createLineSplitter(maxLineBytes, (buf, start, end) => emit(s, buf, start, end));
      streams.add(stream);
      const done = (): void => {
        if (!streams.delete(stream)) return;
        now = Date.now();
        splitter.end();
        written();
      };
      stream.on('data', (chunk: Buffer | string) => {
        now = Date.now();
        splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
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
