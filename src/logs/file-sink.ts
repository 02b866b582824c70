/**
 * The log file of one service: formatted lines are copied into large blocks in memory and written in batches,
 * one `fs.write` in flight at a time, so tend's event loop never waits for the disk and never pays a syscall per
 * line. Everything appended ends with `\n`, which is what lets rotation cut a batch exactly between two lines
 * with a byte search instead of keeping per-line offsets.
 *
 * Errors (ENOSPC, EIO, EDQUOT, a vanished directory...) drop the batch being written, count its lines and are
 * reported once per episode; the next batch tries again, so logging resumes by itself when space returns.
 */
import { close, constants, fstat, ftruncate, open, rename, stat, unlink, write } from 'node:fs';
import { dirname } from 'node:path';
import { makeDir } from '../fsx/index.js';

export interface FileSinkOptions {
  file: string;
  /** rotate when the file would pass this size; 0 = never */
  maxSizeBytes: number;
  /** rotated files to keep (`file.1` newest); 0 = truncate in place */
  keep: number;
  /** mode of the file when tend creates it (default 0640: logs hold what services print, secrets included) */
  mode?: number;
  warn: (message: string) => void;
  /** after each batch, with the bytes still waiting: lets the owner resume the streams it paused */
  onProgress: (pending: number) => void;
  /** the file is writable again after `dropped` lines were lost: worth a line in the log itself */
  onRecover: (dropped: number, error: string) => void;
}

export interface FileSink {
  /** `prefix`, `src[start..end]`, `suffix` which must end with `\n` */
  appendBytes(prefix: Buffer, src: Buffer, start: number, end: number, suffix: Buffer): void;
  /**
   * `n` lines of `src`, each `prefix`, `src[starts[i]..ends[i]]`, `\n`; the lines come in order and do not
   * overlap. One copy of their span and a move per line, without the view Buffer#copy makes per call.
   */
  appendLines(prefix: Buffer, src: Buffer, starts: Int32Array, ends: Int32Array, n: number): void;
  /** `prefix`, `text` (UTF-8), `suffix` which must end with `\n` */
  appendText(prefix: Buffer, text: string, suffix: string): void;
  /** start writing what was appended, if no write is in flight */
  kick(): void;
  /** bytes appended and not yet written or dropped */
  pending(): number;
  /**
   * Closes the file so that the next batch opens the path again (SIGUSR1, logrotate's convention): after a
   * rename or delete by hand the lines go to a new file under the configured name.
   */
  reopen(): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  readonly bytes: number;
  readonly dropped: number;
  readonly rotations: number;
}

// Blocks start small and double while a burst lasts, up to MAX_BLOCK. A written block is used again (a fresh
// megabyte per block made a chatty service cost tend a full garbage collection every few blocks); a log that
// stays idle for IDLE_RELEASE_MS gives its blocks back, so twenty quiet services do not each hold a megabyte.
const MIN_BLOCK = 16 * 1024;
const MAX_BLOCK = 1024 * 1024;
const IDLE_RELEASE_MS = 2000;
const EMPTY = Buffer.alloc(0);
const NL = 10;
/**
 * How often, at most, a batch checks that the path still names the file tend holds (a log renamed or deleted
 * by hand, logrotate without copytruncate): a stat per batch, at most one every this many ms.
 */
const IDENTITY_CHECK_MS = 100;
// never through a symlink planted where the log goes: root would append a service's output to any file
const OPEN_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

export function createFileSink(opts: FileSinkOptions): FileSink {
  const { file, keep, warn, onProgress, onRecover } = opts;
  const maxSize = opts.maxSizeBytes > 0 ? opts.maxSizeBytes : Number.POSITIVE_INFINITY;

  // Blocks that are full, waiting to be written, oldest first, then the block being filled: its bytes from
  // `curStart` to `curPos` are appended but not yet handed to a write. A write reads only below `curPos`
  // while appends go above it, so filling and writing the same block never overlap.
  const sealed: Buffer[] = [];
  // the block each sealed region ends: once that region is written, the whole block is free again
  const sealedBlocks: Buffer[] = [];
  let spare: Buffer | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let idleMark = -1;
  let cur: Buffer = EMPTY;
  let nextBlock = MIN_BLOCK;
  let curStart = 0;
  let curPos = 0;
  let appended = 0;
  let processed = 0;
  const waiters: { until: number; resolve: () => void }[] = [];

  let fd = -1;
  let size = 0;
  // identity of the open file, to notice when the path names another one (or none)
  let ino = 0;
  let dev = 0;
  let checkedAt = 0;
  let reopenWanted = false;
  let writing = false;
  let closed = false;
  // a failed write left part of a line in the file and it could not be cut off: the next write starts with
  // `\n` so the torn piece does not glue itself to a good line
  let torn = false;
  let failing: string | undefined;
  let droppedInEpisode = 0;
  let bytes = 0;
  let dropped = 0;
  let rotations = 0;

  function room(n: number): void {
    if (curPos + n <= cur.length) return;
    if (cur.length > 0) {
      // sealed even when empty: part of it may be in a write now, and it is free only after that
      sealed.push(cur.subarray(curStart, curPos));
      sealedBlocks.push(cur);
    }
    const want = Math.max(nextBlock, n);
    if (spare !== undefined && spare.length >= want) {
      cur = spare;
      spare = undefined;
    } else cur = Buffer.allocUnsafe(want);
    nextBlock = Math.min(nextBlock * 2, MAX_BLOCK);
    curStart = curPos = 0;
  }

  function settle(): void {
    while (waiters.length > 0 && waiters[0].until <= processed) waiters.shift()!.resolve();
  }

  function countLines(buf: Buffer, from: number): number {
    let n = 0;
    let i = buf.indexOf(NL, from);
    while (i !== -1) {
      n++;
      i = buf.indexOf(NL, i + 1);
    }
    return n;
  }

  function drop(buf: Buffer, from: number, err: NodeJS.ErrnoException): void {
    const n = countLines(buf, from);
    dropped += n;
    droppedInEpisode += n;
    if (failing === undefined) {
      failing = err.code ?? err.message;
      warn(`cannot write ${file}: ${err.message}; log lines are dropped and counted until it works again`);
    }
  }

  function recovered(): void {
    if (failing === undefined) return;
    const error = failing;
    const n = droppedInEpisode;
    failing = undefined;
    droppedInEpisode = 0;
    if (n > 0) onRecover(n, error);
  }

  async function openFile(): Promise<void> {
    await makeDir(dirname(file));
    const f = await new Promise<number>((resolve, reject) =>
      open(file, OPEN_FLAGS, opts.mode ?? 0o640, (err, n) => (err ? reject(err) : resolve(n))),
    );
    const st = await new Promise<{ size: number; ino: number; dev: number; uid: number }>((resolve) =>
      fstat(f, (err, s) => resolve(err ? { size: 0, ino: 0, dev: 0, uid: -1 } : s)),
    );
    const uid = process.geteuid?.() ?? -1;
    if (uid >= 0 && st.uid !== uid) {
      // made by another user where the log goes (a shared folder): appending would hand them the service's
      // output, and they chose its mode; tend writes only into a log file of its own
      await new Promise<void>((resolve) => close(f, () => resolve()));
      throw Object.assign(
        new Error(
          `it belongs to uid ${st.uid}, not to tend's user (uid ${uid}); remove it and tend creates its own`,
        ),
        { code: 'EPERM' },
      );
    }
    fd = f;
    size = st.size;
    ino = st.ino;
    dev = st.dev;
    checkedAt = performance.now();
  }

  /** The path no longer names the open file (renamed, deleted, replaced): close it, the caller opens anew. */
  async function checkIdentity(): Promise<void> {
    if (fd < 0) return;
    const now = performance.now();
    if (!reopenWanted && now - checkedAt < IDENTITY_CHECK_MS) return;
    checkedAt = now;
    const same = reopenWanted
      ? false
      : await new Promise<boolean>((resolve) =>
          stat(file, (err, s) => resolve(!err && s.ino === ino && s.dev === dev)),
        );
    reopenWanted = false;
    if (same) return;
    const old = fd;
    fd = -1;
    await new Promise<void>((resolve) => close(old, () => resolve()));
  }

  /** writes buf[from..to] fully; on error, returns the errno with how far it got */
  function writeAll(
    buf: Buffer,
    from: number,
    to: number,
  ): Promise<{ at: number; err?: NodeJS.ErrnoException }> {
    return new Promise((resolve) => {
      const step = (at: number): void => {
        if (at >= to) {
          resolve({ at });
          return;
        }
        write(fd, buf, at, to - at, null, (err, n) => {
          if (err) resolve({ at, err });
          else if (n === 0)
            resolve({ at, err: Object.assign(new Error('write returned 0'), { code: 'EIO' }) });
          else {
            bytes += n;
            size += n;
            step(at + n);
          }
        });
      };
      step(from);
    });
  }

  async function rotate(): Promise<void> {
    if (keep <= 0) {
      rotations++;
      await new Promise<void>((resolve) =>
        ftruncate(fd, 0, (err) => {
          if (err) warn(`cannot truncate ${file}: ${err.message}`);
          resolve();
        }),
      );
      size = 0;
      return;
    }
    const mv = (from: string, to: string): Promise<NodeJS.ErrnoException | null> =>
      new Promise((resolve) => rename(from, to, (err) => resolve(err && err.code !== 'ENOENT' ? err : null)));
    for (let i = keep - 1; i >= 1; i--) await mv(`${file}.${i}`, `${file}.${i + 1}`);
    const err = await mv(file, `${file}.1`);
    if (err) {
      // keep appending to the same file rather than lose lines; try again after another max_size
      warn(`cannot rotate ${file}: ${err.message}`);
      size = 0;
      return;
    }
    rotations++;
    // a larger `keep` on an earlier run leaves older files behind
    await new Promise<void>((resolve) => unlink(`${file}.${keep + 1}`, () => resolve()));
    const old = fd;
    fd = -1;
    await new Promise<void>((resolve) => close(old, () => resolve()));
    try {
      await openFile();
    } catch {
      // the next batch opens it again, or drops and reports
    }
  }

  /**
   * Writing `buf[off..]` stopped at `at` with `err`. The fd is closed so that the next batch opens the file
   * afresh: a file or directory that was replaced, or a remounted disk, then just works again.
   */
  async function failed(buf: Buffer, off: number, at: number, err: NodeJS.ErrnoException): Promise<void> {
    if (at > off && buf[at - 1] !== NL) {
      // a short write ended inside a line whose end never made it: cut it off, the file keeps only whole lines
      const lineStart = Math.max(off, buf.lastIndexOf(NL, at - 1) + 1);
      const whole = size - (at - lineStart);
      const cut = await new Promise<boolean>((resolve) => ftruncate(fd, whole, (e) => resolve(!e)));
      if (cut) {
        bytes -= size - whole;
        size = whole;
      } else torn = true;
    }
    drop(buf, at, err);
    const f = fd;
    fd = -1;
    await new Promise<void>((resolve) => close(f, () => resolve()));
  }

  async function writeRegion(buf: Buffer): Promise<void> {
    let off = 0;
    await checkIdentity();
    while (off < buf.length) {
      if (fd < 0) {
        try {
          await openFile();
        } catch (err) {
          drop(buf, off, err as NodeJS.ErrnoException);
          return;
        }
      }
      if (torn) {
        const r = await writeAll(Buffer.from('\n'), 0, 1);
        if (r.err) {
          await failed(buf, off, off, r.err);
          return;
        }
        torn = false;
      }
      let end = buf.length;
      if (size + (end - off) > maxSize) {
        const space = maxSize - size;
        const cut = space > 0 ? buf.lastIndexOf(NL, off + space - 1) : -1;
        if (cut >= off) end = cut + 1;
        else if (size > 0) {
          await rotate();
          continue;
        } else end = buf.indexOf(NL, off) + 1; // one line larger than max_size: alone in its file
      }
      const r = await writeAll(buf, off, end);
      if (r.err) {
        // the rest of this batch would most likely fail the same way: drop it, try again with the next one
        await failed(buf, off, r.at, r.err);
        return;
      }
      recovered();
      off = end;
    }
  }

  async function pump(): Promise<void> {
    writing = true;
    try {
      for (;;) {
        let region: Buffer;
        let block: Buffer | undefined;
        if (sealed.length > 0) {
          region = sealed.shift()!;
          block = sealedBlocks.shift();
        } else if (curPos > curStart) {
          region = cur.subarray(curStart, curPos);
          curStart = curPos;
        } else break;
        if (region.length > 0) await writeRegion(region);
        if (block !== undefined && (spare === undefined || block.length > spare.length)) spare = block;
        processed += region.length;
        settle();
        onProgress(appended - processed);
      }
    } finally {
      writing = false;
    }
    if (cur.length > MIN_BLOCK || spare !== undefined) releaseWhenIdle();
  }

  /** gives the blocks back once nothing was appended for IDLE_RELEASE_MS (one timer, re-armed while busy) */
  function releaseWhenIdle(): void {
    idleMark = appended;
    if (idleTimer !== undefined) return;
    const check = (): void => {
      idleTimer = undefined;
      if (writing || appended !== idleMark || appended !== processed) {
        if (!closed) releaseWhenIdle();
        return;
      }
      spare = undefined;
      cur = EMPTY;
      curStart = curPos = 0;
      nextBlock = MIN_BLOCK;
    };
    idleTimer = setTimeout(check, IDLE_RELEASE_MS);
    idleTimer.unref();
  }

  function kick(): void {
    // pump() handles its own errors; a bug in it must still not become an unhandled rejection that kills tend
    if (!writing && appended > processed)
      pump().catch((err: Error) => warn(`log writer failed: ${err.message}`));
  }

  return {
    appendBytes(prefix, src, start, end, suffix) {
      if (closed) {
        dropped++;
        return;
      }
      const n = prefix.length + (end - start) + suffix.length;
      room(n);
      let p = curPos;
      cur.set(prefix, p);
      p += prefix.length;
      p += src.copy(cur, p, start, end);
      for (let i = 0; i < suffix.length; i++) cur[p++] = suffix[i];
      curPos = p;
      appended += n;
    },
    appendLines(prefix, src, starts, ends, n) {
      if (n === 0) return;
      if (closed) {
        dropped += n;
        return;
      }
      const P = prefix.length;
      const from = starts[0];
      const to = ends[n - 1];
      let total = 0;
      for (let i = 0; i < n; i++) total += P + 1 + ends[i] - starts[i];
      room(total);
      // The span goes to the end of the room, then each line moves left to its place behind its prefix. A line's
      // output (prefix, text, \n) is longer than what it spans in src (its text and a \n or \r\n, or nothing
      // after a cut) as long as the prefix is not empty, so the place of line i (prefix included) ends before
      // line i+1's bytes begin: moving in order only overwrites bytes already moved.
      const base = curPos + total - (to - from);
      cur.set(src.subarray(from, to), base);
      let o = curPos;
      for (let i = 0; i < n; i++) {
        const len = ends[i] - starts[i];
        cur.copyWithin(o + P, base + starts[i] - from, base + ends[i] - from);
        cur.set(prefix, o);
        o += P + len;
        cur[o++] = NL;
      }
      curPos = o;
      appended += total;
    },
    appendText(prefix, text, suffix) {
      if (closed) {
        dropped++;
        return;
      }
      const max = prefix.length + (text.length + suffix.length) * 3;
      room(max);
      let p = curPos;
      cur.set(prefix, p);
      p += prefix.length;
      p += cur.write(text, p, 'utf8');
      p += cur.write(suffix, p, 'utf8');
      appended += p - curPos;
      curPos = p;
    },
    kick,
    pending: () => appended - processed,
    reopen() {
      if (writing || fd < 0) {
        reopenWanted = fd >= 0 || writing;
        return;
      }
      // idle: let go of the old file now, so the space of a deleted one comes back at once
      const old = fd;
      fd = -1;
      close(old, () => {});
    },
    flush() {
      kick();
      if (processed >= appended) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ until: appended, resolve }));
    },
    async close() {
      if (closed) return;
      // a recovery note can be appended while the last batches are written: loop until nothing is left
      while (appended > processed) {
        kick();
        await new Promise<void>((resolve) => waiters.push({ until: appended, resolve }));
      }
      closed = true;
      clearTimeout(idleTimer);
      idleTimer = undefined;
      spare = undefined;
      if (fd >= 0) {
        const f = fd;
        fd = -1;
        await new Promise<void>((resolve) => close(f, () => resolve()));
      }
    },
    get bytes() {
      return bytes;
    },
    get dropped() {
      return dropped;
    },
    get rotations() {
      return rotations;
    },
  };
}
