/**
 * A rollout on a `file:` store: three `tend up` on this machine sharing one folder store (each its own project,
 * state folder and TEND_FLEET_NAME), one service with `rollout: { max_parallel: 1 }` rendering a key. The slots
 * are lock files beside the store (src/fleet/semaphore-file.ts); the failed mark is a file in the store, which
 * every tend must see, not only the one that wrote it.
 *
 * - a change written into the store reaches all three, never more than one service restarting or not ready;
 * - a bad value is applied on one tend only, reverted there; the two others never restart;
 * - a newer good value then rolls out to all three, and no lock file is left.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTend, stopAllTends } from '../helpers/cli.js';
import {
  conf,
  isDone,
  mostOutAtOnce,
  rolloutOf,
  rolloutProject,
  sha,
  stamps,
  startFleet,
} from '../helpers/rollout.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterAll(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** every file under `dir`, relative, recursively (the semaphore's folder) */
function filesUnder(dir: string): string[] {
  let out: string[] = [];
  let entries: import('node:fs').Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    if (e.isDirectory()) out = out.concat(filesUnder(join(dir, e.name)).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out;
}

/**
 * The two shapes of a file store: a folder (one file a key), and one YAML document, where the failed mark is
 * written into the document beside the operator's keys.
 */
const SHAPES = [
  {
    shape: 'a folder',
    store: 'kv',
    /** the failed mark, as the operator finds it */
    mark: (store: string, hex: string) =>
      readFileSync(join(store, 'rollout', 'shop', 'web', 'failed', hex), 'utf8'),
    /** as an editor saves: a temp file (a dotfile: not a key) renamed into place */
    set(store: string, v: string) {
      mkdirSync(join(store, 'app'), { recursive: true });
      writeFileSync(join(store, 'app', '.msg.tmp'), v);
      renameSync(join(store, 'app', '.msg.tmp'), join(store, 'app', 'msg'));
    },
  },
];

/** the processes whose working folder is `dir` (a service left behind by a SIGKILLed tend) */
function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dir) out.push(Number(name));
    } catch {}
  }
  return out;
}

describe.each(SHAPES)('a rollout over three tends sharing one file store ($shape)', (S) => {
  it('rolls a change one tend at a time; a bad value halts on its canary; a newer good value rolls on', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tend-rollout-filekv-'));
    dirs.push(root);
    const store = join(root, S.store);
    const setMsg = (v: string) => S.set(store, v);
    setMsg('v1');
    const url = `file:${store}`;
    const names = ['f1', 'f2', 'f3'];
    const projects = names.map((n) => rolloutProject(url, n, dirs));
    const tends = await startFleet(projects, names, { TEND_FLEET: 'on' });
    const all = () => projects.map((d, i) => stamps(d, names[i] ?? ''));

    // 1. a good change reaches all three, one at a time
    const t1 = Date.now();
    setMsg('v2');
    const v2 = sha('msg=v2\n');
    await waitFor(() => projects.every((d) => isDone(rolloutOf(d), v2)), {
      what: 'v2 done on all three',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    for (const d of projects) expect(conf(d)).toBe('msg=v2\n');
    for (const list of all()) expect(list.filter((s) => s.at >= t1 && s.kind === 'start')).toHaveLength(1);
    expect(mostOutAtOnce(all(), t1)).toBe(1);
    for (const t of tends)
      await t.waitForOutput(/web: rollout applied: web\.conf \(content [0-9a-f]{12}\) applied/);

    // 2. a bad value: one canary applies it, is not ready within 3 s, goes back; the others skip it
    const t2 = Date.now();
    setMsg('bad');
    const bad = sha('msg=bad\n');
    await waitFor(
      () => {
        const phases = projects.map((d) => rolloutOf(d));
        return (
          phases.every((p) => p?.hash === bad) &&
          phases.filter((p) => p?.phase === 'failed').length === 1 &&
          phases.filter((p) => p?.phase === 'skipped').length === 2
        );
      },
      { what: 'one failed, two skipped', timeoutMs: 90_000, intervalMs: 250 },
    );
    const canary = projects.findIndex((d) => rolloutOf(d)?.phase === 'failed');
    for (const [i, d] of projects.entries()) {
      expect(conf(d)).toBe('msg=v2\n');
      if (i === canary) {
        await waitFor(
          () => {
            const since = stamps(d, '').filter((s) => s.at >= t2);
            return since.filter((s) => s.kind === 'start').length === 2 && since.at(-1)?.kind === 'ready';
          },
          { what: 'canary ready again on the previous file', timeoutMs: 30_000 },
        );
        await tends[i]?.waitForOutput(
          /web: rollout failed: web\.conf \(content [0-9a-f]{12}\): web not ready within 3s; the previous config is back/,
        );
      } else {
        expect(stamps(d, '').filter((s) => s.at >= t2)).toEqual([]);
        await tends[i]?.waitForOutput(
          new RegExp(
            `web: rollout skipped: web\\.conf \\(content [0-9a-f]{12}\\) failed on ${names[canary]}`,
          ),
        );
      }
    }
    // the mark is in the store: every tend (and the operator) sees it there
    const mark = S.mark(store, bad.slice('sha256:'.length));
    // written into a document, the mark keeps what the operator wrote there (comments included)
    expect(JSON.parse(mark)).toMatchObject({ hash: bad, host: names[canary] });

    // 3. a newer good value rolls out to all three
    const t3 = Date.now();
    setMsg('v3');
    const v3 = sha('msg=v3\n');
    await waitFor(() => projects.every((d) => isDone(rolloutOf(d), v3)), {
      what: 'v3 done on all three',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    for (const d of projects) expect(conf(d)).toBe('msg=v3\n');
    expect(mostOutAtOnce(all(), t3)).toBe(1);
    for (const list of all()) expect(list.filter((s) => s.at >= t3 && s.kind === 'start')).toHaveLength(1);
    // no queue file is left beside the store once the rollout is over
    expect(filesUnder(join(root, `.${S.store}.tend-semaphores`))).toEqual([]);
    expect(runTend(['status'], { cwd: projects[0] ?? '' }).code).toBe(0);
  }, 240_000);
});

describe('max_parallel: 2 on a file store', () => {
  it('a change reaches all three tends, never more than two out at once', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tend-rollout-filekv2-'));
    dirs.push(root);
    const S = SHAPES[0];
    if (!S) throw new Error('no shape');
    const store = join(root, S.store);
    S.set(store, 'v1');
    const names = ['p1', 'p2', 'p3'];
    const projects = names.map((n) => rolloutProject(`file:${store}`, n, dirs, { maxParallel: 2 }));
    await startFleet(projects, names);
    const t1 = Date.now();
    S.set(store, 'v2');
    const v2 = sha('msg=v2\n');
    await waitFor(() => projects.every((d) => isDone(rolloutOf(d), v2)), {
      what: 'v2 done on all three',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    const all = projects.map((d, i) => stamps(d, names[i] ?? ''));
    for (const list of all) expect(list.filter((s) => s.at >= t1 && s.kind === 'start')).toHaveLength(1);
    expect(mostOutAtOnce(all, t1)).toBeLessThanOrEqual(2);
    expect(filesUnder(join(root, '.kv.tend-semaphores'))).toEqual([]);
  }, 120_000);
});

describe('the canary SIGKILLed while it applies a bad value on a file store', () => {
  it('frees its slot at once: the next tend becomes the canary, the third skips the value', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tend-rollout-filekill-'));
    dirs.push(root);
    const S = SHAPES[0];
    if (!S) throw new Error('no shape');
    const store = join(root, S.store);
    S.set(store, 'v1');
    const names = ['k1', 'k2', 'k3'];
    // a long ready_timeout: the kill lands while the canary still waits for its service
    const projects = names.map((n) => rolloutProject(`file:${store}`, n, dirs, { readyTimeout: '10s' }));
    const tends = await startFleet(projects, names);
    const t2 = Date.now();
    S.set(store, 'bad');
    const bad = sha('msg=bad\n');
    // the first canary: the one whose service started again on the bad value
    let first = -1;
    await waitFor(
      () => {
        first = projects.findIndex((d) => stamps(d, '').some((s) => s.at >= t2 && s.kind === 'start'));
        return first >= 0;
      },
      { what: 'a canary applying the bad value', timeoutMs: 60_000, intervalMs: 50 },
    );
    tends[first]?.kill('SIGKILL');
    await tends[first]?.exited;
    // its service outlives it (its own process group): taken down here, as the host going away would
    for (const pid of processesIn(projects[first] ?? '')) process.kill(pid, 'SIGKILL');
    const others = projects.map((_, i) => i).filter((i) => i !== first);
    await waitFor(
      () => {
        const v = others.map((i) => rolloutOf(projects[i] ?? ''));
        return (
          v.every((p) => p?.hash === bad) &&
          v.filter((p) => p?.phase === 'failed').length === 1 &&
          v.filter((p) => p?.phase === 'skipped').length === 1
        );
      },
      { what: 'the next canary failed, the third skipped', timeoutMs: 90_000, intervalMs: 250 },
    );
    const second = others.find((i) => rolloutOf(projects[i] ?? '')?.phase === 'failed') ?? -1;
    const third = others.find((i) => i !== second) ?? -1;
    expect(JSON.parse(S.mark(store, bad.slice('sha256:'.length)))).toMatchObject({ host: names[second] });
    expect(stamps(projects[third] ?? '', '').filter((s) => s.at >= t2)).toEqual([]);
    expect(conf(projects[second] ?? '')).toBe('msg=v1\n');
    expect(conf(projects[third] ?? '')).toBe('msg=v1\n');
    // the killed tend's file was written: started again, its service would run on it (docs/fleet.md)
    expect(conf(projects[first] ?? '')).toBe('msg=bad\n');
    expect(filesUnder(join(root, '.kv.tend-semaphores'))).toEqual([]);
  }, 180_000);
});
