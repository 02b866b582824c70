/**
 * The catalog functions over tend's own registries: etcd (a real etcd) and the file registry. `nodes` are the
 * hosts that registered instances, `node` a host with its instances as services (this host without a name),
 * `datacenters` none; what needs Consul fails naming the registry.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCatalogReader, type Registration } from '../../src/discovery/index.js';
import { kvRegistry } from '../../src/discovery/kv-registry.js';
import { type KvBackend, openKv } from '../../src/kv/index.js';
import { renderTemplateFile } from '../../src/render/once.js';
import { type EtcdHarness, startEtcd } from '../helpers/etcd.js';

let etcd: EtcdHarness;
let dir: string;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'tend-catalog-reg-'));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});
afterAll(async () => {
  await etcd?.close();
  rmSync(dir, { recursive: true, force: true });
});

const reg = (o: Partial<Registration>): Registration => ({
  id: 'x',
  name: 'x',
  address: '10.0.0.1',
  port: 80,
  tags: [],
  meta: {},
  ttlMs: 30_000,
  node: 'host',
  status: 'passing',
  ...o,
});

const TEMPLATE = [
  '{{ range nodes }}{{ .Node }}={{ .Address }} {{ end }}',
  '{{ with node "db-host" }}{{ .Node.Node }}:{{ range .Services }} {{ .Service }}/{{ .ID }}:{{ .Port }}{{ .Tags }}{{ end }}{{ end }}',
  '{{ with node }}{{ .Node.Node }}{{ range .Services }} {{ .Service }}{{ end }}{{ end }}',
  '{{ datacenters }}|{{ len (nodes "@dc9") }}',
].join('\n');

async function renderWith(kvUrl: string, kv: KvBackend, text: string, localNode: string) {
  const catalog = openCatalogReader({ kvUrl, kv, baseDir: dir, env: {}, localNode });
  closers.push(() => catalog.close());
  const file = join(dir, `t${closers.length}.tmpl`);
  writeFileSync(file, text);
  return renderTemplateFile({ file, kv, env: {}, baseDir: dir, catalog, timeoutMs: 10_000 });
}

describe('over etcd', () => {
  it('nodes and node from the instances tend registered', async () => {
    const url = `${etcd.url}/catalog1/`;
    const kv = openKv(url, { env: {} });
    closers.push(() => kv.close());
    const registry = kvRegistry(kv);
    closers.push(() => registry.close());
    await registry.publish(reg({ id: 'web-app1-80', name: 'web', node: 'app1', address: '10.0.0.11' }));
    await registry.publish(reg({ id: 'web-app2-80', name: 'web', node: 'app2', address: '10.0.0.12' }));
    await registry.publish(
      reg({
        id: 'pg-db-host-5432',
        name: 'pg',
        node: 'db-host',
        address: '10.0.0.20',
        port: 5432,
        tags: ['primary', 'a'],
      }),
    );
    await registry.publish(
      reg({
        id: 'exporter-db-host-9100',
        name: 'exporter',
        node: 'db-host',
        address: '10.0.0.20',
        port: 9100,
      }),
    );
    const r = await renderWith(url, kv, TEMPLATE, 'app2');
    expect(r).toEqual({
      ok: true,
      output: [
        'app1=10.0.0.11 app2=10.0.0.12 db-host=10.0.0.20 ',
        'db-host: exporter/exporter-db-host-9100:9100[] pg/pg-db-host-5432:5432[a primary]',
        'app2 web',
        '[]|0',
      ].join('\n'),
    });
  });

  it('Connect and partitions fail naming the etcd registry', async () => {
    const url = `${etcd.url}/catalog2/`;
    const kv = openKv(url, { env: {} });
    closers.push(() => kv.close());
    for (const [call, needs] of [
      ['caRoots', 'needs Consul Connect'],
      ['peerings', 'needs Consul cluster peering'],
      ['exportedServices', 'needs Consul Enterprise admin partitions'],
    ]) {
      const r = await renderWith(url, kv, `{{ ${call} }}`, 'h');
      expect(r.ok).toBe(false);
      expect(!r.ok && r.message).toContain(`${call}: ${needs}`);
      expect(!r.ok && r.message).toContain('which the etcd registry');
    }
  });
});

describe('over the file registry', () => {
  it('nodes and node from <kv>/.services', async () => {
    const kvDir = mkdtempSync(join(dir, 'kv-'));
    const doc = (o: Record<string, unknown>) =>
      JSON.stringify({ Tags: [], Meta: {}, Status: 'passing', TTL: '1h', Port: 80, ...o });
    const put = (rel: string, text: string) => {
      const p = join(kvDir, '.services', rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
    };
    put(
      'pg/pg-db-host-5432.json',
      doc({
        ID: 'pg-db-host-5432',
        Name: 'pg',
        Node: 'db-host',
        Address: '10.0.0.20',
        Port: 5432,
        Tags: ['primary', 'a'],
      }),
    );
    put(
      'exporter/exporter-db-host-9100.json',
      doc({
        ID: 'exporter-db-host-9100',
        Name: 'exporter',
        Node: 'db-host',
        Address: '10.0.0.20',
        Port: 9100,
      }),
    );
    put('web/web-app2-80.json', doc({ ID: 'web-app2-80', Name: 'web', Node: 'app2', Address: '10.0.0.12' }));
    put('web/web-app1-80.json', doc({ ID: 'web-app1-80', Name: 'web', Node: 'app1', Address: '10.0.0.11' }));
    const url = `file:${kvDir}`;
    const kv = openKv(url, { env: {}, baseDir: dir });
    closers.push(() => kv.close());
    const r = await renderWith(url, kv, TEMPLATE, 'app2');
    expect(r).toEqual({
      ok: true,
      output: [
        'app1=10.0.0.11 app2=10.0.0.12 db-host=10.0.0.20 ',
        'db-host: exporter/exporter-db-host-9100:9100[] pg/pg-db-host-5432:5432[a primary]',
        'app2 web',
        '[]|0',
      ].join('\n'),
    });
  });
});
