/**
 * The template `service` function reading discovery: the render loop given discoverySource renders the
 * instances a registry lists and renders again when they come and go. (How `tend up` plugs the two together is
 * the render loop's; this checks the data path with the loop's public API.)
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

const reg = (port: number): Registration => ({
  id: `api-host-${port}`,
  name: 'api',
  address: '127.0.0.1',
  port,
  tags: ['http'],
  meta: {},
  ttlMs: 10_000,
  node: 'host',
  status: 'passing',
});

describe('templates read discovery', () => {
  it('{{ range service "api" }} lists passing instances and re-renders as they come and go', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-disc-render-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'kv'));
    writeFileSync(
      join(dir, 'upstream.tmpl'),
      '{{ range service "api" }}{{ .Address }}:{{ .Port }}\n{{ end }}{{ range service "api|any" }}{{ .ID }}={{ .Status }};{{ end }}',
    );
    writeFileSync(
      join(dir, 'tend.yaml'),
      `services:
  web:
    command: exec sleep 60
    templates:
      - { source: upstream.tmpl, destination: upstream.conf, on_change: none }
`,
    );
    const { plan } = loadManifest(join(dir, 'tend.yaml'), { env: process.env });
    const bus = createBus();
    const kv = openKv(plan.kv, { baseDir: dir });
    const stack = createStack({ plan, bus });
    const discovery = createDiscovery(fileRegistry(join(dir, 'kv', '.services'), { debounceMs: 10 }));
    let loop: RenderLoop | undefined;
    const source = discoverySource(discovery, () => void loop?.reloadTemplates());
    loop = createRenderLoop({
      plan,
      kv,
      bus,
      stack,
      env: process.env,
      settings: () => ({}),
      services: source,
    });
    cleanups.push(async () => {
      await stack.stopAll();
      await loop?.close();
      source.close();
      await discovery.close();
      await stack.close();
      await kv.close();
    });
    stack.startAll();
    const file = join(dir, 'upstream.conf');
    const content = () => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
    };
    await waitFor(() => content() === '', { what: 'an empty upstream list' });
    await waitFor(() => stack.runner('web')?.model().state === 'running', { what: 'web running' });

    const a = await discovery.publish(reg(8080));
    await waitFor(() => content() === '127.0.0.1:8080\napi-host-8080=passing;', { what: 'one upstream' });
    const b = await discovery.publish(reg(8081));
    await b.update('warning', 'slow');
    await waitFor(() => content() === '127.0.0.1:8080\napi-host-8080=passing;api-host-8081=warning;', {
      what: 'a warning instance left out of the default list',
    });
    await a.withdraw();
    await b.withdraw();
    await waitFor(() => content() === '', { what: 'empty again' });
    expect(loop.status().templates[0]).toMatchObject({ service: 'web', state: 'rendered' });
  });
});
