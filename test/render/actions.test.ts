/** on_change merged per batch: what a service gets when several of its templates change together. */
import { describe, expect, it } from 'vitest';
import { emptyBatch, queueAction, takeBatch } from '../../src/render/actions.js';

describe('on_change batch', () => {
  it('a restart wins; signals go once each, reload as reload_signal; every distinct exec runs', () => {
    const b = emptyBatch();
    queueAction(b, { kind: 'reload' }, 'SIGHUP', 'a.conf');
    queueAction(b, { kind: 'signal', signal: 'SIGHUP' }, 'SIGHUP', 'b.conf');
    queueAction(b, { kind: 'signal', signal: 'SIGUSR1' }, 'SIGHUP', 'c.conf');
    queueAction(b, { kind: 'exec', command: { kind: 'shell', script: 'x' } }, 'SIGHUP', 'd.conf');
    queueAction(b, { kind: 'exec', command: { kind: 'shell', script: 'x' } }, 'SIGHUP', 'e.conf');
    expect(takeBatch(b)).toEqual({
      restart: false,
      signals: ['SIGHUP', 'SIGUSR1'],
      execs: [{ kind: 'shell', script: 'x' }],
      what: 'a.conf, b.conf, c.conf, d.conf, e.conf',
    });
    expect(takeBatch(b)).toBeUndefined();

    queueAction(b, { kind: 'signal', signal: 'SIGUSR1' }, 'SIGHUP', 'a.conf');
    queueAction(b, { kind: 'restart' }, 'SIGHUP', 'b.conf');
    expect(takeBatch(b)).toMatchObject({ restart: true, what: 'a.conf, b.conf' });
  });

  it('none queues nothing to do, and is not named by the next batch', () => {
    const b = emptyBatch();
    queueAction(b, { kind: 'none' }, 'SIGHUP', 'a.conf');
    expect(takeBatch(b)).toBeUndefined();
    queueAction(b, { kind: 'restart' }, 'SIGHUP', 'b.conf');
    expect(takeBatch(b)?.what).toBe('b.conf');
  });
});
