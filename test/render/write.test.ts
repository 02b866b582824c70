/**
 * The atomic writer: what goes live is whole, with the right mode, and a crash between the temporary write and
 * the rename (a real process killed with SIGKILL) leaves the destination as it was.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCurrent, removeLeftovers, stage } from '../../src/render/index.js';
import { CLI } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-write-'));
  dirs.push(d);
  return d;
};

/** the built writer of this test run, for a child process to crash in */
const WRITER = join(dirname(dirname(CLI)), 'render', 'write.js');

function runChild(script: string, killAfterMs?: number): Promise<string | null> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
}

describe('atomic writer', () => {
  it('creates the folder, applies perms exactly, and keeps an existing mode when none is given', async () => {
    const dir = tmp();
    const dest = join(dir, 'a/b/app.conf');
    expect(await (await stage(dest, 'one', { perms: 0o640 })).commit()).toBe('rename');
    expect(readFileSync(dest, 'utf8')).toBe('one');
    expect(statSync(dest).mode & 0o777).toBe(0o640);
    await (await stage(dest, 'two')).commit();
    expect(statSync(dest).mode & 0o777).toBe(0o640);
    expect(readdirSync(join(dir, 'a/b'))).toEqual(['app.conf']);
  });

  it('a discarded stage leaves the destination untouched and no temporary file', async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old');
    const s = await stage(dest, 'new');
    expect(readFileSync(s.path, 'utf8')).toBe('new');
    expect(readFileSync(dest, 'utf8')).toBe('old');
    await s.discard();
    expect(readdirSync(dir)).toEqual(['app.conf']);
    expect(await readCurrent(join(dir, 'nope'))).toBeUndefined();
  });

  it('a crash between the temporary write and the rename leaves the old file whole; the leftover is removed', async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old content\n');
    const signal = await runChild(`
      import { stage } from ${JSON.stringify(WRITER)};
      const s = await stage(${JSON.stringify(dest)}, 'new content\\n'.repeat(1000), {
        beforeRename: () => process.kill(process.pid, 'SIGKILL'),
      });
      await s.commit();
    `);
    expect(signal).toBe('SIGKILL');
    expect(readFileSync(dest, 'utf8')).toBe('old content\n');
    const leftovers = readdirSync(dir).filter((n) => n !== 'app.conf');
    expect(leftovers).toHaveLength(1);
    expect(leftovers[0]).toMatch(/^\.app\.conf\.tend-\d+-[0-9a-f]+\.tmp$/);
    expect(await removeLeftovers(dest)).toBe(1);
    expect(readdirSync(dir)).toEqual(['app.conf']);
  });

  it('a crash in the middle of writing a large file never shows a partial destination', async () => {
    const dir = tmp();
    const dest = join(dir, 'big.conf');
    const old = 'x'.repeat(1000);
    writeFileSync(dest, old);
    const signal = await runChild(
      `
      import { stage } from ${JSON.stringify(WRITER)};
      for (let i = 0; ; i++) await (await stage(${JSON.stringify(dest)}, String(i % 10).repeat(20_000_000))).commit();
    `,
      700,
    );
    expect(signal).toBe('SIGKILL');
    const now = readFileSync(dest, 'utf8');
    // either the old file or one complete new version, never a mix or a truncated one
    if (now !== old) {
      expect(now.length).toBe(20_000_000);
      expect(new Set(now).size).toBe(1);
    }
    await removeLeftovers(dest);
    expect(readdirSync(dir)).toEqual(['big.conf']);
  });
});
