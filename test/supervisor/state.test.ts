import { describe, expect, it } from 'vitest';
import type { ServiceState } from '../../src/events/index.js';
import {
  hasEndedForGood,
  hasFailed,
  isLive,
  isReady,
  isServing,
  isSettled,
  waitingFor,
} from '../../src/supervisor/index.js';

const ALL: ServiceState[] = [
  'waiting',
  'starting',
  'running',
  'ready',
  'unhealthy',
  'backoff',
  'stopping',
  'stopped',
  'exited',
  'failed',
];
const s = (state: ServiceState, ready = false, desired: 'up' | 'down' = 'up') => ({ state, ready, desired });

describe('the predicates of service state', () => {
  it('live means a process exists, stopping included; serving leaves stopping out', () => {
    expect(ALL.filter((st) => isLive(s(st)))).toEqual([
      'starting',
      'running',
      'ready',
      'unhealthy',
      'stopping',
    ]);
    expect(ALL.filter((st) => isServing(s(st)))).toEqual(['starting', 'running', 'ready', 'unhealthy']);
  });

  it('ready needs the ready flag and a running process', () => {
    expect(ALL.filter((st) => isReady(s(st, true)))).toEqual(['running', 'ready']);
    expect(ALL.filter((st) => isReady(s(st, false)))).toEqual([]);
  });

  it('ended for good, failed, settled', () => {
    expect(ALL.filter((st) => hasEndedForGood(s(st)))).toEqual(['stopped', 'exited', 'failed']);
    expect(hasFailed(s('exited', false, 'up'))).toBe(true);
    expect(hasFailed(s('exited', false, 'up'), true)).toBe(false);
    expect(hasFailed(s('exited', false, 'down'))).toBe(false);
    // a crash loop caught while up counts as settled only through its ready flag; backing off does not
    expect(isSettled(s('backoff'))).toBe(false);
    expect(isSettled(s('starting'))).toBe(false);
  });

  it('waiting names each closed gate and what it waits for', () => {
    const gates = [
      { id: 'config', reason: 'waiting for config: a.conf not rendered yet' },
      { id: 'after:db', reason: 'waiting for db to be ready' },
      { id: 'requires:api', reason: 'waiting for api in discovery (etcd)' },
      { id: 'settings', reason: 'waiting for settings' },
      { id: 'mine', reason: 'held' },
    ];
    expect(waitingFor(s('waiting'), gates).map((w) => [w.gate, w.on])).toEqual([
      ['config', undefined],
      ['after', 'db'],
      ['requires', 'api'],
      ['settings', undefined],
      ['other', undefined],
    ]);
    expect(waitingFor(s('running'), gates)).toEqual([]);
  });
});
