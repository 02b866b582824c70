import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../../src/events/index.js';
import type { NotifyPlan } from '../../src/manifest/types.js';
import { createNotifier, type Notifier } from '../../src/notify/index.js';
import { deadPort, type Receiver, sleep, startReceiver, textSink, waitFor } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  cleanups.push(() => r.close());
  return r;
}

function notifier(sinks: NotifyPlan[], bus = createBus()) {
  const stderr = textSink();
  const n: Notifier = createNotifier(sinks, {
    bus,
    app: 'shop',
    cwd: process.cwd(),
    stdout: textSink(),
    stderr,
  });
  cleanups.push(() => n.close(500));
  return { bus, n, stderr };
}

const webhook = (url: string, over: Partial<{ timeoutMs: number; queue: number }> = {}): NotifyPlan => ({
  kind: 'webhook',
  url,
  timeoutMs: 2000,
  queue: 1000,
  headers: { Authorization: 'Bearer t0k' },
  ...over,
});

describe('webhook sink', () => {
  it('POSTs every event as JSON, in order, with the plan headers', async () => {
    const r = await receiver();
    const { bus, n } = notifier([webhook(r.url)]);
    const published = [
      bus.publish({ kind: 'app', from: null, to: 'BOOT' }),
      bus.publish({
        kind: 'service',
        service: 'web',
        from: 'starting',
        to: 'running',
        pid: 123,
        restarts: 0,
      }),
      bus.publish({ kind: 'app', from: 'WARMUP', to: 'UP' }),
    ];
    await waitFor(() => r.requests.length === 3);
    expect(r.requests.map((q) => JSON.parse(q.body))).toEqual(
      published.map((e) => ({ app: 'shop', host: hostname(), ...e })),
    );
    expect(r.requests[0].headers['content-type']).toBe('application/json');
    expect(r.requests[0].headers.authorization).toBe('Bearer t0k');
    await waitFor(() => n.stats()[0].sent === 3);
    expect(n.stats()).toEqual([
      { sink: `webhook ${new URL(r.url).origin}/…`, sent: 3, failed: 0, dropped: 0, queued: 0 },
    ]);
  });

  it('retries a receiver that fails twice, and every event still arrives once, in order', async () => {
    const accepted: number[] = [];
    const r = await receiver((i, req, res) => {
      if (i < 2) {
        res.statusCode = 503;
        res.end('warming up');
        return;
      }
      accepted.push(JSON.parse(req.body).seq);
      res.end();
    });
    const { bus, n, stderr } = notifier([webhook(r.url)]);
    const seqs = [1, 2, 3, 4, 5].map(() => bus.publish({ kind: 'app', from: null, to: 'UP' }).seq);
    await waitFor(() => accepted.length === 5);
    await sleep(100);
    expect(accepted).toEqual(seqs);
    expect(r.requests).toHaveLength(7);
    expect(n.stats()[0]).toMatchObject({
      sent: 5,
      failed: 0,
      dropped: 0,
      queued: 0,
      lastError: 'HTTP 503 Service Unavailable: warming up',
    });
    // One report for the outage, one for the recovery: never a line per attempt.
    const lines = stderr.text().trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('HTTP 503');
    expect(lines[1]).toContain('delivering again');
  });

  it('does not retry a 4xx other than 408/429, and moves on', async () => {
    const r = await receiver((i, _req, res) => {
      res.statusCode = i === 1 ? 400 : 200;
      res.end(i === 1 ? 'bad event' : '');
    });
    const { bus, n } = notifier([webhook(r.url)]);
    for (let i = 0; i < 3; i++) bus.publish({ kind: 'app', from: null, to: 'UP' });
    await waitFor(() => n.stats()[0].sent + n.stats()[0].failed === 3);
    expect(n.stats()[0]).toMatchObject({ sent: 2, failed: 1 });
    expect(r.requests).toHaveLength(3);
  });

  it('retries a 429, honouring Retry-After', async () => {
    const r = await receiver((i, _req, res) => {
      if (i === 0) {
        res.statusCode = 429;
        res.setHeader('retry-after', '1');
      }
      res.end();
    });
    const { bus, n } = notifier([webhook(r.url)]);
    const t0 = Date.now();
    bus.publish({ kind: 'app', from: null, to: 'UP' });
    await waitFor(() => n.stats()[0].sent === 1);
    expect(r.requests).toHaveLength(2);
    // Well above the 200 ms first backoff: the receiver's pause was honoured (jitter is ±20%).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
  });

  it('times out a receiver that never answers, then retries', async () => {
    const r = await receiver((i, _req, res) => {
      if (i > 0) res.end();
    });
    const { bus, n } = notifier([webhook(r.url, { timeoutMs: 200 })]);
    bus.publish({ kind: 'app', from: null, to: 'UP' });
    await waitFor(() => n.stats()[0].sent === 1);
    expect(r.requests.length).toBeGreaterThanOrEqual(2);
    expect(n.stats()[0].lastError).toMatch(/no answer within 200ms/);
  });

  it('a dead receiver never delays publish, and memory stays bounded', async () => {
    const port = await deadPort();
    const total = 10_000;

    const baselineBus = createBus();
    let t = performance.now();
    for (let i = 0; i < total; i++) baselineBus.publish({ kind: 'app', from: 'UP', to: 'UP' });
    const baseline = performance.now() - t;

    const { bus, n, stderr } = notifier([webhook(`http://127.0.0.1:${port}/x`, { queue: 100 })]);
    t = performance.now();
    for (let i = 0; i < total; i++) bus.publish({ kind: 'app', from: 'UP', to: 'UP' });
    const elapsed = performance.now() - t;
    // The listener only enqueues: the same order of cost as no sink at all. Bounds are loose on purpose.
    expect(elapsed).toBeLessThan(Math.max(1000, baseline * 50));

    let s = n.stats()[0];
    expect(s.queued).toBeLessThanOrEqual(100);
    expect(s.dropped).toBe(total - 100);

    // Retries keep failing for a while; nothing grows and nothing is lost without being counted.
    await sleep(700);
    s = n.stats()[0];
    expect(s.queued).toBeLessThanOrEqual(100);
    expect(s.sent).toBe(0);
    expect(s.sent + s.failed + s.dropped + s.queued).toBe(total);
    expect(s.lastError).toBe('connection refused');
    expect(bus.listenerErrors).toBe(0);
    expect(stderr.text().trim().split('\n')).toHaveLength(1);

    const c0 = Date.now();
    await n.close(300);
    expect(Date.now() - c0).toBeLessThan(5000);
    s = n.stats()[0];
    expect(s).toMatchObject({ queued: 0, dropped: total, sent: 0 });
  });

  it('close drains what is queued when the receiver is alive', async () => {
    const r = await receiver((_i, _req, res) => {
      setTimeout(() => res.end(), 30);
    });
    const { bus, n } = notifier([webhook(r.url)]);
    for (let i = 0; i < 5; i++) bus.publish({ kind: 'app', from: null, to: 'STOPPED' });
    await n.close(10_000);
    expect(r.requests).toHaveLength(5);
    expect(n.stats()[0]).toMatchObject({ sent: 5, queued: 0, dropped: 0 });
    // Closed: later events are ignored, not queued.
    bus.publish({ kind: 'app', from: null, to: 'STOPPED' });
    expect(n.stats()[0].queued).toBe(0);
  });

  it('keeps credentials out of the sink name', async () => {
    const { n } = notifier([webhook('http://user:pw@127.0.0.1:1/hook?token=abc')]);
    expect(n.stats()[0].sink).toBe('webhook http://127.0.0.1:1/…');
  });

  it('sends the userinfo of the URL as Basic auth, and never shows the password', async () => {
    const r = await receiver();
    const url = r.url.replace('http://', 'http://deploy:s%3Ecret@');
    const { bus, n, stderr } = notifier([webhook(url)]);
    bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    await waitFor(() => r.requests.length === 1);
    expect(r.requests[0].headers.authorization).toBe('Bearer t0k');
    await n.close(500);

    const r2 = await receiver();
    const plain = { ...webhook(r2.url.replace('http://', 'http://deploy:s%3Ecret@')), headers: {} };
    const second = notifier([plain]);
    second.bus.publish({ kind: 'app', from: null, to: 'BOOT' });
    await waitFor(() => r2.requests.length === 1);
    expect(r2.requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from('deploy:s>cret').toString('base64')}`,
    );
    expect(JSON.stringify(second.n.stats()) + stderr.text() + second.stderr.text()).not.toContain('cret');
  });

  it('says per sink how many events the flush at stop could not deliver', async () => {
    const r = await receiver(() => {
      // never answers
    });
    const { bus, n, stderr } = notifier([webhook(r.url, { timeoutMs: 10_000 })]);
    for (const to of ['BOOT', 'UP', 'STOPPING', 'STOPPED'] as const)
      bus.publish({ kind: 'app', from: null, to });
    await waitFor(() => r.requests.length === 1);
    await n.close(300);
    expect(stderr.text()).toMatch(
      new RegExp(
        `notify webhook ${new URL(r.url).origin.replace(/[/.:]/g, '\\$&')}/…: 4 events not delivered, the 300ms flush at stop ran out`,
      ),
    );
    expect(n.stats()[0]).toMatchObject({ dropped: 4, queued: 0 });
  });
});
