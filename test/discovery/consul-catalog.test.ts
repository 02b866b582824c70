/**
 * consul-template's catalog functions over Consul, against recorded responses shaped as Consul's API docs give
 * them (test/fixtures/consul/catalog.json), played back by the KV tests' recorded-response server: what is
 * asked (paths, dc, near, partition, the token), what renders, and the blocking-query watch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CatalogReader, consulCatalog, openCatalogReader } from '../../src/discovery/index.js';
import { type ConsulKvConfig, type KvBackend, openKv, parseKvUrl } from '../../src/kv/index.js';
import { renderTemplateFile } from '../../src/render/once.js';
import { waitFor } from '../helpers/wait.js';
import { type FakeConsul, fixture, type Recorded, startFakeConsul } from '../kv/fake-consul.js';

const fx = fixture<Record<string, Recorded>>('catalog.json');
const TOKEN = 'c4t4l0g-token';

let fake: FakeConsul;
let dir: string;
const open: Array<{ close(): unknown }> = [];

beforeEach(async () => {
  fake = await startFakeConsul();
  dir = mkdtempSync(join(tmpdir(), 'tend-catalog-'));
});
afterEach(async () => {
  for (const o of open.splice(0)) await o.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function url() {
  return `consul://${fake.address}/app/?dc=dc1&wait=2s`;
}

async function render(text: string) {
  const env = { CONSUL_HTTP_TOKEN: TOKEN };
  const kv: KvBackend = openKv(url(), { env, baseDir: dir });
  const catalog: CatalogReader = openCatalogReader({ kvUrl: url(), kv, baseDir: dir, env });
  open.push(catalog, kv);
  const file = join(dir, 't.tmpl');
  writeFileSync(file, text);
  return renderTemplateFile({ file, kv, env: {}, baseDir: dir, catalog, timeoutMs: 5000 });
}

describe('catalog functions over Consul (tend template)', () => {
  it('nodes: GET /v1/catalog/nodes with the URL datacenter, sorted by name; @dc and ~near are passed on', async () => {
    fake.queue('GET /v1/catalog/nodes', fx.nodes, fx.nodes);
    const r = await render(
      '{{ range nodes }}{{ .Node }} {{ .Address }} {{ .TaggedAddresses.wan }} {{ .Meta.rack }};{{ end }}|{{ range nodes "@dc2~_agent" }}{{ .Node }} {{ end }}',
    );
    expect(r).toEqual({
      ok: true,
      output: 'node-a 10.1.0.1 198.51.100.1 r1;node-b 10.1.0.2 198.51.100.2 ;|node-b node-a ',
    });
    const [plain, near] = fake.requestsTo('GET /v1/catalog/nodes');
    expect(plain.query.get('dc')).toBe('dc1');
    expect(plain.headers['x-consul-token']).toBe(TOKEN);
    expect(near.query.get('dc')).toBe('dc2');
    expect(near.query.get('near')).toBe('_agent');
  });

  it('node without a name reads the agent node name, services sorted by name then ID', async () => {
    fake.queue('GET /v1/agent/self', fx.agentSelf);
    fake.queue('GET /v1/catalog/node/node-a', fx.nodeA);
    fake.queue('GET /v1/catalog/node/ghost', fx.nodeUnknown);
    const r = await render(
      '{{ with node }}{{ .Node.Node }} {{ .Node.Datacenter }}:{{ range .Services }} {{ .Service }}/{{ .ID }}:{{ .Port }}{{ .Tags }}{{ if .EnableTagOverride }}!{{ end }}{{ end }}{{ end }}|{{ with node "ghost" }}{{ if not .Node }}no such node{{ end }}{{ end }}',
    );
    expect(r).toEqual({
      ok: true,
      output: 'node-a dc1: redis/redis:6379[]! web/web-1:8080[v1] web/web-2:8081[http v2]|no such node',
    });
  });

  it('datacenters: sorted; with true, the ones that do not answer are left out', async () => {
    fake.queue('GET /v1/catalog/datacenters', fx.datacenters, fx.datacenters);
    fake.always('GET /v1/catalog/services', (req) =>
      req.query.get('dc') === 'dc3' ? fx.servicesDown : fx.servicesOk,
    );
    const r = await render('{{ datacenters }} {{ datacenters true }}');
    expect(r).toEqual({ ok: true, output: '[dc1 dc2 dc3] [dc1 dc2]' });
    // the datacenter list is not asked with the URL's dc
    expect(fake.requestsTo('GET /v1/catalog/datacenters')[0].query.has('dc')).toBe(false);
  });

  it('partitions, peerings, exportedServices, importedServices in consul-template shapes and orders', async () => {
    fake.queue('GET /v1/partitions', fx.partitions);
    fake.queue('GET /v1/peerings', fx.peerings);
    fake.queue('GET /v1/exported-services', fx.exportedServices);
    fake.queue('GET /v1/imported-services', fx.importedServices);
    const r = await render(
      [
        '{{ range partitions }}{{ .Name }}={{ .Description }};{{ end }}',
        '{{ range peerings "?partition=default" }}{{ .Name }} {{ .PeeringState }} {{ .Remote.Datacenter }} {{ .StreamStatus.ExportedServices }}{{ with .StreamStatus.LastHeartbeat }} {{ . }}{{ end }}{{ if not .StreamStatus.LastSend }} -{{ end }};{{ end }}',
        '{{ range exportedServices "default" }}{{ .Service }} {{ .Consumers.Peers }} {{ .Consumers.Partitions }};{{ end }}',
        '{{ range importedServices }}{{ .Service }}<{{ .SourcePartition }};{{ end }}',
      ].join('\n'),
    );
    expect(r).toEqual({
      ok: true,
      output: [
        'alpha=Team alpha;default=Builtin Default Partition;',
        'cluster-02 ACTIVE dc2 [web] 2023-05-19 16:01:44.520458 +0000 UTC -;cluster-01 PENDING  [] -;',
        'api [east west] [];frontend [east] [team1];',
        'auth<identity;payments<billing;',
      ].join('\n'),
    });
    expect(fake.requestsTo('GET /v1/peerings')[0].query.get('partition')).toBe('default');
    expect(fake.requestsTo('GET /v1/exported-services')[0].query.get('partition')).toBe('default');
    expect(fake.requestsTo('GET /v1/imported-services')[0].query.has('partition')).toBe(false);
  });

  it('partitions on Consul CE fail saying they are an Enterprise feature', async () => {
    fake.queue('GET /v1/partitions', fx.partitionsCE);
    const r = await render('{{ partitions }}');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('admin partitions are a Consul Enterprise feature');
  });

  it('connect: /v1/health/connect/<name>, filtered by status as service is; caRoots and caLeaf', async () => {
    fake.queue('GET /v1/health/connect/web', fx.healthConnect, fx.healthConnect);
    fake.queue('GET /v1/agent/connect/ca/roots', fx.caRoots);
    fake.queue('GET /v1/agent/connect/ca/leaf/web', fx.caLeaf);
    const r = await render(
      [
        '{{ range connect "web" }}{{ .Node }} {{ .Kind }} {{ .Port }};{{ end }}',
        '{{ range connect "web|any" }}{{ .Node }}={{ .Status }};{{ end }}',
        '{{ range caRoots }}{{ .Name }} {{ .Active }} {{ .ID }} {{ printf "%.27s" .RootCertPEM }}{{ end }}',
        '{{ with caLeaf "web" }}{{ .Service }} {{ .ServiceURI }} {{ .ValidBefore }} {{ printf "%.27s" .CertPEM }}{{ end }}',
      ].join('\n'),
    );
    expect(r).toEqual({
      ok: true,
      output: [
        'node-b connect-proxy 21000;',
        'node-a=critical;node-b=passing;',
        'Consul CA Root Cert true 15:bf:3a:7d:ff:ea:c1:8c -----BEGIN CERTIFICATE-----',
        'web spiffe://7f42f496-fbc7-8692-05ed-334aa5340c1e.consul/ns/default/dc/dc1/svc/web 2023-05-21 16:33:28 +0000 UTC -----BEGIN CERTIFICATE-----',
      ].join('\n'),
    });
    expect(fake.requestsTo('GET /v1/health/connect/web')[0].query.get('dc')).toBe('dc1');
  });

  it('a Consul error is reported as the registry not answering, not as a template error', async () => {
    fake.queue('GET /v1/catalog/nodes', { status: 403, body: 'Permission denied' });
    const r = await render('{{ nodes }}');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('catalog nodes: Consul answered HTTP 403: Permission denied');
  });
});

describe('consul catalog watch', () => {
  it('follows /v1/catalog/nodes with blocking queries: index and wait, a change reported once', async () => {
    fake.queue('GET /v1/catalog/nodes', fx.nodes);
    const config = parseKvUrl(url(), { CONSUL_HTTP_TOKEN: TOKEN }) as ConsulKvConfig;
    const c = consulCatalog(config, {
      timing: { minQueryIntervalMs: 10, backoffInitialMs: 20, backoffMaxMs: 100 },
    });
    open.push(c);
    const seen: string[][] = [];
    const w = c.watch({ kind: 'nodes' }, (a) => seen.push((a as Array<{ Node: string }>).map((n) => n.Node)));
    open.push(w);
    await waitFor(() => seen.length === 1 && fake.requestsTo('GET /v1/catalog/nodes').length === 2, {
      what: 'first list, then a blocking query',
    });
    const held = fake.requestsTo('GET /v1/catalog/nodes')[1];
    expect(held.query.get('index')).toBe('50');
    expect(held.query.get('wait')).toBe('2s');
    fake.queue('GET /v1/catalog/nodes', fx.nodesChanged);
    await waitFor(() => seen.length === 2, { what: 'the change' });
    expect(seen).toEqual([
      ['node-b', 'node-a'],
      ['node-b', 'node-a', 'node-c'],
    ]);
    expect(fake.requestsTo('GET /v1/catalog/nodes')[2].query.get('index')).toBe('57');
  });

  it('polls /v1/catalog/datacenters, which has no blocking queries, without an index; same answer reported once', async () => {
    fake.always('GET /v1/catalog/datacenters', () => fx.datacenters);
    const config = parseKvUrl(url(), {}) as ConsulKvConfig;
    const c = consulCatalog(config, { timing: { minQueryIntervalMs: 10, pollMs: 20 } });
    open.push(c);
    const seen: unknown[] = [];
    open.push(c.watch({ kind: 'datacenters', ignoreFailing: false }, (a) => seen.push(a)));
    await waitFor(() => fake.requestsTo('GET /v1/catalog/datacenters').length >= 3, { what: 'three polls' });
    for (const r of fake.requestsTo('GET /v1/catalog/datacenters')) expect(r.query.has('index')).toBe(false);
    expect(seen).toEqual([['dc2', 'dc1', 'dc3']]);
  });
});
