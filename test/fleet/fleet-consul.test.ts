/**
 * The fleet view on Consul, through the built CLI, against a stateful double of Consul's HTTP API
 * (test/helpers/consul-double.ts: Consul cannot be installed here). Two `tend up` publish their status documents as
 * keys acquired by their sessions; `tend fleet` lists both; at rest only the session renewals go out; a clean stop
 * destroys the session (the entry is gone at once), a SIGKILLed tend's session runs out after its TTL and Consul
 * deletes the entry then.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKv } from '../../src/kv/index.js';
import { CLI, startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { type ConsulDouble, startConsulDouble } from '../helpers/consul-double.js';
import { sleep, waitFor } from '../helpers/wait.js';

const TOKEN = 'fleet-acl-token';
let consul: ConsulDouble;
const dirs: string[] = [];
const pids: number[] = [];

beforeEach(async () => {
  consul = await startConsulDouble({ token: TOKEN });
});
afterEach(async () => {
  await stopAllTends();
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  await consul.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-fleet-consul-'));
  dirs.push(dir);
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
kv: consul://${consul.address}/app/?wait=2s
services:
  web:
    command: exec sleep 3600
    templates:
      - { source: web.tmpl, destination: etc/web.conf, on_change: restart }
`,
  );
  writeFileSync(join(dir, 'web.tmpl'), 'msg={{ key "app/msg" }}\n');
  return dir;
}

const env = { CONSUL_HTTP_TOKEN: TOKEN };

async function up(dir: string, name: string): Promise<TendProcess> {
  const t = startTend(['up'], {
    cwd: dir,
    env: { ...env, TEND_FLEET: 'on', TEND_FLEET_NAME: name, TEND_FLEET_TTL_MS: '10000' },
  });
  await t.waitForOutput(/app UP/, 30_000);
  return t;
}

/** `tend fleet --json`, run without blocking this process (the double answers from it) */
function fleet(
  dir: string,
): Promise<{ entries: Array<{ host: string; services: Array<{ pid?: number }> }> }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, 'fleet', '--json'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ...env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`tend fleet: ${code} ${err}`)),
    );
  });
}
const hosts = async (dir: string) =>
  (await fleet(dir)).entries
    .map((e) => e.host)
    .sort()
    .join(',');

describe('tend fleet on Consul (against a double of its API)', () => {
  it('lists both tends; the entries are keys of their sessions; clean stop: gone at once; SIGKILL: after the TTL', async () => {
    const kv = openKv(`consul://${consul.address}/app/`, { env });
    await kv.put('app/msg', 'v1');
    await kv.close();
    const a = project();
    const b = project();
    const ta = await up(a, 'host-a');
    const tb = await up(b, 'host-b');
    await waitFor(async () => (await hosts(a)) === 'host-a,host-b', {
      timeoutMs: 20_000,
      what: 'both listed',
    });
    const doc = JSON.parse(
      Buffer.from(consul.entry('app/fleet/shop/host-a')?.Value ?? '', 'base64').toString(),
    ) as { pid: number; templates: Array<{ hash?: string }> };
    expect(doc.pid).toBe(ta.proc.pid);
    expect(doc.templates[0]?.hash).toBe(
      `sha256:${createHash('sha256')
        .update(readFileSync(join(a, 'etc/web.conf')))
        .digest('hex')}`,
    );
    // each entry is held by its tend's session: TTL 10 s, and Behavior delete (Consul deletes it with the session)
    const sessionA = consul.entry('app/fleet/shop/host-a')?.Session;
    const sessionB = consul.entry('app/fleet/shop/host-b')?.Session;
    expect(sessionA).toBeDefined();
    expect(sessionB).toBeDefined();
    expect(sessionA).not.toBe(sessionB);
    const sa = consul.sessions().find((s) => s.ID === sessionA);
    expect([sa?.TTL, sa?.Behavior]).toEqual(['10s', 'delete']);
    expect(consul.requests.every((r) => r.token === TOKEN)).toBe(true);

    // at rest: past one renewal interval (half the TTL), renewals go out and the documents are not rewritten
    const writes = () =>
      consul.requests.filter((r) => r.method === 'PUT' && r.path.startsWith('/v1/kv/app/fleet/'));
    const renewals = () => consul.requests.filter((r) => r.path.startsWith('/v1/session/renew/'));
    const before = { writes: writes().length, renewals: renewals().length };
    await sleep(6000);
    expect(writes().length).toBe(before.writes);
    expect(renewals().length).toBeGreaterThan(before.renewals);

    // a clean stop destroys the session: the entry is gone at once
    tb.kill('SIGTERM');
    expect(await tb.exit()).toBe(0);
    expect(consul.entry('app/fleet/shop/host-b')).toBeUndefined();
    expect(await hosts(a)).toBe('host-a');

    // SIGKILL: nobody renews; when the TTL runs out Consul ends the session and deletes the entry
    const entry = (await fleet(a)).entries.find((e) => e.host === 'host-a');
    for (const s of entry?.services ?? []) if (s.pid) pids.push(s.pid);
    const killedAt = Date.now();
    ta.kill('SIGKILL');
    await ta.exited;
    await sleep(2000);
    expect(consul.entry('app/fleet/shop/host-a')).toBeDefined();
    await waitFor(() => consul.entry('app/fleet/shop/host-a') === undefined, {
      timeoutMs: 20_000,
      what: "host-a's entry gone after its session's TTL",
    });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(5000);
    expect(await hosts(a)).toBe('');
  }, 120_000);

  it('two tends under one name: the second says so once and keeps one session (none leaks per retry)', async () => {
    const a = project();
    const b = project();
    const kv = openKv(`consul://${consul.address}/app/`, { env });
    await kv.put('app/msg', 'v1');
    await kv.close();
    const ta = await up(a, 'same');
    await waitFor(() => consul.entry('app/fleet/shop/same') !== undefined, { what: 'the first entry' });
    const tb = await up(b, 'same');
    await tb.waitForOutput(/fleet: \S*fleet\/shop\/same is held by another tend's session/, 20_000);
    // the second keeps retrying with backoff: several rounds, and still one session each
    const puts = () =>
      consul.requests.filter((r) => r.method === 'PUT' && r.path === '/v1/kv/app/fleet/shop/same').length;
    const before = puts();
    await waitFor(() => puts() >= before + 3, { timeoutMs: 30_000, what: 'three more tries' });
    expect(consul.sessions()).toHaveLength(2);
    expect(tb.output().match(/is held by another tend's session/g)).toHaveLength(1);
    // the first one's entry stands; when it stops, the second's next try takes the name
    const first = consul.entry('app/fleet/shop/same')?.Session;
    ta.kill('SIGTERM');
    expect(await ta.exit()).toBe(0);
    await waitFor(
      () => {
        const s = consul.entry('app/fleet/shop/same')?.Session;
        return s !== undefined && s !== first;
      },
      { timeoutMs: 20_000, what: 'the second tend publishes' },
    );
    expect(consul.sessions()).toHaveLength(1);
  }, 90_000);
});
