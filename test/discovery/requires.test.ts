/** `requires` gates on a real stack, against a file registry; and the template source adapter. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileRegistry } from '../../src/discovery/file-registry.js';
import {
  createDiscovery,
  type Discovery,
  gateRequires,
  type Registration,
  type Watch,
} from '../../src/discovery/index.js';
import { createBus } from '../../src/events/index.js';
import { discoverySource } from '../../src/render/index.js';
import { createStack, type Stack } from '../../src/supervisor/index.js';
import { servicePlan, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const stacks: Stack[] = [];
const discoveries: Discovery[] = [];
const watches: Watch[] = [];

afterEach(async () => {
  for (const w of watches.splice(0)) w.close();
  for (const s of stacks.splice(0)) {
    await s.stopAll();
    await s.close();
  }
  await Promise.all(discoveries.splice(0).map((d) => d.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(requiresTimeoutMs = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-requires-'));
  dirs.push(dir);
  const discovery = createDiscovery(fileRegistry(join(dir, 'registry'), { debounceMs: 10 }));
  discoveries.push(discovery);
  const sp = servicePlan('web', 'exec sleep 60', { requires: ['api', 'db'], requiresTimeoutMs });
  const stack = createStack({ plan: stackPlan(dir, [sp]), bus: createBus() });
  stacks.push(stack);
  watches.push(gateRequires(stack, discovery, sp));
  stack.startAll();
  const runner = stack.runner('web');
  if (!runner) throw new Error('no runner');
  return { stack, runner, discovery };
}

const reg = (name: string, o: Partial<Registration> = {}): Registration => ({
  id: `${name}-host-1`,
  name,
  address: '127.0.0.1',
  port: 1,
  tags: [],
  meta: {},
  ttlMs: 10_000,
  node: 'host',
  status: 'passing',
  ...o,
});

describe('requires', () => {
  it('waits, naming each missing service, until every one has a passing instance', async () => {
    const { stack, runner, discovery } = setup();
    expect(runner.model().state).toBe('waiting');
    expect(runner.model().reason).toMatch(
      /^waiting for api in discovery \(.*\); waiting for db in discovery/,
    );
    const api = await discovery.publish(reg('api'));
    await waitFor(() => stack.gates('web').length === 1, { what: 'api gate open' });
    expect(runner.model().state).toBe('waiting');
    expect(runner.model().reason).toMatch(/^waiting for db in discovery/);
    // a warning instance is not healthy
    const db = await discovery.publish(reg('db', { status: 'warning' }));
    await new Promise((r) => setTimeout(r, 200));
    expect(runner.model().state).toBe('waiting');
    await db.update('passing');
    await waitFor(() => runner.model().state === 'running', { what: 'started' });
    // an upstream going away closes its gate again: the running process is left alone
    await api.withdraw();
    await waitFor(() => stack.gates('web').length === 1, { what: 'api gate closed again' });
    expect(runner.model().state).toBe('running');
    // ... but a restart waits for it
    stack.restart('web');
    await waitFor(() => runner.model().state === 'waiting', { what: 'waiting again' });
  });

  it('requires_timeout turns a long wait into failed, with what to do', async () => {
    const { runner } = setup(300);
    await waitFor(() => runner.model().state === 'failed', { what: 'failed' });
    expect(runner.model().reason).toMatch(
      /no healthy instance of api, db in discovery within 300ms \(requires_timeout\); start it again once/,
    );
  });
});

describe('discoverySource (the template side)', () => {
  it('answers undefined until known, then the cached list, announcing every change', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-requires-'));
    dirs.push(dir);
    const discovery = createDiscovery(fileRegistry(dir, { debounceMs: 10 }));
    discoveries.push(discovery);
    const changes: string[] = [];
    const source = discoverySource(discovery, (dep) => changes.push(dep));
    expect(source.service('api', {})).toBeUndefined();
    expect(source.services('')).toBeUndefined();
    await waitFor(() => changes.length === 2);
    expect(source.service('api', {})).toEqual([]);
    expect(source.services('')).toEqual([]);
    const pub = await discovery.publish(reg('api', { tags: ['http'] }));
    await waitFor(() => source.service('api', {})?.length === 1, { what: 'the instance' });
    expect(changes).toContain('service:api');
    await waitFor(() => source.services('')?.length === 1, { what: 'the catalog' });
    expect(source.services('')).toEqual([{ Name: 'api', Tags: ['http'] }]);
    expect(source.service('api', { dc: 'dc2' })).toEqual([]);
    await pub.withdraw();
    await waitFor(() => source.service('api', {})?.length === 0, { what: 'gone' });
    source.close();
  });
});
