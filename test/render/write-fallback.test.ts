/** A destination that cannot be renamed over (a Docker bind-mounted file: EBUSY) is rewritten in place. */
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const busy = new Set<string>();
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    rename: async (from: string, to: string) => {
      if (busy.has(to)) {
        throw Object.assign(new Error(`EBUSY: resource busy or locked, rename '${from}' -> '${to}'`), {
          code: 'EBUSY',
        });
      }
      return fs.rename(from, to);
    },
  };
});

const { stage } = await import('../../src/render/write.js');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  busy.clear();
});

describe('atomic writer on a bind-mounted file', () => {
  it('falls back to writing in place, applies perms, and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-write-'));
    dirs.push(dir);
    const dest = join(dir, 'mounted.conf');
    writeFileSync(dest, 'old');
    busy.add(dest);
    expect(await (await stage(dest, 'new', { perms: 0o600 })).commit()).toBe('in-place');
    expect(readFileSync(dest, 'utf8')).toBe('new');
    expect(statSync(dest).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['mounted.conf']);
  });

  it('never writes through a symlink at the destination', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-write-'));
    dirs.push(dir);
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious');
    const dest = join(dir, 'linked.conf');
    symlinkSync(target, dest);
    busy.add(dest);
    await expect((await stage(dest, 'secret', { perms: 0o600 })).commit()).rejects.toThrow(/ELOOP/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(readdirSync(dir).sort()).toEqual(['linked.conf', 'victim']);
  });
});
