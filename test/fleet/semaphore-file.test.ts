/**
 * The rollout semaphore on a file store: several tends on one host, each a real process (node on the build of this
 * test run), sharing one store folder. Never more than `max` hold at once and all get through in the order they
 * queued; a holder SIGKILLed while holding frees its slot (the kernel drops its flock), and not before; the
 * semaphore's folder refuses to be a symlink or writable by others, and a planted symlink in it is never followed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireSlot, SemaphoreError } from '../../src/fleet/index.js';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { CLI } from '../helpers/cli.js';
import { sleep, waitFor } from '../helpers/wait.js';

const DIST = dirname(dirname(CLI));
const PREFIX = 'rollout/shop/web/';
const dirs: string[] = [];
const children: ChildProcess[] = [];
const opened: KvBackend[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(opened.splice(0).map((kv) => kv.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(): { dir: string; store: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tend-sem-file-'));
  dirs.push(dir);
  const store = join(dir, 'kv');
  mkdirSync(store);
  writeFileSync(join(store, 'msg'), 'v1\n');
  return { dir, store };
}

/** A contender process: acquires, says `held <ticket>`, holds `holdMs` (or until killed), says `releasing`. */
const CONTENDER = `
const [dist, store, prefix, max, holdMs, name] = process.argv.slice(2);
const { openKv } = await import(dist + '/kv/index.js');
const { acquireSlot } = await import(dist + '/fleet/index.js');
const kv = openKv('file:' + store);
const lease = await kv.grantLease(10000);
console.log('waiting ' + name);
const slot = await acquireSlot(kv, { prefix, max: Number(max), lease, holder: name });
console.log('held ' + name + ' ' + slot.revision);
// an empty event loop would end the process (and free the lock): keep it alive until killed
if (holdMs === 'stdin') await new Promise((r) => process.stdin.once('data', r));
else if (holdMs === 'forever') await new Promise(() => setInterval(() => {}, 1 << 30));
else await new Promise((r) => setTimeout(r, Number(holdMs)));
console.log('releasing ' + name);
await slot.release();
await kv.close();
process.exit(0); // an open stdin pipe would keep it alive
`;

interface Contender {
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  exitCode?: number | null;
}

function contender(
  dir: string,
  store: string,
  max: number,
  holdMs: number | 'forever' | 'stdin',
  name: string,
  log: string[],
) {
  const script = join(dir, 'contender.mjs');
  if (!existsSync(script)) writeFileSync(script, CONTENDER);
  const proc = spawn(process.execPath, [script, DIST, store, PREFIX, String(max), String(holdMs), name], {
    stdio: [holdMs === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const c: Contender = {
    proc,
    lines: [],
    exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
  };
  void c.exited.then((code) => {
    c.exitCode = code;
  });
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      c.lines.push(line);
      log.push(line);
    }
  });
  proc.stderr?.on('data', (d: Buffer) => c.lines.push(`stderr: ${d.toString()}`));
  return c;
}

describe('rollout semaphore on a file store (real processes, one host)', () => {
  it('five tends, max 2: never more than two hold at once, all get through, first come first served', async () => {
    const { dir, store } = project();
    const log: string[] = [];
    const all: Contender[] = [];
    const queue = join(dir, '.kv.tend-semaphores', 'rollout', 'shop', 'web');
    const queued = () =>
      existsSync(queue) ? readdirSync(queue).filter((n) => n.startsWith('q-')).length : 0;
    const holders = () =>
      all.filter((c) => c.lines.some((l) => l.startsWith('held ')) && c.exitCode === undefined);
    // they queue one after another (each one's queue file exists before the next starts): arrival order is known
    for (let i = 0; i < 5; i++) {
      const c = contender(dir, store, 2, 'stdin', `t${i}`, log);
      all.push(c);
      await waitFor(() => queued() === i + 1, {
        timeoutMs: 30_000,
        what: `t${i} queued (${existsSync(queue) && readdirSync(queue).join(' ')}; ${all.map((x) => x.lines.join('|')).join(' / ')})`,
      });
    }
    const heldNames = () => log.filter((l) => l.startsWith('held ')).map((l) => l.split(' ')[1]);
    await waitFor(() => heldNames().length === 2, { what: 't0 and t1 hold' });
    // each release lets exactly the next in line in, never more than two at once
    for (let next = 2; next <= 5; next++) {
      expect(heldNames()).toEqual(all.slice(0, next).map((_, i) => `t${i}`));
      await sleep(next === 2 ? 600 : 0); // over a poll round: still nobody else gets in
      expect(heldNames()).toHaveLength(next);
      const done = all[next - 2] as Contender;
      done.proc.stdin?.write('go\n');
      expect(await done.exited).toBe(0);
      if (next < 5) await waitFor(() => heldNames().length === next + 1, { what: `t${next} holds` });
    }
    const last = all[4] as Contender;
    last.proc.stdin?.write('go\n');
    expect(await last.exited).toBe(0);
    expect(heldNames()).toEqual(['t0', 't1', 't2', 't3', 't4']);
    // at most two between `held` and `releasing` at any point of the log
    let holding = 0;
    let most = 0;
    for (const line of log) {
      if (line.startsWith('held ')) most = Math.max(most, ++holding);
      if (line.startsWith('releasing ')) holding--;
    }
    expect(most).toBe(2);
    expect(holders()).toEqual([]);
    // nothing left behind, and nothing of it in the store (it lives beside it)
    expect(readdirSync(queue)).toEqual([]);
    const kv = openKv(`file:${store}`);
    opened.push(kv);
    expect((await kv.list('')).map((p) => p.key)).toEqual(['msg']);
  }, 90_000);

  it('a holder SIGKILLed while holding frees its slot, and not before', async () => {
    const { dir, store } = project();
    const log: string[] = [];
    const a = contender(dir, store, 1, 'forever', 'a', log);
    await waitFor(() => a.lines.some((l) => l.startsWith('held a')), { timeoutMs: 30_000, what: 'a holds' });
    const b = contender(dir, store, 1, 100, 'b', log);
    await waitFor(() => b.lines.some((l) => l.startsWith('waiting b')), {
      timeoutMs: 30_000,
      what: 'b waits',
    });
    // b polls for dead holders every 500 ms: several rounds, and a is alive, so b must still wait
    await sleep(1500);
    expect(b.lines.some((l) => l.startsWith('held b'))).toBe(false);
    expect(a.proc.exitCode).toBe(null);
    a.proc.kill('SIGKILL');
    await a.exited;
    await waitFor(() => b.lines.some((l) => l.startsWith('held b')), { timeoutMs: 15_000, what: 'b holds' });
    expect(await b.exited).toBe(0);
    // a's leftover queue file was removed by whoever found it dead
    expect(readdirSync(join(dir, '.kv.tend-semaphores', 'rollout', 'shop', 'web'))).toEqual([]);
  }, 60_000);

  it('an aborted waiter leaves no file; a store that is one YAML document keeps its folder beside it', async () => {
    const { dir } = project();
    const doc = join(dir, 'kv.yaml');
    writeFileSync(doc, 'app:\n  msg: v1\n');
    const kv = openKv(`file:${doc}`);
    opened.push(kv);
    const lease = await kv.grantLease(10_000);
    const slot = await acquireSlot(kv, { prefix: PREFIX, max: 1, lease, holder: 'a' });
    const queue = join(dir, '.kv.yaml.tend-semaphores', 'rollout', 'shop', 'web');
    expect(readdirSync(queue)).toHaveLength(1);
    const ac = new AbortController();
    const waiting = acquireSlot(kv, { prefix: PREFIX, max: 1, lease, holder: 'b', signal: ac.signal });
    await waitFor(() => readdirSync(queue).length === 2, { what: "b's queue file" });
    ac.abort();
    await expect(waiting).rejects.toThrow(/gave up waiting/);
    expect(readdirSync(queue)).toHaveLength(1);
    await slot.release();
    expect(readdirSync(queue)).toEqual([]);
    expect(readFileSync(doc, 'utf8')).toBe('app:\n  msg: v1\n');
  });

  it("a fresh temporary file is another contender's, about to be locked: left alone; an old unlocked one is removed", async () => {
    const { dir, store } = project();
    const queue = join(dir, '.kv.tend-semaphores', 'rollout', 'shop', 'web');
    mkdirSync(queue, { recursive: true, mode: 0o700 });
    const fresh = join(queue, 't-4242-fresh');
    const old = join(queue, 't-4343-old');
    writeFileSync(fresh, '');
    writeFileSync(old, '');
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(old, minuteAgo, minuteAgo);
    const kv = openKv(`file:${store}`);
    opened.push(kv);
    const slot = await acquireSlot(kv, {
      prefix: PREFIX,
      max: 1,
      lease: await kv.grantLease(10_000),
      holder: 'a',
    });
    // checking (and so locking) the fresh one could have made its contender fail to lock its own file
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(old)).toBe(false);
    await slot.release();
  });

  describe('security', () => {
    const acquire = async (store: string) => {
      const kv = openKv(`file:${store}`);
      opened.push(kv);
      const lease = await kv.grantLease(10_000);
      return acquireSlot(kv, { prefix: PREFIX, max: 1, lease, holder: 'x' });
    };

    it("a store whose folder does not exist: refused, nothing created (tend makes no operator's folders)", async () => {
      const { dir } = project();
      await expect(acquire(join(dir, 'nope', 'kv'))).rejects.toThrow(
        /the folder .*nope of the store does not exist/,
      );
      expect(existsSync(join(dir, 'nope'))).toBe(false);
    });

    it('a planted symlink in place of the semaphore folder is refused, and its target left untouched', async () => {
      const { dir, store } = project();
      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere, { mode: 0o700 });
      symlinkSync(elsewhere, join(dir, '.kv.tend-semaphores'));
      await expect(acquire(store)).rejects.toThrow(
        /rollout semaphore's folder .*\.tend-semaphores is a symlink; .*remove it/,
      );
      await expect(acquire(store)).rejects.toBeInstanceOf(SemaphoreError);
      expect(readdirSync(elsewhere)).toEqual([]);
    });

    it('a planted symlink one level down (the prefix folder) is refused too', async () => {
      const { dir, store } = project();
      const elsewhere = join(dir, 'elsewhere');
      mkdirSync(elsewhere, { mode: 0o700 });
      mkdirSync(join(dir, '.kv.tend-semaphores'), { mode: 0o700 });
      symlinkSync(elsewhere, join(dir, '.kv.tend-semaphores', 'rollout'));
      await expect(acquire(store)).rejects.toThrow(/rollout is a symlink/);
      expect(readdirSync(elsewhere)).toEqual([]);
    });

    it('a queue file name planted as a symlink is never followed, opened or counted', async () => {
      const { dir, store } = project();
      const victim = join(dir, 'victim');
      writeFileSync(victim, 'precious\n');
      const queue = join(dir, '.kv.tend-semaphores', 'rollout', 'shop', 'web');
      mkdirSync(queue, { recursive: true, mode: 0o700 });
      symlinkSync(victim, join(queue, 'q-000000000001'));
      const slot = await acquire(store);
      // it took the next ticket and holds (the symlink is no contender), the victim is as it was
      expect(slot.revision).toBe(2);
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
      expect(lstatSync(join(queue, 'q-000000000001')).isSymbolicLink()).toBe(true);
      await slot.release();
      expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    });

    it('a semaphore folder other users can write is refused (and says what to do)', async () => {
      const { dir, store } = project();
      mkdirSync(join(dir, '.kv.tend-semaphores'), { mode: 0o700 });
      chmodSync(join(dir, '.kv.tend-semaphores'), 0o777);
      await expect(acquire(store)).rejects.toThrow(/is writable by every user \(mode 0777\); .*remove it/);
      chmodSync(join(dir, '.kv.tend-semaphores'), 0o770);
      await expect(acquire(store)).rejects.toThrow(/is writable by its group/);
    });

    it("the store's folder, if others can write it without the sticky bit, is refused", async () => {
      const { dir, store } = project();
      chmodSync(dir, 0o777);
      await expect(acquire(store)).rejects.toThrow(
        /the folder .* which holds the store and its rollout semaphore, is writable by other users without the sticky bit/,
      );
      chmodSync(dir, 0o1777);
      const slot = await acquire(store);
      expect(lstatSync(join(dir, '.kv.tend-semaphores')).mode & 0o777).toBe(0o700);
      await slot.release();
    });
  });
});
