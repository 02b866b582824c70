import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifyPlan } from '../../src/manifest/types.js';
import { servicePlan, stackPlan } from '../helpers/plan.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { cleanup, tmp, up } from './harness.js';

afterEach(cleanup);

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

describe('notify sinks in tend up', () => {
  it('a webhook to a closed port slows no restart, and its queue stays bounded over 10,000 events', async () => {
    const dir = tmp();
    const webhook: NotifyPlan = {
      kind: 'webhook',
      url: `http://127.0.0.1:${await closedPort()}/lifecycle`,
      timeoutMs: 1000,
      queue: 100,
      headers: {},
    };
    const crash = servicePlan('crash', 'exit 1', {
      restart: { backoff: { initialMs: 20, maxMs: 20 }, maxFailures: 0 },
    });
    const s = await up(stackPlan(dir, [crash], { notify: [webhook] }));
    const t0 = Date.now();
    await sleep(2000);
    const restarts = s.rt.stack.runner('crash')?.status().restarts ?? 0;
    // ~20 ms backoff plus a spawn: dozens in 2 s; a supervisor waiting on the webhook would manage a handful
    expect(restarts).toBeGreaterThan(25);
    expect(Date.now() - t0).toBeLessThan(4000);

    const stats = () => s.rt.notifyStats()[0];
    expect(stats().sink).toMatch(/^webhook http:\/\/127\.0\.0\.1:\d+\/…$/);
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) {
      s.rt.bus.publish({ kind: 'stats', stats: { i, padding: 'x'.repeat(200) } });
    }
    expect(stats().queued).toBeLessThanOrEqual(100);
    expect(stats().dropped).toBeGreaterThanOrEqual(9_900);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(40 * 1024 * 1024);
    await waitFor(() => stats().lastError === 'connection refused', { what: 'a refused delivery' });

    // and the stop is not held hostage by it either
    const stopAt = Date.now();
    await s.rt.shutdown(0, 'test');
    expect(Date.now() - stopAt).toBeLessThan(6000);
  });

  it('sends the final STOPPED event to a file sink before tend is done', async () => {
    const dir = tmp();
    const { readFileSync } = await import('node:fs');
    const file = `${dir}/events.jsonl`;
    const s = await up(
      stackPlan(dir, [servicePlan('web', 'exec sleep 1000')], { notify: [{ kind: 'file', path: file }] }),
    );
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    await s.rt.shutdown(0, 'test');
    const events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.kind === 'app').map((e) => e.to)).toEqual([
      'BOOT',
      'WARMUP',
      'UP',
      'STOPPING',
      'STOPPED',
    ]);
    expect(events[0]).toMatchObject({ app: 'test', host: expect.any(String) });
  });
});
