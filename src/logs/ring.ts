/**
 * The recent output of one service, for `tend logs`, the dashboard and log readiness: the chunks as they were
 * read, copied into one circular byte buffer, and split into lines only when someone asks (`tail()`).
 *
 * Copies, because chunks are read into a buffer that the next read reuses (reader.ts); one copy of each chunk is
 * cheaper than anything per line. The buffer starts small and doubles up to its budget as output comes, so a
 * silent service holds nothing. A chunk larger than the whole budget keeps only its end.
 */

const EMPTY = Buffer.alloc(0);
const MIN_BYTES = 1024;

export interface RingChunk<T> {
  time: number;
  tag: T;
  /** the chunk begins a line (false: the beginning of its first line is not in the ring) */
  starts: boolean;
  /** absolute offset of its first byte, counted over everything ever pushed */
  at: number;
  len: number;
}

export interface ChunkRing<T> {
  /** copies `buf` in */
  push(buf: Buffer, time: number, tag: T, starts: boolean): void;
  /** the chunks still whole in the ring, oldest first; each buffer is valid until the next push */
  each(fn: (buf: Buffer, c: RingChunk<T>) => void): void;
}

export function createChunkRing<T>(budget: number): ChunkRing<T> {
  let store = EMPTY;
  // bytes pushed so far: a chunk at absolute offset `at` sits at `at % store.length`
  let written = 0;
  const chunks: RingChunk<T>[] = [];
  let head = 0;

  /** writes `src` at absolute offset `at` of `into`, wrapping around its end */
  function put(into: Buffer, at: number, src: Buffer): void {
    const cap = into.length;
    const p = at % cap;
    const first = Math.min(src.length, cap - p);
    into.set(first === src.length ? src : src.subarray(0, first), p);
    if (first < src.length) into.set(src.subarray(first), 0);
  }

  /** the bytes from absolute `at`, `len` long: a view, or a copy where they wrap */
  function get(at: number, len: number): Buffer {
    const cap = store.length;
    const p = at % cap;
    if (p + len <= cap) return store.subarray(p, p + len);
    return Buffer.concat([store.subarray(p), store.subarray(0, len - (cap - p))], len);
  }

  function grow(need: number): void {
    const live = head < chunks.length ? written - chunks[head].at : 0;
    let cap = Math.max(MIN_BYTES, store.length);
    while (cap < live + need && cap < budget) cap *= 2;
    cap = Math.min(cap, budget);
    if (cap <= store.length) return;
    const next = Buffer.allocUnsafe(cap);
    if (live > 0) put(next, written - live, get(written - live, live));
    store = next;
  }

  return {
    push(buf, time, tag, starts) {
      if (budget <= 0 || buf.length === 0) return;
      let b = buf;
      if (b.length > budget) {
        b = b.subarray(b.length - budget);
        starts = false;
      }
      if (store.length < budget) grow(b.length);
      put(store, written, b);
      chunks.push({ time, tag, starts, at: written, len: b.length });
      written += b.length;
      // a chunk whose first byte was overwritten is gone
      const oldest = written - store.length;
      while (head < chunks.length && chunks[head].at < oldest) head++;
      if (head > 64 && head * 2 > chunks.length) {
        chunks.splice(0, head);
        head = 0;
      }
    },
    each(fn) {
      for (let i = head; i < chunks.length; i++) fn(get(chunks[i].at, chunks[i].len), chunks[i]);
    },
  };
}
