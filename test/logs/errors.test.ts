import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServiceLog } from '../../src/logs/index.js';
import { closed, createScratch, feed, fileLines, plan, rawStream, rawText } from './helpers.js';

const scratch = createScratch();
const mounts: string[] = [];
afterEach(async () => {
  // unmount before the temp dirs go, even when the test failed half-way
  for (const m of mounts.splice(0)) {
    try {
      execFileSync('umount', [m], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    }
  }
  await scratch.cleanup();
});

function tryMountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}

const numbered = (n: number, word: string) =>
  `let i = 0; (function more() { while (i < ${n}) if (!process.stdout.write('${word} ' + i++ + ' end\\n')) return process.stdout.once('drain', more); })();`;

describe('service log: write errors', () => {
  it('counts lines lost on a full disk and resumes when space returns (tmpfs)', async (ctx) => {
    const mnt = join(scratch.dir(), 'mnt');
    mkdirSync(mnt);
    if (!tryMountTmpfs(mnt, '64k')) return ctx.skip();
    const filler = join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(56 * 1024));
    const file = join(mnt, 'web.log');
    const warnings: string[] = [];
    const log = createServiceLog({ service: 'web', plan: plan({ file }), warn: (m) => warnings.push(m) });

    const child = scratch.node(numbered(2000, 'line'));
    log.attach(child.stdout!, 'stdout');
    expect(await closed(child)).toBe(0);
    await log.flush();
    const { dropped, lines } = log.stats();
    expect(lines).toBe(2000);
    expect(dropped).toBeGreaterThan(0);
    // the file holds only whole lines, in order, and together with the dropped ones they are all the lines
    const kept = fileLines(file);
    let last = -1;
    for (const l of kept) {
      const m = /^stdout line (\d+) end$/.exec(l.slice(25));
      expect(m, l).not.toBeNull();
      expect(Number(m![1])).toBeGreaterThan(last);
      last = Number(m![1]);
    }
    expect(kept.length + dropped).toBe(2000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ENOSPC|no space/i);

    unlinkSync(filler);
    const again = scratch.node(numbered(100, 'after'));
    log.attach(again.stdout!, 'stdout');
    await closed(again);
    await log.close();
    const after = fileLines(file).slice(kept.length);
    expect(after.filter((l) => rawStream(l) === 'stdout').map(rawText)).toEqual(
      Array.from({ length: 100 }, (_, i) => `after ${i} end`),
    );
    // the recovery is tend's line, not the service's: on tend's output (here its warnings, as nothing is echoed)
    expect(after.filter((l) => rawStream(l) === 'tend')).toEqual([]);
    expect(log.stats().dropped).toBe(dropped);
    expect(warnings).toEqual([warnings[0], `${dropped} log lines were dropped (ENOSPC); writing again`]);
    expect(log.tail().some((l) => l.stream === 'tend' && l.text.startsWith(`${dropped} log lines`))).toBe(
      true,
    );
  });

  it('counts lines lost on a device that is always full and resumes when the file is replaced (/dev/full)', async () => {
    const file = join(scratch.dir(), 'web.log');
    // a device node of /dev/full's own numbers (1, 7), not a symlink: tend never opens a log through one
    execFileSync('mknod', [file, 'c', '1', '7']);
    const warnings: string[] = [];
    const log = createServiceLog({ service: 'web', plan: plan({ file }), warn: (m) => warnings.push(m) });
    const out = feed(log);
    for (let i = 0; i < 10; i++) await out.write(`lost ${i}\n`);
    await log.flush();
    await out.write('lost 10\n');
    await log.flush();
    expect(log.stats().dropped).toBe(11);
    expect(warnings).toHaveLength(1);

    unlinkSync(file);
    await out.write('kept\n');
    await log.flush();
    await out.write('kept too\n');
    await log.close();
    expect(fileLines(file).map(rawText)).toEqual(['kept', 'kept too']);
    expect(warnings[1]).toBe('11 log lines were dropped (ENOSPC); writing again');
    expect(log.stats()).toMatchObject({ dropped: 11, lines: 14 });
  });

  it('counts lines lost while the directory cannot be created, and creates it when it can', async () => {
    const dir = scratch.dir();
    writeFileSync(join(dir, 'sub'), 'a file where the log directory should be');
    const file = join(dir, 'sub', 'web.log');
    const warnings: string[] = [];
    const log = createServiceLog({ service: 'web', plan: plan({ file }), warn: (m) => warnings.push(m) });
    const child = scratch.node(numbered(500, 'line'));
    log.attach(child.stdout!, 'stdout');
    await closed(child);
    await log.flush();
    expect(log.stats().dropped).toBe(500);
    expect(warnings).toHaveLength(1);

    unlinkSync(join(dir, 'sub'));
    await feed(log).write('back\n');
    await log.close();
    expect(fileLines(file).map(rawText)).toEqual(['back']);
    expect(warnings[1]).toBe('500 log lines were dropped (EEXIST); writing again');
  });
});

describe('a log path that someone else prepared', () => {
  it('never follows a symlink planted where the log goes (root would append to any file)', async () => {
    const dir = scratch.dir();
    const target = join(dir, 'shadow');
    writeFileSync(target, 'root:x:0:0\n');
    const file = join(dir, 'web.log');
    symlinkSync(target, file);
    const warnings: string[] = [];
    const log = createServiceLog({ service: 'web', plan: plan({ file }), warn: (m) => warnings.push(m) });
    await feed(log).write('planted\n');
    await log.close();
    expect(readFileSync(target, 'utf8')).toBe('root:x:0:0\n');
    expect(warnings.join('\n')).toMatch(/cannot write .*web\.log/);
  });
});
