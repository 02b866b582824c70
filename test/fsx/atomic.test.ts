/** writeFileAtomic: readers see old or new content, never half, and never a secret in a file with the wrong mode. */

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chmod, open, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempPathFor, writeFileAtomic } from '../../src/fsx/index.js';
import { eventsDuring, ofTemp } from '../helpers/inotify.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-atomic-'));
  dirs.push(d);
  return d;
};

/** What a careless writer does: write the bytes, then set the mode. */
async function writeThenChmod(path: string, data: string, mode: number) {
  const t = tempPathFor(path);
  const fh = await open(t, 'wx');
  await fh.writeFile(data);
  await fh.close();
  await chmod(t, mode);
  await rename(t, path);
}

describe('writeFileAtomic', () => {
  it('gives the temp file its final mode before the first byte is written', async () => {
    const dir = tmp();
    const path = join(dir, 'secret.env');
    const events = ofTemp(
      await eventsDuring(dir, () => writeFileAtomic(path, 'PASSWORD=hunter2\n', { mode: 0o600 })),
    );
    expect(events[0]).toBe('CREATE');
    expect(events).toContain('MODIFY');
    expect(events.indexOf('ATTRIB')).toBeGreaterThan(-1);
    expect(events.indexOf('ATTRIB')).toBeLessThan(events.indexOf('MODIFY'));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('PASSWORD=hunter2\n');
  });

  it('the same check catches a writer that sets the mode after writing', async () => {
    const dir = tmp();
    const events = ofTemp(await eventsDuring(dir, () => writeThenChmod(join(dir, 's'), 'x', 0o600)));
    expect(events.indexOf('MODIFY')).toBeLessThan(events.indexOf('ATTRIB'));
  });

  it('sets the mode exactly, whatever the umask', async () => {
    const dir = tmp();
    const path = join(dir, 'f');
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(path, 'x', { mode: 0o644 });
    } finally {
      process.umask(old);
    }
    expect(statSync(path).mode & 0o777).toBe(0o644);
  });

  it('sets the owner before the first byte (tend as root writing for a service user)', async () => {
    if (process.getuid?.() !== 0) return;
    const dir = tmp();
    const path = join(dir, 'owned');
    const events = ofTemp(
      await eventsDuring(dir, () => writeFileAtomic(path, 'x', { mode: 0o640, uid: 65534, gid: 65534 })),
    );
    // fchmod and fchown, both before the data (inotify merges two ATTRIBs in a row that nobody read yet, so
    // under load they may arrive as one)
    expect(events[0]).toBe('CREATE');
    expect(events[1]).toBe('ATTRIB');
    expect(events.indexOf('ATTRIB')).toBeLessThan(events.indexOf('MODIFY'));
    const st = statSync(path);
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o640]);
  });

  it('replaces the old content whole and leaves no temp file behind', async () => {
    const dir = tmp();
    const path = join(dir, 'f');
    writeFileSync(path, 'old');
    await writeFileAtomic(path, Buffer.from('new'), { fsync: false });
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('a failed write leaves the old file and no temp file', async () => {
    const dir = tmp();
    const path = join(dir, 'f');
    writeFileSync(path, 'old');
    await expect(writeFileAtomic(path, 'x', { uid: -5 })).rejects.toThrow();
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['f']);
  });
});
