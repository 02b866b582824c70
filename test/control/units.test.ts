/** Pure parts of the control plane: finding the socket, listen addresses, formatting. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startupOverrides } from '../../src/app/reload.js';
import { streamBudget, takeStream } from '../../src/control/access.js';
import { describeReload, formatDuration, formatLogLine, formatStatus } from '../../src/control/format.js';
import { locateSocket, readStateDir } from '../../src/control/locate.js';
import { isLoopbackHost, parseListenAddress } from '../../src/control/server.js';
import type { StatusView } from '../../src/control/types.js';

describe('locating the socket', () => {
  it('reads a top-level state_dir, quoted or not, with variable defaults, ignoring nested keys', () => {
    expect(readStateDir('name: x\nstate_dir: ./run # here\n', {})).toBe('./run');
    expect(readStateDir('state_dir: "/var/run/tend"\n', {})).toBe('/var/run/tend');
    expect(readStateDir(`state_dir: '\${STATE:-/tmp/s}'\n`, {})).toBe('/tmp/s');
    expect(readStateDir(`state_dir: \${STATE:-/tmp/s}\n`, { STATE: '/srv' })).toBe('/srv');
    expect(readStateDir('services:\n  web:\n    state_dir: nope\n', {})).toBeUndefined();
  });

  it('prefers --socket, then TEND_SOCKET, then the manifest, then ./.tend', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-loc-'));
    try {
      expect(locateSocket({ socket: 's.sock' }, {}, dir)).toMatchObject({
        socket: join(dir, 's.sock'),
        how: 'flag',
      });
      expect(locateSocket({}, { TEND_SOCKET: '/x.sock' }, dir)).toMatchObject({
        socket: '/x.sock',
        how: 'env',
      });
      expect(locateSocket({}, {}, dir)).toMatchObject({
        socket: join(dir, '.tend', 'tend.sock'),
        how: 'default',
      });
      writeFileSync(join(dir, 'tend.yaml'), 'state_dir: run\nservices: {}\n');
      expect(locateSocket({}, {}, dir)).toMatchObject({
        socket: join(dir, 'run', 'tend.sock'),
        manifest: join(dir, 'tend.yaml'),
      });
      writeFileSync(join(dir, 'other.yaml'), 'services: {}\n');
      expect(locateSocket({}, { TEND_FILE: 'other.yaml' }, dir).socket).toBe(join(dir, '.tend', 'tend.sock'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('over TCP (--url, TEND_URL) takes TEND_TOKEN, else the token tend keeps in the state folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-loc-'));
    try {
      writeFileSync(join(dir, 'tend.yaml'), 'state_dir: run\nservices: {}\n');
      const url = 'http://127.0.0.1:7070/';
      // no token file: no token, the 401 says what to do
      expect(locateSocket({ url }, {}, dir)).toMatchObject({ url, token: undefined, how: 'flag' });
      mkdirSync(join(dir, 'run'));
      writeFileSync(join(dir, 'run', 'token'), 'made-by-tend\n');
      expect(locateSocket({}, { TEND_URL: url }, dir)).toMatchObject({
        url,
        token: 'made-by-tend',
        how: 'env',
      });
      expect(locateSocket({ url }, { TEND_TOKEN: 'mine' }, dir).token).toBe('mine');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stream budget', () => {
  const req = (addr: string) => ({ socket: { remoteAddress: addr } }) as unknown as IncomingMessage;
  it('bounds streams per client and in all, and gives places back once', () => {
    const b = streamBudget(2, 3);
    const a1 = takeStream(b, req('::ffff:10.0.0.1'));
    const a2 = takeStream(b, req('10.0.0.1'));
    expect(typeof a1).toBe('function');
    expect(typeof a2).toBe('function');
    expect(takeStream(b, req('10.0.0.1'))).toMatch(/from 10\.0\.0\.1, the most one client may keep/);
    const other = takeStream(b, req('10.0.0.2'));
    expect(typeof other).toBe('function');
    expect(takeStream(b, req('10.0.0.3'))).toMatch(/the most this listener keeps/);
    (a1 as () => void)();
    (a1 as () => void)();
    expect(b.count).toBe(2);
    expect(typeof takeStream(b, req('10.0.0.3'))).toBe('function');
  });
});

describe('listen addresses', () => {
  it('parses HOST:PORT forms', () => {
    expect(parseListenAddress('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseListenAddress(':7070')).toEqual({ host: '', port: 7070 });
    // a bare port is loopback, as the number in the manifest
    expect(parseListenAddress('7070')).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(parseListenAddress('[::1]:7070')).toEqual({ host: '::1', port: 7070 });
    expect(parseListenAddress('http://localhost:80/')).toEqual({ host: 'localhost', port: 80 });
    expect(() => parseListenAddress('localhost')).toThrow(/HOST:PORT/);
    expect(() => parseListenAddress('x:99999')).toThrow(/HOST:PORT/);
  });

  it('knows loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]', 'app.localhost']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '192.0.2.2', 'example.com', '128.0.0.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('reload keeps the command line', () => {
  it('reads --only, --http and --kv as tend up got them', () => {
    expect(startupOverrides({}, ['node', 'tend', 'up', '--only', 'a,b', '--http=:1'])).toEqual({
      only: ['a', 'b'],
      http: true,
      kv: false,
    });
    expect(startupOverrides({ TEND_ONLY: 'x', TEND_KV: 'file:kv' }, ['node', 'tend', 'up'])).toEqual({
      only: ['x'],
      http: false,
      kv: true,
    });
  });
});

describe('human output', () => {
  it('formats durations', () => {
    expect(formatDuration(undefined)).toBe('-');
    expect(formatDuration(5_400)).toBe('5s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatDuration(3_726_000)).toBe('1h02m');
    expect(formatDuration(90_000_000)).toBe('1d01h');
  });

  it('formats status as a table with reasons and what a service waits for', () => {
    const st: StatusView = {
      app: {
        name: 'shop',
        state: 'UP',
        pid: 1,
        version: '1',
        startedAt: 0,
        uptimeMs: 61_000,
        maintenance: true,
        ready: false,
        kv: {
          url: 'etcd://10.0.0.9:2379',
          connected: false,
          error: 'connection refused',
          since: Date.now() - 65_000,
        },
      },
      services: [
        {
          name: 'web',
          state: 'waiting',
          ready: false,
          restarts: 0,
          job: false,
          essential: false,
          waitingFor: ['waiting for db to be ready'],
          checks: { ready: true, health: false },
        },
        {
          name: 'db',
          state: 'backoff',
          reason: 'exit code 1; retrying in 2s',
          ready: false,
          restarts: 3,
          lastExit: { code: 1, signal: null, at: 0 },
          job: false,
          essential: true,
          waitingFor: [],
          checks: { ready: false, health: false },
        },
      ],
      disabled: ['cron'],
      timeline: [],
    };
    const text = formatStatus(st);
    expect(text).toMatch(/^shop: UP \(maintenance\) · tend pid 1, up 1m01s · not ready/);
    expect(text).toMatch(/^web\s+waiting\s+-\s+-\s+0\s+-\s+…\s+waiting for db to be ready$/m);
    expect(text).toMatch(/^db\s+backoff\s+-\s+-\s+3\s+1\s+-\s+exit code 1; retrying in 2s$/m);
    expect(text).toMatch(/^disabled: cron$/m);
    expect(text).toMatch(/KV etcd:\/\/10\.0\.0\.9:2379 unreachable for 1m0\ds: connection refused/);
  });

  it('formats the notify sinks after the services, only when there are some', () => {
    const st: StatusView = {
      app: {
        name: 'shop',
        state: 'UP',
        pid: 1,
        version: 'x',
        startedAt: 0,
        uptimeMs: 1000,
        maintenance: false,
        ready: true,
        kv: { url: 'file:kv', connected: true, since: 0 },
      },
      services: [],
      disabled: [],
      timeline: [],
    };
    expect(formatStatus(st)).not.toMatch(/NOTIFY/);
    st.notify = [
      { index: 0, kind: 'stdout', sink: 'stdout', sent: 12, failed: 0, dropped: 0, queued: 0 },
      {
        index: 1,
        kind: 'webhook',
        sink: 'webhook http://127.0.0.1:9/hook',
        sent: 0,
        failed: 2,
        dropped: 3,
        queued: 7,
        lastError: 'connection\nrefused',
      },
    ];
    const text = formatStatus(st);
    expect(text).toMatch(/^NOTIFY\s+SENT\s+FAILED\s+DROPPED\s+QUEUED\s+LAST ERROR$/m);
    expect(text).toMatch(/^stdout\s+12\s+0\s+0\s+0\s+-$/m);
    // a control character in an error stays on its row
    expect(text).toMatch(/^webhook http:\/\/127\.0\.0\.1:9\/hook\s+0\s+2\s+3\s+7\s+connection\\nrefused$/m);
  });

  it('describes a reload', () => {
    expect(
      describeReload({
        file: '/x',
        added: ['a'],
        removed: [],
        changed: ['c'],
        unchanged: ['u'],
        ignored: ['http'],
        warnings: [],
      }),
    ).toBe('started a; restarted c (unchanged: u); restart tend to apply changes to: http');
  });
});

describe('tend logs on a terminal', () => {
  it('shows a service’s control characters escaped, tab kept', () => {
    const line = {
      time: 0,
      service: 'web',
      stream: 'stdout' as const,
      text: '\x1b[2J\r\x1b[Ktend | web ready\tok',
    };
    expect(formatLogLine(line, { prefix: 3 })).toBe('web | \\x1b[2J\\r\\x1b[Ktend | web ready\tok');
  });
});
