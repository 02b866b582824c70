/**
 * The render loop against a real etcd (Debian's etcd on free loopback ports): changes, missing keys, a 10 s
 * outage with services running, and a compaction past tend's last revision while it was cut off.
 */
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { type EtcdHarness, startEtcd, startTcpProxy, type TcpProxy } from '../helpers/etcd.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { cleanup, lines, project, read, upIn } from './harness.js';

let etcd: EtcdHarness;
let direct: Etcd3;
let proxy: TcpProxy | undefined;
let n = 0;
const timing = { backoffInitialMs: 100, backoffMaxMs: 1000, requestTimeoutMs: 3000 };

/** A store in a namespace of its own, so tests cannot see each other's keys. */
function store(endpoint = etcd.endpoint): { kv: KvBackend; ns: string } {
  const ns = `render${++n}/`;
  return { kv: openKv(`etcd://${endpoint}/${ns}`, { env: {}, timing }), ns };
}

beforeAll(async () => {
  etcd = await startEtcd();
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});

afterEach(async () => {
  await cleanup();
  await proxy?.close();
  proxy = undefined;
  if (!etcd.running()) await etcd.start();
});

afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

const REC = {
  'rec.sh': `trap 'echo "$$ hup" >> "$2"' HUP
echo "$$ $(cat "$1")" >> "$2"
while :; do sleep 0.05; done
`,
  'level.tmpl': 'level={{ key "cfg/level" }}',
};

const service = (name: string, onChange: string) => `
  ${name}:
    command: exec sh rec.sh etc/${name}.conf ${name}.log
    templates:
      - { source: level.tmpl, destination: etc/${name}.conf, on_change: ${onChange} }`;

describe('render loop on etcd', () => {
  it('a key change re-renders; restart restarts, reload signals, none only rewrites', async () => {
    const { kv, ns } = store();
    await direct.put(`${ns}cfg/level`).value('info');
    const dir = project({
      ...REC,
      'tend.yaml': `services:${service('web', 'restart')}${service('api', 'reload')}${service('batch', 'none')}\n`,
    });
    const t = await upIn(dir, { kv });
    await waitFor(() => ['web', 'api', 'batch'].every((s) => lines(dir, `${s}.log`).length === 1), {
      what: 'three starts',
    });
    const apiPid = t.service('api').pid;

    await direct.put(`${ns}cfg/level`).value('debug');
    await waitFor(() => lines(dir, 'web.log').length === 2, { what: 'web restarted' });
    await waitFor(() => lines(dir, 'api.log').some((l) => l.endsWith(' hup')), { what: 'api HUP' });
    await waitFor(() => read(dir, 'etc/batch.conf') === 'level=debug', { what: 'batch rewritten' });
    expect(lines(dir, 'web.log')[1]).toMatch(/ level=debug$/);
    expect(read(dir, 'etc/api.conf')).toBe('level=debug');
    // each on_change is taken right after its render: once all three went live, nothing more is coming
    const rendered = (s: string) =>
      t.config().filter((e) => e.action === 'rendered' && e.service === s).length === 2;
    await waitFor(() => ['web', 'api', 'batch'].every(rendered), { what: 'three rendered events' });
    expect(t.service('web').restarts).toBe(1);
    expect(t.service('api').restarts).toBe(0);
    expect(t.service('api').pid).toBe(apiPid);
    expect(t.service('batch').restarts).toBe(0);
    expect(lines(dir, 'batch.log')).toHaveLength(1);
  });

  it('a missing key holds the service in waiting, naming it; putting the key starts it', async () => {
    const { kv, ns } = store();
    const dir = project({ ...REC, 'tend.yaml': `services:${service('web', 'restart')}\n` });
    const t = await upIn(dir, { kv });
    await waitFor(
      () => t.service('web').state === 'waiting' && /cfg\/level/.test(t.service('web').reason ?? ''),
    );
    expect(t.service('web').reason).toBe('waiting for config: etc/web.conf needs key:cfg/level');
    await direct.put(`${ns}cfg/level`).value('warn');
    await waitFor(() => lines(dir, 'web.log').length === 1, { what: 'start' });
    expect(lines(dir, 'web.log')[0]).toMatch(/ level=warn$/);
  });

  it('an outage of 10 s restarts nothing; a change made just after etcd returns is applied once', async () => {
    const { kv, ns } = store();
    await direct.put(`${ns}cfg/level`).value('info');
    const dir = project({
      ...REC,
      'tend.yaml': `services:${service('web', 'restart')}${service('api', 'reload')}\n`,
    });
    const t = await upIn(dir, { kv });
    await waitFor(() => lines(dir, 'web.log').length === 1 && lines(dir, 'api.log').length === 1);
    const pids = { web: t.service('web').pid, api: t.service('api').pid };

    await etcd.stop();
    await waitFor(() => /KV store etcd:\/\/.* unreachable/.test(t.output()), { what: 'outage reported' });
    expect(t.rt.renderStatus()?.kv.connected).toBe(false);
    expect(t.output()).toMatch(/services keep running on their last good files; reconnecting/);
    await sleep(10_000);
    expect(t.service('web')).toMatchObject({ state: 'running', restarts: 0, pid: pids.web });
    expect(t.service('api')).toMatchObject({ state: 'running', restarts: 0, pid: pids.api });
    expect(lines(dir, 'api.log')).toHaveLength(1);

    await etcd.start();
    await direct.put(`${ns}cfg/level`).value('debug');
    await waitFor(() => lines(dir, 'web.log').length === 2, {
      timeoutMs: 20_000,
      what: 'restart after return',
    });
    await waitFor(() => lines(dir, 'api.log').length === 2, { what: 'HUP after return' });
    await waitFor(() => t.rt.renderStatus()?.kv.connected === true, { what: 'connected again' });
    await sleep(1500);
    expect(lines(dir, 'web.log')).toHaveLength(2);
    expect(lines(dir, 'web.log')[1]).toMatch(/ level=debug$/);
    expect(lines(dir, 'api.log')).toEqual([
      expect.stringMatching(/ level=info$/),
      expect.stringMatching(/ hup$/),
    ]);
    expect(t.service('web').restarts).toBe(1);
    expect(t.output()).toMatch(/KV store etcd:\/\/.* reachable again after/);
  }, 60_000);

  it('started while etcd is down, services wait saying so, and start once it is back', async () => {
    const { kv, ns } = store();
    await direct.put(`${ns}cfg/level`).value('info');
    await etcd.stop();
    const dir = project({ ...REC, 'tend.yaml': `services:${service('web', 'restart')}\n` });
    const t = await upIn(dir, { kv });
    await waitFor(() => /waits for the KV store/.test(t.service('web').reason ?? ''), {
      what: 'waiting reason',
    });
    expect(t.service('web').state).toBe('waiting');
    await etcd.start();
    await waitFor(() => lines(dir, 'web.log').length === 1, { timeoutMs: 20_000, what: 'start' });
    expect(lines(dir, 'web.log')[0]).toMatch(/ level=info$/);
  }, 40_000);

  it('after a compaction past its last revision, tend re-lists and still applies the change once', async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: etcd.clientPort });
    const { kv, ns } = store(proxy.endpoint);
    await direct.put(`${ns}cfg/level`).value('info');
    const dir = project({ ...REC, 'tend.yaml': `services:${service('web', 'restart')}\n` });
    const t = await upIn(dir, { kv });
    await waitFor(() => lines(dir, 'web.log').length === 1);

    proxy.cut();
    await waitFor(() => t.rt.renderStatus()?.kv.connected === false, { what: 'cut off' });
    await direct.put(`${ns}cfg/level`).value('warn');
    for (let i = 0; i < 20; i++) await direct.put(`${ns}noise`).value(String(i));
    await direct.put(`${ns}cfg/level`).value('error');
    const last = await direct.put(`${ns}noise`).value('end');
    await direct.kv.compact({ revision: last.header.revision, physical: true });
    await sleep(500);
    expect(t.service('web').restarts).toBe(0);

    proxy.restore();
    await waitFor(() => lines(dir, 'web.log').length === 2, {
      timeoutMs: 20_000,
      what: 'restart after re-list',
    });
    expect(lines(dir, 'web.log')[1]).toMatch(/ level=error$/);
    await sleep(1000);
    expect(lines(dir, 'web.log')).toHaveLength(2);
    expect(t.service('web').restarts).toBe(1);
  }, 60_000);
});
