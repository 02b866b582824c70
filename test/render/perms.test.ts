/**
 * The mode and owner of a rendered file (issue 13): given to the staged file before a byte of the secret is in
 * it, 0640 unless `perms` says otherwise, tend's (or the template's `user`/`group`) whatever the destination
 * was, never written through a symlink, and never in a folder any user could swap it in.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TemplatePlan } from '../../src/manifest/types.js';
import { commitChecked } from '../../src/render/unit.js';
import { stage } from '../../src/render/write.js';
import { eventsDuring, ofTemp } from '../helpers/inotify.js';

const isRoot = process.geteuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-perms-'));
  dirs.push(d);
  return d;
};

function plan(destination: string, o: Partial<TemplatePlan> = {}): TemplatePlan {
  return {
    source: '/dev/null',
    destination,
    onChange: { kind: 'none' },
    wait: { minMs: 0, maxMs: 0 },
    missing: 'wait',
    missingTimeoutMs: 1000,
    leftDelim: '{{',
    rightDelim: '}}',
    errMissingKey: false,
    functions: { allow: [], deny: [] },
    ...o,
  };
}

const commit = (t: TemplatePlan, output: string) =>
  commitChecked(t, output, { env: { PATH: process.env.PATH }, service: 'web', cwd: tmpdir() });

describe('a rendered secret is never readable with the wrong mode', () => {
  for (const before of [undefined, 0o644, 0o666, 0o600]) {
    it(`perms "0600": the staged file has its mode before its first byte (destination ${before === undefined ? 'missing' : `0${before.toString(8)}`})`, async () => {
      const dir = tmp();
      const dest = join(dir, 'secret.env');
      if (before !== undefined) {
        writeFileSync(dest, 'PASSWORD=old\n');
        chmodSync(dest, before);
      }
      // the check itself sees the final mode on the file it validates
      const t = plan(dest, { perms: 0o600, check: 'test "$(stat -c %a "$TEND_CHECK_FILE")" = 600' });
      let result: unknown;
      const events = ofTemp(
        await eventsDuring(dir, async () => {
          result = await commit(t, 'PASSWORD=hunter2\n');
        }),
      );
      expect(result).toEqual({ status: 'rendered' });
      expect(events[0]).toBe('CREATE');
      expect(events).toContain('MODIFY');
      expect(events.indexOf('ATTRIB')).toBeGreaterThan(0);
      expect(events.indexOf('ATTRIB')).toBeLessThan(events.indexOf('MODIFY'));
      expect(statSync(dest).mode & 0o7777).toBe(0o600);
      expect(readFileSync(dest, 'utf8')).toBe('PASSWORD=hunter2\n');
    });
  }

  it('without perms a new file is 0640 whatever the umask, and an existing 0644 one becomes 0640', async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    const old = process.umask(0);
    try {
      expect(await commit(plan(dest), 'a=1\n')).toEqual({ status: 'rendered' });
    } finally {
      process.umask(old);
    }
    expect(statSync(dest).mode & 0o7777).toBe(0o640);
    chmodSync(dest, 0o644);
    // same bytes, wrong mode: put right, but nothing new for the service to read, so no on_change
    expect(await commit(plan(dest), 'a=1\n')).toEqual({ status: 'unchanged' });
    expect(statSync(dest).mode & 0o7777).toBe(0o640);
    expect(await commit(plan(dest), 'a=1\n')).toEqual({ status: 'unchanged' });
  });

  it('the in-place fallback and a failing check leave no file with the secret at a wider mode', async () => {
    const dir = tmp();
    const dest = join(dir, 'secret.env');
    const r = await commit(plan(dest, { perms: 0o600, check: 'exit 1' }), 'PASSWORD=hunter2\n');
    expect(r.status).toBe('check-failed');
    expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe('');
  });
});

describe('the destination is replaced, never written through', () => {
  it('a symlink at the destination is replaced by the file; its target is untouched', async () => {
    const dir = tmp();
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious\n');
    const dest = join(dir, 'app.conf');
    symlinkSync(target, dest);
    expect(await commit(plan(dest), 'PASSWORD=hunter2\n')).toEqual({ status: 'rendered' });
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(lstatSync(dest).isFile()).toBe(true);
    expect(readFileSync(dest, 'utf8')).toBe('PASSWORD=hunter2\n');
  });

  it('a symlink to a file that already has the rendered bytes is still replaced', async () => {
    const dir = tmp();
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'a=1\n');
    chmodSync(target, 0o640);
    const dest = join(dir, 'app.conf');
    symlinkSync(target, dest);
    await commit(plan(dest), 'a=1\n');
    expect(lstatSync(dest).isSymbolicLink()).toBe(false);
  });

  it('a FIFO at the destination neither hangs the render nor is written into', async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    expect(spawnSync('mkfifo', [dest]).status).toBe(0);
    expect(await commit(plan(dest), 'a=1\n')).toEqual({ status: 'rendered' });
    expect(lstatSync(dest).isFile()).toBe(true);
  });

  it('the file gets a new inode: a descriptor opened on the old file never sees the new bytes', async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'old\n');
    const before = statSync(dest).ino;
    await commit(plan(dest), 'PASSWORD=hunter2\n');
    expect(statSync(dest).ino).not.toBe(before);
  });
});

describe('folders another user could swap the file in', () => {
  it('a folder every user can write without the sticky bit is refused with what to do; with it, fine', async () => {
    const dir = tmp();
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const r = await commit(plan(join(open, 'app.conf')), 'PASSWORD=hunter2\n');
    expect(r.status).toBe('error');
    const reason = (r as { reason: string }).reason;
    expect(reason).toContain(`${open} is writable by every user (mode 0777) without the sticky bit`);
    expect(reason).toContain(`chmod o-w ${open}`);
    expect(spawnSync('ls', ['-A', open], { encoding: 'utf8' }).stdout).toBe('');
    chmodSync(open, 0o1777);
    expect(await commit(plan(join(open, 'app.conf')), 'x\n')).toEqual({ status: 'rendered' });
  });

  it('a world-writable folder above the destination is refused too (it could rename the folder away)', async () => {
    const dir = tmp();
    chmodSync(dir, 0o777);
    const r = await stage(join(dir, 'sub/deeper/app.conf'), 'x').catch((e: Error) => e);
    expect(r).toBeInstanceOf(Error);
    expect((r as Error).message).toContain(`${dir} is writable by every user`);
  });
});

describe('symlinked folders', () => {
  it("a symlinked folder tend's own user made is followed, also in a sticky shared folder", async () => {
    const dir = tmp();
    const real = join(dir, 'real');
    mkdirSync(real);
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    symlinkSync(real, join(shared, 'conf'));
    expect(await commit(plan(join(shared, 'conf/app.conf')), 'x\n')).toEqual({ status: 'rendered' });
    expect(readFileSync(join(real, 'app.conf'), 'utf8')).toBe('x\n');
  });
});

describe.skipIf(!isRoot)('owner (tend as root)', () => {
  it("a destination another uid owns is replaced by a file of tend's user", async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    writeFileSync(dest, 'a=1\n');
    chmodSync(dest, 0o640);
    chownSync(dest, 65534, 65534);
    // the very bytes, but not tend's file: replaced
    expect(await commit(plan(dest), 'a=1\n')).toEqual({ status: 'unchanged' });
    const st = statSync(dest);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([0, 0, 0o640]);
  });

  it('user and group give the file away before its first byte', async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    const events = ofTemp(
      await eventsDuring(dir, () => commit(plan(dest, { perms: 0o440, uid: 65534, gid: 65534 }), 's\n')),
    );
    expect(events[1]).toBe('ATTRIB');
    expect(events.indexOf('ATTRIB')).toBeLessThan(events.indexOf('MODIFY'));
    const st = statSync(dest);
    expect([st.uid, st.gid, st.mode & 0o7777]).toEqual([65534, 65534, 0o440]);
  });

  it("without group, the group of the service's user (readerGid), so a 0640 file is readable by the service", async () => {
    const dir = tmp();
    const dest = join(dir, 'app.conf');
    await commit(plan(dest, { readerGid: 65534 }), 's\n');
    const st = statSync(dest);
    expect([st.uid, st.gid]).toEqual([0, 65534]);
    // a group the template names wins
    await commit(plan(dest, { readerGid: 65534, group: '0', gid: 0 }), 's\n');
    expect(statSync(dest).gid).toBe(0);
  });
});
