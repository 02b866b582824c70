/** systemd's notify protocol, against a real unix datagram socket (python3 receives; Node cannot). */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSdNotify, sdMessage, socketAddress, watchdogIntervalMs } from '../../src/guard/index.js';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { killTagged, project, removeDir, testTag } from './helpers.js';

const RECEIVER = `
import json, socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print('listening', flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode()), flush=True)
`;

interface Receiver {
  messages: string[];
  proc: ChildProcess;
}

const cleanups: Array<() => void> = [];
afterEach(async () => {
  await stopAllTends();
  for (const c of cleanups.splice(0).reverse()) c();
});

async function receiver(address: string): Promise<Receiver> {
  const proc = spawn('python3', ['-c', RECEIVER, address], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => proc.kill('SIGKILL'));
  const r: Receiver = { messages: [], proc };
  let buf = '';
  let listening = false;
  let errors = '';
  proc.stderr?.on('data', (d) => {
    errors += d;
  });
  proc.stdout?.on('data', (d) => {
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (line === 'listening') listening = true;
      else r.messages.push(JSON.parse(line) as string);
      nl = buf.indexOf('\n');
    }
  });
  await waitFor(() => listening, { what: `the python receiver (${errors})` });
  return r;
}

const linux = process.platform === 'linux';

describe('sd_notify messages', () => {
  it('maps app states to READY, RELOADING, STOPPING and STATUS', () => {
    expect(sdMessage({ to: 'UP' })).toBe('READY=1\nSTATUS=UP');
    expect(sdMessage({ to: 'STOPPING', reason: 'received SIGTERM' })).toBe(
      'STOPPING=1\nSTATUS=STOPPING: received SIGTERM',
    );
    expect(sdMessage({ to: 'RESTARTING', reason: 'monitor\nfailed' })).toMatch(
      /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=RESTARTING: monitor failed$/,
    );
    expect(sdMessage({ to: 'WARMUP' })).toBe('STATUS=WARMUP');
  });

  it('builds socket addresses for paths and the abstract namespace', () => {
    const path = socketAddress('/run/x.sock');
    expect('length' in path && path.length).toBe(2 + '/run/x.sock'.length + 1);
    const abs = socketAddress('@tend');
    expect('addr' in abs && abs.addr.subarray(2, 7)).toEqual(Buffer.from('\0tend'));
    expect('length' in abs && abs.length).toBe(2 + 5);
    expect(socketAddress('relative')).toHaveProperty('error');
    expect(socketAddress(`/${'x'.repeat(200)}`)).toHaveProperty('error');
  });

  it('reads the watchdog interval meant for this process', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000' }, 42)).toBe(5000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '42' }, 42)).toBe(5000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '10000000', WATCHDOG_PID: '7' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
  });
});

describe.skipIf(!linux)('sd_notify over a datagram socket', () => {
  it('delivers to a socket path and to an abstract socket', async () => {
    const dir = project({});
    cleanups.push(() => removeDir(dir));
    for (const address of [join(dir, 'notify.sock'), `@tend-test-${randomBytes(6).toString('hex')}`]) {
      const r = await receiver(address);
      const errors: string[] = [];
      const n = openSdNotify(address, (e) => errors.push(e));
      expect(n?.send('READY=1\nSTATUS=UP')).toBe(true);
      await waitFor(() => r.messages.length === 1);
      expect(r.messages).toEqual(['READY=1\nSTATUS=UP']);
      n?.close();
      expect(errors).toEqual([]);
    }
  });

  it('reports a socket nobody listens on once, and does not throw', () => {
    const errors: string[] = [];
    const n = openSdNotify('/nonexistent/notify.sock', (e) => errors.push(e));
    expect(n?.send('READY=1')).toBe(false);
    expect(n?.send('READY=1')).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/cannot notify systemd at \/nonexistent\/notify.sock/);
  });

  it('tend up sends READY=1 when the app is UP and STOPPING=1 on stop; services never see NOTIFY_SOCKET', async () => {
    const dir = project({
      'tend.yaml': `
services:
  web:
    command: env > web.env; exec sleep 3051
`,
    });
    const tag = testTag();
    cleanups.push(() => {
      killTagged(tag);
      removeDir(dir);
    });
    const socket = join(dir, 'notify.sock');
    const r = await receiver(socket);
    const t = startTend(['up'], {
      cwd: dir,
      env: { TEND_TEST_TAG: tag, NOTIFY_SOCKET: socket, WATCHDOG_USEC: '400000' },
    });
    await waitFor(() => r.messages.some((m) => m.startsWith('READY=1')), {
      what: `READY=1; tend said:\n${t.output()}`,
    });
    // the STATUS of each state before UP came first
    expect(r.messages.slice(0, 2)).toEqual(['STATUS=BOOT', 'STATUS=WARMUP: starting services']);
    // WatchdogSec=: pings at half the interval
    await waitFor(() => r.messages.includes('WATCHDOG=1'), { what: 'a watchdog ping' });

    await waitFor(() => existsSync(join(dir, 'web.env')));
    const env = readFileSync(join(dir, 'web.env'), 'utf8');
    expect(env).not.toMatch(/^(NOTIFY_SOCKET|WATCHDOG_USEC)=/m);
    expect(env).toMatch(/^TEND_INSTANCE=[\w.-]+:web$/m);

    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
    const stopping = r.messages.findIndex((m) => m.startsWith('STOPPING=1'));
    expect(stopping).toBeGreaterThan(r.messages.findIndex((m) => m.startsWith('READY=1')));
    expect(r.messages[stopping]).toBe('STOPPING=1\nSTATUS=STOPPING: received SIGTERM');
  });
});
