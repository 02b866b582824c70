/**
 * Who may do what on the control listeners (see docs/security.md for the threat model).
 *
 * - The unix socket (mode 0600, in tend's 0700 state folder) is the tokenless way in: whoever can open it is
 *   tend's user.
 * - Over TCP every route but the probes (`/healthz`, `/readyz`), `/metrics` and the dashboard page itself needs
 *   `Authorization: Bearer <token>`, on loopback too: a loopback port is open to every local user. The token is
 *   TEND_TOKEN, or, when that is unset, one tend makes at start (32 random bytes) and keeps in
 *   `<state_dir>/token` (0600) for the CLI and in the dashboard URL it prints, as Jupyter does.
 * - A loopback listener also answers only for loopback Host names (DNS rebinding) and refuses mutating calls
 *   from another origin.
 * - Long-lived streams (SSE, log followers) are bounded per client address and in all, so that they cannot take
 *   the connections the probes need.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';

export interface Listener {
  kind: 'unix' | 'tcp';
  loopback: boolean;
  /** the bearer token TCP requests must carry */
  token?: string;
  streams: StreamBudget;
}

/** A fresh token: 32 bytes from the kernel's CSPRNG, URL-safe. */
export function makeToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Writes the token to `path` for tend's user only: whatever was there is removed first and the new file is
 * created exclusively (never through a symlink) with mode 0600 before the token is written.
 */
export function writeTokenFile(path: string, token: string): void {
  try {
    unlinkSync(path);
  } catch {}
  const fd = openSync(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    writeSync(fd, `${token}\n`);
  } finally {
    closeSync(fd);
  }
}

export function removeTokenFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {}
}

/** Compares in constant time (for equal lengths; the length of a random token is no secret). */
export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(h) ||
    h === '::1' ||
    /^::ffff:127\.\d+\.\d+\.\d+$/.test(h)
  );
}

/** The routes a TCP client may use without the token: probes, Prometheus and the dashboard page (no data). */
export function isOpenRoute(path: string): boolean {
  return (
    path === '/healthz' || path === '/readyz' || path === '/metrics' || path === '/' || path === '/index.html'
  );
}

/** Why a request may not go on (status and message), or undefined when it may. */
export function refusal(
  req: IncomingMessage,
  l: Listener,
  path: string,
  mutating: boolean,
): [number, string] | undefined {
  if (l.kind === 'unix') return undefined;
  if (l.loopback) {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '' && !isLoopbackHost(host)) {
      return [
        421,
        `this listener is bound to loopback and answers only for loopback host names, not ${host}`,
      ];
    }
    const origin = req.headers.origin;
    // `Origin: null` (a sandboxed frame, a data: page) is a page of unknown origin: refused like any other.
    if (mutating && origin) {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {}
      if (originHost !== req.headers.host) return [403, `cross-origin request from ${origin} refused`];
    }
  }
  if (isOpenRoute(path)) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (!l.token || !m || !safeEqual(m[1].trim(), l.token)) {
    return [
      401,
      'missing or wrong token: send `Authorization: Bearer <token>` (TEND_TOKEN, or the token tend printed at ' +
        'start with the dashboard URL, kept in <state_dir>/token for its user), or use the unix socket (the tend CLI)',
    ];
  }
  return undefined;
}

/**
 * Bounds on open streams of one listener. Past either one a new stream is answered 429 with Retry-After and
 * its connection closed, so what streams hold never reaches the listener's connection limit.
 */
export interface StreamBudget {
  perClient: number;
  total: number;
  open: Map<string, number>;
  count: number;
}

export const STREAMS_PER_CLIENT = 8;
export const STREAMS_TOTAL = 64;

export function streamBudget(perClient: number, total: number): StreamBudget {
  return { perClient, total, open: new Map(), count: 0 };
}

/** Takes one stream for the client of `req`: a release function, or why not. */
export function takeStream(b: StreamBudget, req: IncomingMessage): (() => void) | string {
  const client = (req.socket.remoteAddress ?? 'local').replace(/^::ffff:/, '');
  const mine = b.open.get(client) ?? 0;
  if (b.count >= b.total) return `${b.count} streams are open, the most this listener keeps`;
  if (mine >= b.perClient) return `${mine} streams are open from ${client}, the most one client may keep`;
  b.count++;
  b.open.set(client, mine + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    b.count--;
    const left = (b.open.get(client) ?? 1) - 1;
    if (left > 0) b.open.set(client, left);
    else b.open.delete(client);
  };
}
