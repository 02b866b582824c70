import { open } from 'node:fs/promises';

const STEP = 64 * 1024;

/**
 * The last `n` lines of a file, oldest first, without a trailing empty line. Reads backwards from the end in
 * 64 KiB steps, so a large log costs only about as much as the lines asked for.
 */
export async function readLastLines(file: string, n: number): Promise<string[]> {
  if (n <= 0) return [];
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const parts: Buffer[] = [];
    let pos = size;
    let newlines = 0;
    let skipFinal = true;
    // past the file's final `\n`, n newlines mean the n-th line from the end starts after one of them
    while (pos > 0 && newlines < n) {
      const len = Math.min(STEP, pos);
      pos -= len;
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      const got = buf.subarray(0, bytesRead);
      parts.unshift(got);
      let end = got.length;
      if (skipFinal && pos + len === size && got[end - 1] === 10) end--;
      skipFinal = false;
      // lastIndexOf with a negative offset counts from the end, hence the guards
      for (let i = end > 0 ? got.lastIndexOf(10, end - 1) : -1; i !== -1; ) {
        newlines++;
        i = i > 0 ? got.lastIndexOf(10, i - 1) : -1;
      }
    }
    const text = Buffer.concat(parts).toString('utf8');
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    // the first piece may be the end of a longer line when reading stopped mid-file
    const start = pos > 0 ? 1 : 0;
    const whole = lines.slice(start);
    return whole.slice(Math.max(0, whole.length - n)).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  } finally {
    await fh.close();
  }
}
