/**
 * End to end: real `tend up` processes sharing a registry (a file KV folder, or a real etcd), real services.
 * The `api` service reports, from its own SIGTERM handler, how many `api` instances discovery still listed
 * when the signal reached it: 0 proves the deregistration came first.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fileRegistry } from '../../src/discovery/file-registry.js';
import { createDiscovery, type Discovery, fileRegistryDir } from '../../src/discovery/index.js';
import { kvRegistry } from '../../src/discovery/kv-registry.js';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { runTend, startTend, stopAllTends, type TendProcess } from '../helpers/cli.js';
import { type EtcdHarness, freePort, startEtcd } from '../helpers/etcd.js';
import { alive, waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const strays: number[] = [];
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await stopAllTends();
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const c of closers.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix = 'tend-disc-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/**
 * The api service: an HTTP server on PORT (/ready, /health) that, on SIGTERM, writes to TERM_REPORT the number
 * of api instances discovery lists (read from the file registry folder, or from etcd's JSON gateway).
 */
const API_JS = `
const fs = require('fs');
const http = require('http');
const path = require('path');
async function listed() {
  if (process.env.REGISTRY_DIR) {
    const dir = path.join(process.env.REGISTRY_DIR, 'api');
    return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).length : 0;
  }
  const b64 = (s) => Buffer.from(s).toString('base64');
  const prefix = process.env.ETCD_PREFIX;
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const res = await fetch('http://' + process.env.ETCD_ENDPOINT + '/v3/kv/range', {
    method: 'POST',
    body: JSON.stringify({ key: b64(prefix), range_end: b64(end), count_only: true }),
  });
  return Number((await res.json()).count ?? 0);
}
process.on('SIGTERM', async () => {
  fs.writeFileSync(process.env.TERM_REPORT, String(await listed()));
  process.exit(0);
});
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('api listening'));
`;

function apiProject(kv: string, port: number, env: Record<string, string>) {
  const dir = tmp('tend-disc-a-');
  writeFileSync(join(dir, 'api.js'), API_JS);
  const report = join(dir, 'term-report');
  const envLines = Object.entries({ ...env, PORT: String(port), TERM_REPORT: report })
    .map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: a
kv: ${kv}
services:
  api:
    command: [${JSON.stringify(process.execPath)}, api.js]
    env:
${envLines}
    ready: { http: "http://127.0.0.1:${port}/ready", interval: 100ms, timeout: 20s }
    health: { http: "http://127.0.0.1:${port}/health", interval: 300ms, timeout: 2s, failures: 3 }
    register: { port: ${port}, address: 127.0.0.1, tags: [http], ttl: 2s }
    stop: { timeout: 5s }
`,
  );
  return { dir, report };
}

/** B: `web` requires api and renders its upstream list from discovery into upstream.conf. */
function consumerProject(kv: string) {
  const dir = tmp('tend-disc-b-');
  writeFileSync(join(dir, 'upstream.tmpl'), '{{ range service "api" }}{{ .Address }}:{{ .Port }}\n{{ end }}');
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: b
kv: ${kv}
services:
  web:
    command: exec sleep 60
    requires: [api]
    templates:
      - { source: upstream.tmpl, destination: upstream.conf, on_change: none }
`,
  );
  return dir;
}

function upstream(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'upstream.conf'), 'utf8');
  } catch {
    return undefined;
  }
}

async function apiPid(t: TendProcess) {
  const pid = Number((await t.waitForOutput(/api running \(pid (\d+)\)/))[1]);
  strays.push(pid);
  return pid;
}

describe('two tends on one machine, file registry', () => {
  it('B waits for A to publish api; maintenance and stop withdraw it, stop before the signal', async () => {
    const shared = tmp('tend-disc-kv-');
    const kvUrl = `file:${shared}`;
    const registryDir = fileRegistryDir(kvUrl, '/');
    const port = await freePort();
    const a = apiProject(kvUrl, port, { REGISTRY_DIR: registryDir });
    const bDir = consumerProject(kvUrl);

    const b = startTend(['up'], { cwd: bDir });
    await b.waitForOutput(/web waiting: .*waiting for api in discovery/);
    const ta = startTend(['up'], { cwd: a.dir });
    const pid = await apiPid(ta);
    await ta.waitForOutput(/registered api as api-/, 20_000);
    await b.waitForOutput(/web running/, 20_000);
    // B's service started only once A's api was ready and registered
    expect(ta.output().indexOf('api ready')).toBeGreaterThan(-1);

    await waitFor(() => upstream(bDir) === `127.0.0.1:${port}\n`, { what: "A's address in B's file" });
    const reader = createDiscovery(fileRegistry(registryDir));
    closers.push(() => reader.close());
    const [inst] = await reader.instances('api', { passingOnly: true });
    expect(inst).toMatchObject({
      Name: 'api',
      Address: '127.0.0.1',
      Port: port,
      Tags: ['http'],
      Status: 'passing',
    });

    // status carries the health result (events → control plane)
    await waitFor(() => {
      const s = JSON.parse(runTend(['status', '--json'], { cwd: a.dir }).stdout);
      return s.services[0].health?.ok === true;
    });

    // maintenance: deregistered, still running; then back
    expect(runTend(['maintenance', 'on'], { cwd: a.dir }).code).toBe(0);
    await waitFor(async () => (await reader.instances('api')).length === 0, { what: 'deregistered' });
    expect(alive(pid)).toBe(true);
    expect(runTend(['maintenance', 'off'], { cwd: a.dir }).code).toBe(0);
    await waitFor(async () => (await reader.instances('api')).length === 1, { what: 'registered again' });

    ta.kill('SIGTERM');
    expect(await ta.exit()).toBe(0);
    expect(readFileSync(a.report, 'utf8')).toBe('0');
    expect(await reader.instances('api')).toEqual([]);
    expect(ta.output()).toMatch(/deregistered api-/);
    await waitFor(() => upstream(bDir) === '', { what: "B's file re-rendered without A" });
  });
});

describe('two tends sharing one etcd', () => {
  let etcd: EtcdHarness;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.close();
  });

  it('stop removes the instance before the signal; SIGKILL leaves it to the lease TTL', async () => {
    const ns = `e2e${Date.now()}/`;
    const kvUrl = `${etcd.url}/${ns}`;
    const port = await freePort();
    const a = apiProject(kvUrl, port, { ETCD_ENDPOINT: etcd.endpoint, ETCD_PREFIX: `${ns}services/api/` });
    const bDir = consumerProject(kvUrl);
    const kv: KvBackend = openKv(kvUrl, { env: {} });
    const reader: Discovery = createDiscovery(kvRegistry(kv));
    closers.push(async () => {
      await reader.close();
      await kv.close();
    });

    const b = startTend(['up'], { cwd: bDir });
    await b.waitForOutput(/web waiting: .*waiting for api in discovery/);
    // nothing registered yet: the list renders empty, and web keeps waiting for api
    await waitFor(() => upstream(bDir) === '', { what: 'an empty upstream list' });
    expect(b.output()).not.toMatch(/web running/);
    let ta = startTend(['up'], { cwd: a.dir });
    await apiPid(ta);
    await b.waitForOutput(/web running/, 20_000);
    expect(ta.output()).toMatch(/api ready/);
    expect((await reader.instances('api'))[0]).toMatchObject({ Address: '127.0.0.1', Port: port });
    await waitFor(() => upstream(bDir) === `127.0.0.1:${port}\n`, { what: "A's address in B's file" });

    ta.kill('SIGTERM');
    expect(await ta.exit()).toBe(0);
    expect(readFileSync(a.report, 'utf8')).toBe('0');
    expect(await reader.instances('api')).toEqual([]);
    await waitFor(() => upstream(bDir) === '', { what: "B's file re-rendered without A" });

    // again, and this time tend dies without a word: its api process lives on, its lease runs out
    ta = startTend(['up'], { cwd: a.dir });
    const pid = await apiPid(ta);
    await waitFor(async () => (await reader.instances('api')).length === 1, {
      what: 'registered',
      timeoutMs: 20_000,
    });
    ta.kill('SIGKILL');
    await ta.exit();
    const killedAt = Date.now();
    expect(await reader.instances('api')).toHaveLength(1);
    await waitFor(() => upstream(bDir) === `127.0.0.1:${port}\n`, { what: 'listed again' });
    await waitFor(async () => (await reader.instances('api')).length === 0, {
      what: 'lease expiry',
      timeoutMs: 15_000,
    });
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(500);
    expect(alive(pid)).toBe(true);
    await waitFor(() => upstream(bDir) === '', { what: "B's file without the dead instance" });
  });
});

describe('/readyz', () => {
  it('says ready only once the app is UP and every service passed its readiness probe', async () => {
    const dir = tmp();
    const port = await freePort();
    writeFileSync(
      join(dir, 'tend.yaml'),
      `http: 127.0.0.1:${port}
services:
  quick:
    command: exec sleep 60
  slow:
    command: exec sleep 60
    ready: { exec: "test -f ready-flag", interval: 100ms, timeout: 60s }
`,
    );
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/slow running/);
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    // the lifecycle holds WARMUP until the services are ready, so the app is not UP either
    await waitFor(async () => (await readyz()).status === 503, { what: '/readyz answering 503' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await readyz()).toEqual({ status: 503, body: 'not ready: app is WARMUP\n' });
    writeFileSync(join(dir, 'ready-flag'), '');
    await waitFor(async () => (await readyz()).status === 200, { what: '/readyz 200' });
    expect(t.output()).toMatch(/slow ready/);
    // UP, and one service restarted and not ready yet: not ready, naming it
    rmSync(join(dir, 'ready-flag'));
    expect(runTend(['restart', 'slow'], { cwd: dir }).code).toBe(0);
    await waitFor(async () => (await readyz()).status === 503, { what: '503 again' });
    expect((await readyz()).body).toMatch(/^not ready: slow running/);
    writeFileSync(join(dir, 'ready-flag'), '');
    await waitFor(async () => (await readyz()).status === 200, { what: '/readyz 200 again' });
  });
});
