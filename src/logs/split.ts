/**
 * Splits a byte stream into lines without decoding it first: `\n` (byte 10) never occurs inside a multi-byte
 * UTF-8 sequence, so cutting on it is always safe and a character split across two chunks is whole again once
 * the line is complete. Lines are handed over as (buffer, start, end) so the caller decides whether it needs a
 * string at all (the raw file format copies the bytes as they are).
 *
 * A line longer than `maxLineBytes` is handed over in pieces of at most `maxLineBytes` bytes, each a line of
 * its own; the cut moves back to the start of a UTF-8 character so every piece decodes cleanly. This bounds the
 * memory one child can make tend hold for a single line.
 */
export type LineSink = (buf: Buffer, start: number, end: number) => void;

export interface LineSplitter {
  push(chunk: Buffer): void;
  /** the stream ended: a trailing line without `\n` is still a line */
  end(): void;
}

const NL = 10;
const CR = 13;

export function createLineSplitter(maxLineBytes: number, sink: LineSink): LineSplitter {
  const max = Math.max(4, Math.floor(maxLineBytes));
  // the bytes of an unfinished line, at most `max` in all (longer runs are cut into pieces right away); kept as a
  // list so a line trickling in by small writes is copied once, not once per write
  let carry: Buffer[] = [];
  let carryLen = 0;
  // the last piece handed over was a cut, so an empty remainder is the end of a long line, not an empty line
  let cutPending = false;

  /** where to cut `buf[start..]` so that the piece is at most `max` bytes and ends on a character boundary */
  function cutPoint(buf: Buffer, start: number): number {
    let p = start + max;
    const floor = p - 3;
    while (p > floor && p > start + 1 && (buf[p] & 0xc0) === 0x80) p--;
    if ((buf[p] & 0xc0) === 0x80) p = start + max; // not UTF-8 anyway: cut where the limit says
    // keep a `\r` with what follows so a CRLF ending is still recognised
    if (buf[p - 1] === CR && p - 1 > start) p--;
    return p;
  }

  /** hands over `buf[start..end]`; `complete` says a `\n` ended it, otherwise the rest becomes the carry */
  function line(buf: Buffer, start: number, end: number, complete: boolean): void {
    while (end - start > max) {
      const p = cutPoint(buf, start);
      sink(buf, start, p);
      cutPending = true;
      start = p;
    }
    if (!complete) {
      if (start < end) {
        carry.push(Buffer.from(buf.subarray(start, end)));
        carryLen = end - start;
      }
      return;
    }
    if (end > start && buf[end - 1] === CR) end--;
    if (end > start || !cutPending) sink(buf, start, end);
    cutPending = false;
  }

  return {
    push(chunk) {
      let start = 0;
      const len = chunk.length;
      if (carryLen > 0) {
        const nl = chunk.indexOf(NL);
        const head = nl === -1 ? len : nl;
        if (nl === -1 && carryLen + len < max) {
          // the stream may reuse its buffer: keep a copy
          carry.push(Buffer.from(chunk));
          carryLen += len;
          return;
        }
        carry.push(chunk.subarray(0, head));
        const joined = Buffer.concat(carry, carryLen + head);
        carry = [];
        carryLen = 0;
        line(joined, 0, joined.length, nl !== -1);
        if (nl === -1) return;
        start = nl + 1;
      }
      let nl = chunk.indexOf(NL, start);
      while (nl !== -1) {
        if (nl - start > max) line(chunk, start, nl, true);
        else {
          let end = nl;
          if (end > start && chunk[end - 1] === CR) end--;
          if (end > start || !cutPending) sink(chunk, start, end);
          cutPending = false;
        }
        start = nl + 1;
        nl = chunk.indexOf(NL, start);
      }
      if (start < len) line(chunk, start, len, false);
    },
    end() {
      if (carryLen > 0) {
        const c = Buffer.concat(carry, carryLen);
        carry = [];
        carryLen = 0;
        line(c, 0, c.length, true);
      }
      cutPending = false;
    },
  };
}
