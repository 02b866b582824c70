import { afterEach, describe, expect, it } from 'vitest';
import {
  createRegistrar,
  type Publication,
  type Registrar,
  type Registration,
} from '../../src/discovery/index.js';
import { waitFor } from '../helpers/wait.js';

const registration: Registration = {
  id: 'api-host-8080',
  name: 'api',
  address: '10.0.0.5',
  port: 8080,
  tags: ['http'],
  meta: {},
  ttlMs: 10_000,
  node: 'host',
  status: 'passing',
};

/** A registry in memory that records every call, with a switch to make publishing fail. */
function fakeRegistry() {
  const log: string[] = [];
  let failing = 0;
  let lost: (() => void) | undefined;
  let live = false;
  let publishing = false;
  const publish = async (reg: Registration): Promise<Publication> => {
    publishing = true;
    await new Promise((r) => setTimeout(r, 60));
    publishing = false;
    if (failing > 0) {
      failing--;
      log.push('publish failed');
      throw new Error('store unreachable');
    }
    log.push(`publish ${reg.status}`);
    live = true;
    return {
      async update(status, output) {
        log.push(`update ${status}${output ? ` ${output}` : ''}`);
      },
      async withdraw() {
        await new Promise((r) => setTimeout(r, 20));
        live = false;
        log.push('withdraw');
      },
      onLost(cb) {
        lost = cb;
      },
    };
  };
  return {
    log,
    publish,
    live: () => live,
    publishing: () => publishing,
    failNext(n: number) {
      failing = n;
    },
    lose() {
      live = false;
      lost?.();
    },
  };
}

const open: Registrar[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

function make(reg = fakeRegistry()) {
  const notes: string[] = [];
  const r = createRegistrar({
    registration: () => registration,
    publish: reg.publish,
    note: (t) => notes.push(t),
    retryInitialMs: 20,
    retryMaxMs: 50,
  });
  open.push(r);
  return { r, reg, notes };
}

describe('registrar', () => {
  it('publishes while ready, withdraws when not, and passes health changes on', async () => {
    const { r, reg, notes } = make();
    r.set({ ready: true });
    await waitFor(() => r.published());
    r.health('warning', 'HTTP 503');
    await waitFor(() => reg.log.length === 2);
    r.health('warning', 'HTTP 503');
    r.health('passing', 'HTTP 200');
    await waitFor(() => reg.log.length === 3);
    r.set({ ready: false });
    await waitFor(() => !reg.live());
    // one update per distinct change, applied in order; repeats are dropped
    expect(reg.log).toEqual([
      'publish passing',
      'update warning HTTP 503',
      'update passing HTTP 200',
      'withdraw',
    ]);
    expect(notes[0]).toBe('registered api as api-host-8080');
    expect(notes.at(-1)).toBe('deregistered api-host-8080');
  });

  it('a burst of changes costs at most one write: each step reads the wanted state afresh', async () => {
    const { r, reg } = make();
    r.set({ ready: true });
    await waitFor(() => r.published());
    r.health('warning', 'HTTP 503');
    r.health('passing', 'HTTP 200');
    r.set({ ready: false });
    await waitFor(() => !reg.live());
    expect(reg.log).toEqual(['publish passing', 'withdraw']);
  });

  it('withdraw() (a stop) resolves once the instance is gone, even while a publish is under way', async () => {
    const { r, reg } = make();
    r.set({ ready: true });
    await waitFor(() => reg.publishing());
    const done = r.withdraw();
    expect(reg.live()).toBe(false);
    await done;
    expect(reg.live()).toBe(false);
    expect(reg.log).toEqual(['publish passing', 'withdraw']);
    // a stopping service is not published again until its next spawn
    r.set({ ready: true });
    await new Promise((res) => setTimeout(res, 50));
    expect(reg.live()).toBe(false);
    r.set({ stopping: false });
    await waitFor(() => reg.live());
  });

  it('maintenance withdraws without the service changing, and publishes again when off', async () => {
    const { r, reg, notes } = make();
    r.set({ ready: true });
    await waitFor(() => reg.live());
    r.set({ maintenance: true });
    await waitFor(() => !reg.live());
    expect(notes.at(-1)).toBe('deregistered api-host-8080 (maintenance)');
    r.set({ maintenance: false });
    await waitFor(() => reg.live());
    expect(reg.log).toEqual(['publish passing', 'withdraw', 'publish passing']);
  });

  it('retries a failed publish with backoff while still wanted', async () => {
    const reg = fakeRegistry();
    reg.failNext(2);
    const { r, notes } = make(reg);
    r.set({ ready: true });
    await waitFor(() => reg.live());
    expect(reg.log).toEqual(['publish failed', 'publish failed', 'publish passing']);
    expect(notes[0]).toMatch(/could not register api: store unreachable; retrying in/);
  });

  it('publishes again when the registry lost the instance', async () => {
    const { r, reg, notes } = make();
    r.set({ ready: true });
    await waitFor(() => reg.live());
    reg.lose();
    await waitFor(() => reg.live());
    expect(reg.log).toEqual(['publish passing', 'publish passing']);
    expect(notes.some((n) => /was lost/.test(n))).toBe(true);
  });

  it('a new process starts with a passing status', async () => {
    const { r, reg } = make();
    r.set({ ready: true });
    await waitFor(() => reg.live());
    r.health('warning', 'slow');
    await waitFor(() => reg.log.length === 2);
    await r.withdraw();
    r.set({ stopping: false, ready: false });
    r.set({ ready: true });
    await waitFor(() => reg.live());
    expect(reg.log).toEqual(['publish passing', 'update warning slow', 'withdraw', 'publish passing']);
  });
});
