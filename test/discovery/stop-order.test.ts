/**
 * "Removed before the stop signal": the runner's beforeStop hook holds the stop signal (and the kill timer)
 * until the hook settles, and the discovery module's hooks withdraw the registration in it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeHooks } from '../../src/app/index.js';
import { fileRegistry } from '../../src/discovery/file-registry.js';
import { createDiscovery, createRegistrar, instanceId, registrationOf } from '../../src/discovery/index.js';
import { createBus } from '../../src/events/index.js';
import { createServiceRunner, type ServiceRunner } from '../../src/supervisor/index.js';
import { freePort } from '../helpers/etcd.js';
import { servicePlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';

const runners: ServiceRunner[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(
    runners.splice(0).map(async (r) => {
      r.send({ t: 'stop' });
      await r.settled();
    }),
  );
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'tend-stop-order-'));
  dirs.push(d);
  return d;
}

/** A node service that, on SIGTERM, writes `what()` (evaluated then) to `out` and exits. */
function termReporter(out: string, what: string) {
  return {
    kind: 'argv' as const,
    argv: [
      process.execPath,
      '-e',
      `const fs = require('fs'); process.on('SIGTERM', () => { fs.writeFileSync(${JSON.stringify(out)}, String(${what})); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);`,
    ],
  };
}

describe('beforeStop', () => {
  it('the stop signal waits for the hook', async () => {
    const dir = tmp();
    const out = join(dir, 'signalled-at');
    let settledAt = 0;
    const r = createServiceRunner({
      plan: servicePlan('svc', termReporter(out, 'Date.now()')),
      bus: createBus(),
      env: process.env,
      hooks: {
        beforeStop: () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              settledAt = Date.now();
              resolve();
            }, 300),
          ),
      },
    });
    runners.push(r);
    r.send({ t: 'start' });
    await waitFor(() => r.model().state === 'running');
    // give node a moment to install its SIGTERM handler
    await new Promise((res) => setTimeout(res, 300));
    r.send({ t: 'stop' });
    expect(r.model().state).toBe('stopping');
    await r.settled();
    expect(settledAt).toBeGreaterThan(0);
    expect(Number(readFileSync(out, 'utf8'))).toBeGreaterThanOrEqual(settledAt);
    expect(r.model().state).toBe('stopped');
  });

  it('a hook that fails does not hold the stop; hooks merged from several modules are all awaited', async () => {
    const dir = tmp();
    const out = join(dir, 'signalled-at');
    const done: string[] = [];
    const hooks = mergeHooks([
      { beforeStop: () => Promise.reject(new Error('store unreachable')) },
      {
        beforeStop: () =>
          new Promise<void>((resolve) =>
            setTimeout(() => {
              done.push(`slow ${Date.now()}`);
              resolve();
            }, 200),
          ),
      },
      { onState: () => {} },
    ]);
    const r = createServiceRunner({
      plan: servicePlan('svc', termReporter(out, 'Date.now()')),
      bus: createBus(),
      env: process.env,
      hooks,
    });
    runners.push(r);
    r.send({ t: 'start' });
    await waitFor(() => r.model().state === 'running');
    await new Promise((res) => setTimeout(res, 300));
    r.send({ t: 'stop' });
    await r.settled();
    expect(done).toHaveLength(1);
    expect(Number(readFileSync(out, 'utf8'))).toBeGreaterThanOrEqual(Number(done[0].split(' ')[1]));
  });

  it('a restart by a failed health check withdraws the registration before the process is signalled', async () => {
    const dir = tmp();
    const registryDir = join(dir, 'registry');
    const port = await freePort();
    const plan = servicePlan('api', '', {
      register: { name: 'api', port, address: '127.0.0.1', tags: [], meta: {}, ttlMs: 5000 },
    });
    const file = join(registryDir, 'api', `${instanceId('api', 'host', port)}.json`);
    plan.command = termReporter(join(dir, 'registered-at-term'), `fs.existsSync(${JSON.stringify(file)})`);
    const discovery = createDiscovery(fileRegistry(registryDir));
    const registrar = createRegistrar({
      registration: () => registrationOf(plan.register ?? (undefined as never), { node: 'host' }),
      publish: (reg) => discovery.publish(reg),
    });
    const r = createServiceRunner({
      plan,
      bus: createBus(),
      env: process.env,
      hooks: {
        onSpawn: () => registrar.set({ stopping: false, ready: false }),
        onState: (m) => registrar.set({ ready: m.ready }),
        beforeStop: () => registrar.withdraw(),
      },
    });
    runners.push(r);
    r.send({ t: 'start' });
    await waitFor(() => existsSync(file), { what: 'registered' });
    await new Promise((res) => setTimeout(res, 200));
    r.send({ t: 'unhealthy', reason: '3 health checks failed in a row' });
    await waitFor(() => existsSync(join(dir, 'registered-at-term')), { what: 'the stop signal' });
    expect(readFileSync(join(dir, 'registered-at-term'), 'utf8')).toBe('false');
    // restarted (counted as a failure) and registered again once running
    await waitFor(() => r.model().spawns === 2 && existsSync(file), { what: 'registered again' });
    r.send({ t: 'stop' });
    await r.settled();
    expect(existsSync(file)).toBe(false);
    await registrar.close();
    await discovery.close();
  });
});
