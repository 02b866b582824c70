/**
 * Faults during a rollout (issue 17): three `tend up` share one etcd, each through its own TCP proxy, with one
 * service under `rollout: { max_parallel: 1 }`. The service becomes ready on a new config only once its project
 * holds a file `go`, so the test holds the first tend to take the slot in "applying" and then:
 *
 * - SIGKILLs it: its slot stays until its lease expires, then the rollout goes on to the two others; started
 *   again, that tend runs on the change (it was written before the restart) and is ready;
 * - cuts it from etcd (proxy cut): etcd expires its lease, the rollout goes on to the two others; the cut tend
 *   finishes its own change on its own (its service ready on it), store or not;
 * - cuts a tend waiting in the queue for longer than the TTL: its key goes with its lease, the others go on, and
 *   once back it queues again and applies the change in its turn.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTendAsync, startTend, type TendProcess } from '../helpers/cli.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupAll, type FaultProxy, onCleanup, project, startFaultProxy, tally } from './helpers.js';

let etcd: EtcdHarness;
let direct: Etcd3;

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});
afterEach(async () => {
  await cleanupAll();
});
afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

const TTL_MS = 2000;

/** ready (prints READY, stamps it) once `go` exists next to it; stamps its starts */
const SERVICE = `#!/bin/sh
now() { date +%s%3N; }
trap 'exit 0' TERM
echo "start $(now)" >> stamps
until [ -f go ]; do sleep 0.1; done
echo "ready $(now)" >> stamps
echo READY
while :; do sleep 1; done
`;

const manifest = (url: string) => `name: shop
kv: ${url}
services:
  web:
    command: exec ./svc.sh
    ready: { log: "^READY$", interval: 100ms, timeout: 120s }
    stop: { timeout: 3s }
    rollout: { max_parallel: 1, ready_timeout: 60s }
    templates:
      - { source: web.tmpl, destination: web.conf, on_change: restart }
`;

interface Member {
  name: string;
  dir: string;
  proxy: FaultProxy;
  tend?: TendProcess;
}

async function fleetOf(ns: string, count: number): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 1; i <= count; i++) {
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: etcd.clientPort });
    onCleanup(() => proxy.close());
    const dir = project(manifest(`etcd://${proxy.endpoint}/${ns}`), {
      'svc.sh': SERVICE,
      'web.tmpl': 'msg={{ key "app/msg" }}\n',
      go: '',
    });
    members.push({ name: `r${i}`, dir, proxy });
  }
  for (const m of members) m.tend = up(m);
  for (const m of members) await m.tend?.waitForOutput(/app UP/, 60_000);
  return members;
}

function up(m: Member): TendProcess {
  return startTend(['up'], {
    cwd: m.dir,
    env: { TEND_FLEET_NAME: m.name, TEND_FLEET_TTL_MS: String(TTL_MS) },
  });
}

const conf = (m: Member) => readFileSync(join(m.dir, 'web.conf'), 'utf8');
const starts = (m: Member) =>
  existsSync(join(m.dir, 'stamps'))
    ? readFileSync(join(m.dir, 'stamps'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('start')).length
    : 0;
/** asynchronous: the proxies live in this process, and a spawnSync would starve the tends' keep-alives */
async function phase(m: Member): Promise<string | undefined> {
  const r = await runTendAsync(['status', '--json'], { cwd: m.dir });
  if (r.code !== 0) return undefined;
  const st = JSON.parse(r.stdout) as { rollouts?: Array<{ service: string; phase: string }> };
  return st.rollouts?.find((x) => x.service === 'web')?.phase;
}

/** the queue for the slot, first in line first: each holder names its key (`<holder>-<random>`) */
async function holders(ns: string): Promise<string[]> {
  const prefix = `${ns}rollout/shop/web/slots/`;
  const r = await direct.getAll().prefix(prefix).exec();
  return r.kvs
    .sort((a, b) => Number(a.create_revision) - Number(b.create_revision))
    .map((kv) =>
      kv.key
        .toString()
        .slice(prefix.length)
        .replace(/-[0-9a-f]{8}$/, ''),
    );
}

/** Starts a change with every `go` removed and resolves with the member that took the slot. */
async function holdFirst(ns: string, members: Member[]): Promise<Member> {
  for (const m of members) rmSync(join(m.dir, 'go'));
  await direct.put(`${ns}app/msg`).value('v2');
  let holder: Member | undefined;
  let seen = '';
  await waitFor(
    async () => {
      const phases = await Promise.all(members.map(phase));
      const slots = await holders(ns);
      seen = `phases ${phases.join(',')}, slots ${slots.join(',')}`;
      const applying = members.filter((_, i) => phases[i] === 'applying');
      holder = applying.length === 1 ? applying[0] : undefined;
      return holder !== undefined && slots[0] === holder.name && conf(holder) === 'msg=v2\n';
    },
    { what: 'one tend applying the change', timeoutMs: 30_000, intervalMs: 200 },
  ).catch(async (e: Error) => {
    const all = await direct.getAll().prefix(ns).exec();
    const dump = all.kvs
      .map((k) => `${k.key} c=${k.create_revision} m=${k.mod_revision} lease=${k.lease}`)
      .join('\n');
    throw new Error(
      `${e.message}: ${seen}\n${dump}\n${members.map((m) => m.tend?.output().slice(-1500)).join('\n----\n')}`,
    );
  });
  return holder as Member;
}

describe('a rollout when the slot holder fails', () => {
  it('SIGKILLed: the slot frees when its lease expires, the others go on, and it runs the change when started again', async () => {
    const t = tally('rollout: slot holder SIGKILLed');
    const ns = `rkill${Date.now()}/`;
    await direct.put(`${ns}app/msg`).value('v1');
    const members = await fleetOf(ns, 3);
    const h = await holdFirst(ns, members);
    const others = members.filter((m) => m !== h);
    // the others wait for the slot: nothing restarted there
    expect(others.map(starts)).toEqual([1, 1]);
    h.tend?.kill('SIGKILL');
    await h.tend?.exited;
    t.add('kills');
    for (const m of others) writeFileSync(join(m.dir, 'go'), '');
    await waitFor(async () => (await Promise.all(others.map(phase))).every((p) => p === 'done'), {
      what: 'the others done after the lease expired',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    for (const m of others) {
      expect(conf(m)).toBe('msg=v2\n');
      expect(starts(m)).toBe(2);
    }
    // back: the leftovers of the killed run are stopped, the service starts on the change and is ready
    writeFileSync(join(h.dir, 'go'), '');
    h.tend = up(h);
    await h.tend.waitForOutput(/app UP/, 60_000);
    expect(conf(h)).toBe('msg=v2\n');
    expect(await holders(ns)).toEqual([]);
  });

  it('cut from etcd: its lease expires and the others go on; it finishes its change alone, store or not', async () => {
    const t = tally('rollout: slot holder cut from etcd');
    const ns = `rcut${Date.now()}/`;
    await direct.put(`${ns}app/msg`).value('v1');
    const members = await fleetOf(ns, 3);
    const h = await holdFirst(ns, members);
    const others = members.filter((m) => m !== h);
    h.proxy.cut();
    t.add('cuts');
    for (const m of others) writeFileSync(join(m.dir, 'go'), '');
    // etcd expires the cut tend's lease: its slot goes, the two others apply the change one after the other
    await waitFor(async () => (await Promise.all(others.map(phase))).every((p) => p === 'done'), {
      what: 'the others done while the holder is cut off',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    for (const m of others) expect(conf(m)).toBe('msg=v2\n');
    // the cut tend's service becomes ready on the change; its rollout ends there, store or not
    writeFileSync(join(h.dir, 'go'), '');
    await waitFor(async () => (await phase(h)) === 'done', {
      what: 'the cut tend done',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    h.proxy.restore();
    expect(conf(h)).toBe('msg=v2\n');
    expect(starts(h)).toBe(2);
    await waitFor(async () => (await holders(ns)).length === 0, { what: 'no slot left', timeoutMs: 15_000 });
    expect(h.tend?.proc.exitCode).toBeNull();
  });

  it('a waiting tend cut from etcd: the others go on, and back, it queues again and applies the change', async () => {
    const t = tally('rollout: waiting tend cut from etcd');
    const ns = `rwait${Date.now()}/`;
    await direct.put(`${ns}app/msg`).value('v1');
    const members = await fleetOf(ns, 3);
    const h = await holdFirst(ns, members);
    const [w, last] = members.filter((m) => m !== h) as [Member, Member];
    await waitFor(async () => (await holders(ns)).includes(w.name), { what: 'the waiting tend queued' });
    w.proxy.cut();
    t.add('cuts');
    // its queue key goes with its lease
    await waitFor(async () => !(await holders(ns)).includes(w.name), {
      what: 'the cut tend out of the queue',
      timeoutMs: 30_000,
    });
    for (const m of [h, last]) writeFileSync(join(m.dir, 'go'), '');
    await waitFor(async () => (await Promise.all([h, last].map(phase))).every((p) => p === 'done'), {
      what: 'the two others done',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(starts(w)).toBe(1);
    writeFileSync(join(w.dir, 'go'), '');
    w.proxy.restore();
    await waitFor(async () => (await phase(w)) === 'done', {
      what: 'the cut tend done once back',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(conf(w)).toBe('msg=v2\n');
    expect(starts(w)).toBe(2);
    await waitFor(async () => (await holders(ns)).length === 0, { what: 'no slot left', timeoutMs: 15_000 });
  });
});
