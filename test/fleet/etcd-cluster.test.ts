/**
 * The store as a cluster: `tend up` (the built CLI) on `etcd://A,B,C/ns/` against a real three-member etcd
 * cluster on loopback. Each member in turn is stopped while a watched key changes: the change still renders
 * (watches resume on the other members, nothing missed), the restarted service is the one whose file changed,
 * and the service that reads nothing is never touched.
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { type EtcdCluster, startEtcdCluster } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';

let cluster: EtcdCluster;
const dirs: string[] = [];

beforeAll(async () => {
  cluster = await startEtcdCluster({ size: 3 });
}, 60_000);
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(async () => {
  await cluster?.close();
});

/** A client on one member only, so a write never depends on the member being stopped. */
async function putVia(endpoint: string, key: string, value: string) {
  const c = new Etcd3({ hosts: `http://${endpoint}` });
  try {
    await c.put(key).value(value);
  } finally {
    c.close();
  }
}

/**
 * The client ports a process has established TCP connections to (from /proc: its socket inodes matched against
 * /proc/net/tcp), so the test can stop the very member tend talks to.
 */
function connectedPorts(pid: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // f[2] rem_address, f[3] state (01 established), f[9] inode
    if (f[3] === '01' && f[9] && inodes.has(f[9]) && f[2])
      ports.add(Number.parseInt(f[2].split(':')[1] ?? '0', 16));
  }
  return ports;
}

const read = (dir: string, rel: string) => {
  try {
    return readFileSync(join(dir, rel), 'utf8');
  } catch {
    return '';
  }
};
const starts = (dir: string) => read(dir, 'starts.log').split('\n').filter(Boolean);

interface Svc {
  name: string;
  pid?: number;
  state: string;
  restarts: number;
}
function services(dir: string): Svc[] {
  const r = runTend(['status', '--json'], { cwd: dir });
  if (r.code !== 0) throw new Error(`tend status failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { services: Svc[] }).services;
}

describe('etcd as a three-member cluster', () => {
  it('stopping any one member (each in turn) changes nothing for the services; changes made meanwhile render', async () => {
    const ns = 'cluster1/';
    const [m0] = cluster.members;
    if (!m0) throw new Error('no member');
    await putVia(m0.endpoint, `${ns}app/msg`, 'v0');
    const dir = mkdtempSync(join(tmpdir(), 'tend-cluster-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'tend.yaml'),
      `kv: etcd://${cluster.endpoints}/${ns}
services:
  web:
    command: sh -c 'echo "start $(cat etc/web.conf)" >> starts.log; exec sleep 3600'
    templates:
      - source: web.tmpl
        destination: etc/web.conf
        on_change: restart
  steady:
    command: exec sleep 3600
`,
    );
    writeFileSync(join(dir, 'web.tmpl'), 'msg={{ key "app/msg" }}\n');
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/app UP/, 30_000);
    await waitFor(() => starts(dir).length === 1, { what: 'web started', timeoutMs: 15_000 });
    expect(starts(dir)).toEqual(['start msg=v0']);
    const stopped: string[] = [];
    const steadyPid = services(dir).find((s) => s.name === 'steady')?.pid;
    expect(steadyPid).toBeGreaterThan(0);

    const pid = tend.proc.pid ?? 0;
    for (let i = 0; i < 3; i++) {
      // the member tend is connected to now (it may hold channels to several: stop the first found)
      const member = await waitFor(
        () => {
          const ports = connectedPorts(pid);
          return cluster.members.find((m) => m.running() && ports.has(Number(m.endpoint.split(':')[1])));
        },
        { what: 'a connection from tend to a member' },
      );
      stopped.push(member.name);
      await member.stop();
      const other = cluster.members.find((m) => m !== member);
      if (!other) throw new Error('no other member');
      const value = `v${i + 1}`;
      await putVia(other.endpoint, `${ns}app/msg`, value);
      await waitFor(() => read(dir, 'etc/web.conf') === `msg=${value}\n`, {
        what: `msg=${value} rendered with ${member.name} stopped`,
        timeoutMs: 30_000,
      });
      await waitFor(() => starts(dir).length === i + 2, { what: `web restarted on ${value}` });
      expect(starts(dir).at(-1)).toBe(`start msg=${value}`);
      const svcs = services(dir);
      expect(svcs.find((s) => s.name === 'steady')).toMatchObject({ pid: steadyPid, restarts: 0 });
      expect(svcs.find((s) => s.name === 'web')?.restarts).toBe(i + 1);
      await member.start();
    }
    // console.log for the report: which members were stopped (tend moved between them or stayed)
    console.log(`members stopped, in turn: ${stopped.join(', ')}`);
    // every change rendered once, in order: nothing missed, nothing replayed
    expect(starts(dir)).toEqual(['start msg=v0', 'start msg=v1', 'start msg=v2', 'start msg=v3']);
    expect(tend.proc.exitCode, tend.output().slice(-3000)).toBeNull();
  }, 180_000);
});
