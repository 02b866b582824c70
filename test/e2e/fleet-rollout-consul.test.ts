/**
 * A rollout on Consul, through `tend up`, against the stateful double of Consul's HTTP API
 * (test/helpers/consul-double.ts: Consul cannot be installed here). Two tends, `max_parallel: 1`: the slots are
 * contender keys acquired by a session per change and a `.lock` key (src/fleet/semaphore-consul.ts), the failed
 * mark a plain key.
 *
 * - a good change reaches both, never both restarting or not ready at once;
 * - a bad value is applied on one tend only and reverted there; the other never restarts;
 * - no session and no slot key is left once a rollout is over.
 *
 * The test serves the double from its own process, so every CLI call here is asynchronous (a spawnSync would stop
 * the double from answering the tends meanwhile).
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAllTends } from '../helpers/cli.js';
import { type ConsulDouble, startConsulDouble } from '../helpers/consul-double.js';
import {
  conf,
  isDone,
  mostOutAtOnce,
  rolloutOfAsync,
  rolloutProject,
  sha,
  stamps,
  startFleet,
} from '../helpers/rollout.js';
import { waitFor } from '../helpers/wait.js';

let consul: ConsulDouble;
const dirs: string[] = [];
beforeAll(async () => {
  consul = await startConsulDouble();
});
afterAll(async () => {
  await stopAllTends();
  await consul?.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const NS = 'tendrollout/';
async function setMsg(v: string) {
  const res = await fetch(`http://${consul.address}/v1/kv/${NS}app/msg`, { method: 'PUT', body: v });
  expect(await res.text()).toBe('true');
}
const rolloutKeys = () => consul.keys(`${NS}rollout/shop/web/`);

describe('a rollout over two tends sharing one Consul', () => {
  it('rolls a good change to both one at a time; a bad value halts on its canary', async () => {
    await setMsg('v1');
    const url = `consul://${consul.address}/${NS}?wait=2s`;
    const names = ['c1', 'c2'];
    const projects = names.map((n) => rolloutProject(url, n, dirs));
    const tends = await startFleet(projects, names, { TEND_FLEET: 'on', TEND_FLEET_TTL_MS: '10000' });
    const all = () => projects.map((d, i) => stamps(d, names[i] ?? ''));
    const views = () => Promise.all(projects.map((d) => rolloutOfAsync(d)));

    // 1. a good change reaches both, one at a time
    const t1 = Date.now();
    await setMsg('v2');
    const v2 = sha('msg=v2\n');
    await waitFor(async () => (await views()).every((r) => isDone(r, v2)), {
      what: 'v2 done on both',
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    for (const d of projects) expect(conf(d)).toBe('msg=v2\n');
    for (const list of all()) expect(list.filter((s) => s.at >= t1 && s.kind === 'start')).toHaveLength(1);
    expect(mostOutAtOnce(all(), t1)).toBe(1);
    for (const t of tends)
      await t.waitForOutput(/web: rollout applied: web\.conf \(content [0-9a-f]{12}\) applied/);
    // the slots went through the semaphore: each tend acquired a contender key with a session of its own
    const acquired = consul.requests.filter(
      (r) => r.method === 'PUT' && r.path.includes('/rollout/shop/web/slots/') && r.query.has('acquire'),
    );
    expect(new Set(acquired.map((r) => r.query.get('acquire'))).size).toBeGreaterThanOrEqual(2);
    // each change's session is destroyed as it ends: its contender key goes with it
    await waitFor(() => rolloutKeys().filter((k) => !k.endsWith('/.lock')).length === 0, {
      what: 'no contender key left',
    });

    // 2. a bad value: one canary applies it, is not ready within 3 s, goes back; the other skips it
    const t2 = Date.now();
    await setMsg('bad');
    const bad = sha('msg=bad\n');
    await waitFor(
      async () => {
        const v = await views();
        return (
          v.every((p) => p?.hash === bad) &&
          v.filter((p) => p?.phase === 'failed').length === 1 &&
          v.filter((p) => p?.phase === 'skipped').length === 1
        );
      },
      { what: 'one failed, one skipped', timeoutMs: 90_000, intervalMs: 250 },
    );
    const phases = await views();
    const canary = phases.findIndex((p) => p?.phase === 'failed');
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
        await tends[i]?.waitForOutput(/web: rollout failed: web\.conf .*web not ready within 3s/);
      } else {
        expect(stamps(d, '').filter((s) => s.at >= t2)).toEqual([]);
        await tends[i]?.waitForOutput(
          new RegExp(
            `web: rollout skipped: web\\.conf \\(content [0-9a-f]{12}\\) failed on ${names[canary]}`,
          ),
        );
      }
    }
    const mark = consul.entry(`${NS}rollout/shop/web/failed/${bad.slice('sha256:'.length)}`);
    expect(mark?.Session).toBeUndefined();
    expect(JSON.parse(Buffer.from(mark?.Value ?? '', 'base64').toString('utf8'))).toMatchObject({
      hash: bad,
      host: names[canary],
    });
    await waitFor(
      () => rolloutKeys().filter((k) => k.includes('/slots/') && !k.endsWith('/.lock')).length === 0,
      { what: 'no contender key left after the halt' },
    );
    // only the two fleet documents' sessions are left: every change's session was destroyed as it ended
    await waitFor(() => consul.sessions().length === 2, { what: 'two sessions left' });
  }, 240_000);
});
