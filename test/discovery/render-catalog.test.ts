/**
 * `tend up`'s render loop with the catalog functions: `nodes` and `node` over the file registry render once the
 * registry answers and again when a host registers or leaves; `connect` on it fails naming the registry.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileRegistry } from '../../src/discovery/file-registry.js';
import { createDiscovery, type Registration } from '../../src/discovery/index.js';
import { createBus } from '../../src/events/index.js';
import { openKv } from '../../src/kv/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { createRenderLoop, discoverySource, type RenderLoop } from '../../src/render/index.js';
import { createStack } from '../../src/supervisor/index.js';
import { waitFor } from '../helpers/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const reg = (node: string, port: number): Registration => ({
  id: `api-${node}-${port}`,
  name: 'api',
  address: `10.0.0.${port - 8000}`,
  port,
  tags: [],
  meta: {},
  ttlMs: 10_000,
  node,
  status: 'passing',
});

async function start(template: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-catalog-loop-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'kv'));
  writeFileSync(join(dir, 'hosts.tmpl'), template);
  writeFileSync(
    join(dir, 'tend.yaml'),
    `services:
  web:
    command: exec sleep 60
    templates:
      - { source: hosts.tmpl, destination: hosts.conf, on_change: none }
`,
  );
  const { plan } = loadManifest(join(dir, 'tend.yaml'), { env: process.env });
  const bus = createBus();
  const kv = openKv(plan.kv, { baseDir: dir });
  const stack = createStack({ plan, bus });
  const discovery = createDiscovery(fileRegistry(join(dir, 'kv', '.services'), { debounceMs: 10 }));
  let loop: RenderLoop | undefined;
  const source = discoverySource(discovery, (dep) => loop?.dependencyChanged(dep));
  loop = createRenderLoop({ plan, kv, bus, stack, env: process.env, settings: () => ({}), services: source });
  cleanups.push(async () => {
    await stack.stopAll();
    await loop?.close();
    source.close();
    await discovery.close();
    await stack.close();
    await kv.close();
  });
  stack.startAll();
  const content = () => {
    try {
      return readFileSync(join(dir, 'hosts.conf'), 'utf8');
    } catch {
      return undefined;
    }
  };
  return { discovery, loop, content };
}

describe('the render loop with catalog functions', () => {
  it('nodes and node follow the hosts that register', async () => {
    const { discovery, content } = await start(
      '{{ range nodes }}{{ .Node }} {{ .Address }}\n{{ end }}{{ with node "h2" }}{{ if .Node }}h2 runs{{ range .Services }} {{ .ID }}{{ end }}{{ end }}{{ end }}',
    );
    await waitFor(() => content() === '', { what: 'no hosts yet' });
    const a = await discovery.publish(reg('h1', 8001));
    await waitFor(() => content() === 'h1 10.0.0.1\n', { what: 'one host' });
    const b = await discovery.publish(reg('h2', 8002));
    await waitFor(() => content() === 'h1 10.0.0.1\nh2 10.0.0.2\nh2 runs api-h2-8002', { what: 'two hosts' });
    await a.withdraw();
    await waitFor(() => content() === 'h2 10.0.0.2\nh2 runs api-h2-8002', { what: 'h1 gone' });
    await b.withdraw();
  });

  it('connect on the file registry fails the template, naming the registry', async () => {
    const { loop } = await start('{{ range connect "api" }}{{ .Address }}{{ end }}');
    await waitFor(() => loop.status().templates[0]?.state === 'template-error', {
      what: 'the template failing',
    });

    expect(loop.status().templates[0]?.reason).toContain('connect: needs Consul Connect');
    expect(loop.status().templates[0]?.reason).toContain('file registry');
  });
});
