/**
 * Control clients that connect and never read, against the built `tend up` with a TCP listener on loopback
 * (open to every local user) and tend's descriptors limited to 512 (prlimit, as a container might have):
 *
 * - 60 clients on the unix socket ask for 100 000 log lines each and never read the answer;
 * - 40 SSE clients (`/api/events?since=0`) and 10 log followers on TCP never read;
 * - 600 more TCP connections that send nothing at all.
 *
 * Meanwhile a crashing service must keep being restarted (spawning needs descriptors), the CLI must answer,
 * tend's memory and descriptors stay bounded, stalled answers are dropped after a while, and SIGTERM still
 * stops everything at once.
 */
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { cleanupAll, fdCount, onCleanup, project, rssKb, sleep, status, tally } from './helpers.js';

afterEach(cleanupAll);

const STALL_MS = 30_000;

/** Opens a connection that sends `request` (if any) and then never reads. */
function neverReads(
  target: { path: string } | { port: number; from?: string },
  request?: string,
): Promise<Socket> {
  return new Promise((resolve) => {
    const s =
      'path' in target
        ? connect(target.path)
        : connect({ port: target.port, host: '127.0.0.1', localAddress: target.from });
    s.on('error', () => {});
    s.once('connect', () => {
      if (request) s.write(request);
      s.pause();
      resolve(s);
    });
    s.once('close', () => resolve(s));
  });
}

let token = '';
const get = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`;
/** streams are bounded per client address (8): spread over ten loopback addresses, as ten clients would be */
const from = (i: number) => `127.0.0.${2 + (i % 10)}`;

describe('control clients that never read', () => {
  it('never-reading clients and a connection flood: services keep restarting, memory and fds stay bounded', async () => {
    const t = tally('control clients that connect and never read');
    const dir = project(`http: 127.0.0.1:0
services:
  big:
    command: 'seq -f "a log line of about a hundred bytes, with its number at the end, padded out %.0f" 1 100000; exec sleep 3600'
    logs: { stdout: false }
  flappy:
    command: echo flap; sleep 0.2; exit 1
    restart: { policy: always, backoff: { initial: 50ms, max: 100ms }, max_failures: 0 }
    logs: { stdout: false }
`);
    const tend = startTend(['up'], { cwd: dir, env: { RELTAG: dir } });
    const sock = join(dir, '.tend', 'tend.sock');
    await tend.waitForOutput(/app UP/, 20_000);
    const printed = await tend.waitForOutput(/on http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+)/);
    const port = Number(printed[1]);
    token = printed[2];
    const pid = tend.proc.pid!;
    execFileSync('prlimit', [`--pid=${pid}`, '--nofile=512:']);
    await waitFor(async () => (await status(sock)).services.some((s) => s.name === 'big'), {
      what: 'status',
    });
    await sleep(1000); // big's 100 000 lines are in
    const rss0 = rssKb(pid);
    const fds0 = fdCount(pid);
    const clients: Socket[] = [];
    onCleanup(() => {
      for (const c of clients) c.destroy();
    });

    for (let i = 0; i < 60; i++) {
      clients.push(await neverReads({ path: sock }, get('/api/logs?service=big&n=100000')));
      t.add('big_answers_unread');
    }
    for (let i = 0; i < 40; i++) {
      clients.push(await neverReads({ port, from: from(i) }, get('/api/events?since=0')));
      t.add('sse_unread');
    }
    for (let i = 0; i < 10; i++) {
      clients.push(await neverReads({ port, from: from(i) }, get('/api/logs?service=flappy&follow=1')));
      t.add('followers_unread');
    }
    const flood = await Promise.all(Array.from({ length: 600 }, () => neverReads({ port })));
    clients.push(...flood);
    t.add('idle_connections', flood.length);

    // while they hang on: flappy keeps being restarted, the CLI answers, memory and fds stay bounded
    const restarts = async () => (await status(sock)).services.find((s) => s.name === 'flappy')!.restarts;
    const r0 = await restarts();
    let rssPeak = 0;
    let fdsPeak = 0;
    let cliWorst = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(500);
      rssPeak = Math.max(rssPeak, rssKb(pid));
      fdsPeak = Math.max(fdsPeak, fdCount(pid));
      const at = Date.now();
      const st = runTend(['status'], { cwd: dir });
      cliWorst = Math.max(cliWorst, Date.now() - at);
      t.add('cli_calls');
      expect(st.code, st.stderr).toBe(0);
    }
    const r1 = await restarts();
    t.set('flappy_restarts_meanwhile', r1 - r0);
    t.set('rss_before_mb', Math.round(rss0 / 1024));
    t.set('rss_peak_mb', Math.round(rssPeak / 1024));
    t.set('fds_before', fds0);
    t.set('fds_peak', fdsPeak);
    t.set('cli_worst_ms', cliWorst);
    expect(tend.proc.exitCode).toBeNull();
    expect(r1 - r0).toBeGreaterThan(5);
    expect(tend.output()).not.toMatch(/EMFILE/);
    expect(fdsPeak).toBeLessThan(400);
    expect(rssPeak).toBeLessThan(rss0 + 400 * 1024);

    // answers nobody takes are dropped after a while, and their descriptors with them
    await waitFor(() => fdCount(pid) < fdsPeak - 40, {
      timeoutMs: STALL_MS + 15_000,
      intervalMs: 500,
      what: 'stalled answers dropped',
    });
    t.set('fds_after_stall', fdCount(pid));

    const at = Date.now();
    tend.kill('SIGTERM');
    expect(await tend.exit(15_000)).toBe(0);
    t.set('stop_ms', Date.now() - at);
  });
});
