/**
 * etcd faults that left the built `tend up` quietly wrong (issue 14), against a real etcd of this file's own:
 *
 * - etcd back on the same port with a fresh data folder (as after a snapshot restore or a rebuilt cluster): its
 *   revision restarts low, and the resumed watch waited for a revision the new history would reach much later;
 *   the rendered file stayed old, status said connected, later puts were ignored. Now: one `config resync` line
 *   and event, the new values render, later puts too.
 * - a 5 MiB value put under a watched key (etcd started with a raised --max-request-bytes; tend accepts 4 MiB in
 *   one response): the shared watch stream failed and replayed the event ~10 times a second, forever, with two
 *   stdout lines each time. Now: one `config error` line naming the key and the limit, the last good file kept,
 *   no reconnect storm, and replacing the value renders it (no compaction needed).
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTend } from '../helpers/cli.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupAll, onCleanup, project, sleep, startFaultProxy, status, tally } from './helpers.js';

const MiB = 1024 * 1024;
let etcd: EtcdHarness;
let direct: Etcd3;
let ns = 0;

beforeAll(async () => {
  etcd = await startEtcd({ args: [`--max-request-bytes=${8 * MiB}`] });
  direct = new Etcd3({ hosts: `http://${etcd.endpoint}` });
});
afterEach(async () => {
  await cleanupAll();
  if (!etcd.running()) await etcd.start();
});
afterAll(async () => {
  direct?.close();
  await etcd?.close();
});

const WEB_SH = `#!/bin/sh
echo "start $(cat etc/web.conf)" >> starts.log
exec sleep 3600
`;

function webProject(kvUrl: string) {
  return project(
    `kv: ${kvUrl}
notify:
  - { file: ./events.jsonl }
services:
  web:
    command: ./web.sh
    templates:
      - source: web.tmpl
        destination: etc/web.conf
        on_change: restart
`,
    {
      'web.sh': WEB_SH,
      'web.tmpl': 'msg={{ key "app/msg" }} blob={{ keyOrDefault "app/blob" "none" }}\n',
    },
  );
}

const conf = (dir: string) => {
  try {
    return readFileSync(join(dir, 'etc/web.conf'), 'utf8');
  } catch {
    return '';
  }
};
const configEvents = (dir: string, action: string) => {
  let text = '';
  try {
    text = readFileSync(join(dir, 'events.jsonl'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { kind: string; action?: string; reason?: string })
    .filter((e) => e.kind === 'config' && e.action === action);
};
const lines = (out: string, re: RegExp) => out.split('\n').filter((l) => re.test(l));

/** etcd's own count of watch streams opened since it started (each reconnect of a client opens one) */
async function watchStreamsOpened(): Promise<number> {
  const text = await (await fetch(`http://${etcd.endpoint}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('grpc_server_started_total{grpc_method="Watch"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('etcd back with another history', () => {
  it('etcd restarted on the same port with a fresh data folder: the new values render, said once', async () => {
    const t = tally('etcd back with a lower revision (fresh data folder, same port)');
    // the proxy only holds tend back until the new history is written, so that what it re-reads is known
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: etcd.clientPort });
    onCleanup(() => proxy.close());
    const prefix = `hist${++ns}/`;
    await direct.put(`${prefix}app/msg`).value('old');
    for (let i = 0; i < 50; i++) await direct.put(`${prefix}noise`).value(String(i));
    const dir = webProject(`etcd://${proxy.endpoint}/${prefix}`);
    // the fleet document's writes would move the head revision past the one tend's watches saw
    const tend = startTend(['up'], { cwd: dir, env: { RELTAG: dir, TEND_FLEET: 'off' } });
    const sock = join(dir, '.tend', 'tend.sock');
    await tend.waitForOutput(/app UP/, 20_000);
    expect(conf(dir)).toBe('msg=old blob=none\n');
    const revBefore = Number((await direct.get(`${prefix}noise`).exec()).header.revision);

    proxy.cut();
    await etcd.stop();
    await etcd.start({ wipe: true });
    await direct.put(`${prefix}app/msg`).value('restored');
    const revAfter = Number((await direct.get(`${prefix}app/msg`).exec()).header.revision);
    t.set('revision_before', revBefore);
    t.set('revision_after', revAfter);
    const cutAt = Date.now();
    proxy.restore();
    t.add('restores');

    await waitFor(() => conf(dir) === 'msg=restored blob=none\n', {
      timeoutMs: 30_000,
      what: `the restored value rendered\n${tend.output().slice(-3000)}`,
    });
    t.set('render_after_return_ms', Date.now() - cutAt);
    // later puts land as well
    await direct.put(`${prefix}app/msg`).value('later');
    await waitFor(() => conf(dir) === 'msg=later blob=none\n', { timeoutMs: 15_000, what: 'a later put' });
    t.add('later_puts');
    expect((await status(sock)).app.kv.connected).toBe(true);
    await sleep(500);
    expect(lines(tend.output(), /config resync/)).toHaveLength(1);
    expect(lines(tend.output(), /config resync/)[0]).toMatch(
      new RegExp(`revision ${revAfter}, below the ${revBefore} tend had seen`),
    );
    await waitFor(() => configEvents(dir, 'resync').length === 1, { what: 'the resync event in the sink' });
    tend.kill('SIGTERM');
    expect(await tend.exit()).toBe(0);
    expect(configEvents(dir, 'resync')).toHaveLength(1);
  });
});

describe('etcd value over the response limit', () => {
  it('a 5 MiB value under a watched key: named once with the limit, no storm, replacing it renders', async () => {
    const t = tally('etcd value over the 4 MiB response limit under a watched key');
    const prefix = `big${++ns}/`;
    await direct.put(`${prefix}app/msg`).value('m');
    await direct.put(`${prefix}app/blob`).value('b1');
    const dir = webProject(`${etcd.url}/${prefix}`);
    const tend = startTend(['up'], { cwd: dir, env: { RELTAG: dir } });
    const sock = join(dir, '.tend', 'tend.sock');
    await tend.waitForOutput(/app UP/, 20_000);
    expect(conf(dir)).toBe('msg=m blob=b1\n');
    const pid = (await status(sock)).services.find((s) => s.name === 'web')?.pid;

    await direct.put(`${prefix}app/blob`).value('x'.repeat(5 * MiB));
    t.add('big_puts');
    const named = await tend.waitForOutput(/config error: .*app\/blob.*4 MiB.*/, 15_000);
    const outAt = tend.output().length;
    const streams = await watchStreamsOpened();
    await sleep(5000);
    const streamsIn5s = (await watchStreamsOpened()) - streams;
    const linesIn5s = tend.output().slice(outAt).split('\n').filter(Boolean).length;
    t.set('watch_streams_in_5s', streamsIn5s);
    t.set('stdout_lines_in_5s', linesIn5s);
    t.set('error_line', named[0].slice(0, 120));
    expect(streamsIn5s).toBeLessThanOrEqual(3);
    expect(linesIn5s).toBeLessThanOrEqual(2);
    // the last good file stays, the service is untouched, the store is not "unreachable"
    expect(conf(dir)).toBe('msg=m blob=b1\n');
    const st = await status(sock);
    expect(st.services.find((s) => s.name === 'web')?.pid).toBe(pid);
    expect(st.app.kv.connected).toBe(true);
    expect(lines(tend.output(), /unreachable/)).toEqual([]);

    await direct.put(`${prefix}app/blob`).value('b2');
    t.add('replacements');
    await waitFor(() => conf(dir) === 'msg=m blob=b2\n', { timeoutMs: 15_000, what: 'the replaced value' });
    await direct.put(`${prefix}app/msg`).value('m2');
    await waitFor(() => conf(dir) === 'msg=m2 blob=b2\n', { timeoutMs: 15_000, what: 'a later put' });
    expect(lines(tend.output(), /config error/)).toHaveLength(1);
    tend.kill('SIGTERM');
    expect(await tend.exit()).toBe(0);
  });
});
