/**
 * The CLI's side of the API: HTTP over the unix socket with node:http only, so that `tend status` loads
 * nothing heavy. Errors say what to do next.
 */
import { type RequestOptions, request } from 'node:http';
import { type Located, shownPath } from './locate.js';
import type { ErrorBody } from './types.js';

/** No tend answers on the socket: nothing to talk to (the CLI exits 1, or falls back to offline work). */
export class NotRunningError extends Error {}

/** The API answered with an error status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error);
  }
}

/** Where a request goes: the unix socket, or TCP with the bearer token (`--url` / TEND_URL). */
function target(loc: Located): RequestOptions {
  if (!loc.url) return { socketPath: loc.socket };
  const u = new URL(loc.url);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 80),
    headers: loc.token ? { authorization: `Bearer ${loc.token}` } : {},
  };
}

function notRunning(loc: Located, code: string | undefined, message: string): Error {
  if (loc.url) {
    return code === 'ECONNREFUSED'
      ? new NotRunningError(`no tend answers at ${loc.url} (connection refused); start one with \`tend up\``)
      : new Error(`cannot reach tend at ${loc.url}: ${message}`);
  }
  const sock = shownPath(loc.socket);
  const what = loc.manifest ? shownPath(loc.manifest) : loc.how === 'default' ? 'this folder' : sock;
  switch (code) {
    case 'ENOENT':
      return new NotRunningError(
        `no tend is running for ${what} (socket ${sock} not found); start one with \`tend up\`` +
          (loc.how === 'default' ? ' (or pass -f FILE / --socket PATH)' : ''),
      );
    case 'ECONNREFUSED':
      return new NotRunningError(
        `no tend is running for ${what} (socket ${sock} is left over from one that stopped); start one with \`tend up\``,
      );
    case 'EACCES':
      return new Error(
        `permission denied on ${sock}: the socket belongs to the user tend runs as; run this as that user`,
      );
    default:
      return new Error(`cannot reach tend at ${sock}: ${message}`);
  }
}

export interface Reply<T> {
  status: number;
  body: T;
}

/** One JSON request; resolves with the parsed body of a 2xx answer, rejects with ApiError otherwise. */
export function call<T>(loc: Located, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const to = target(loc);
    const req = request(
      {
        ...to,
        path,
        method,
        headers: {
          ...to.headers,
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = { error: text.trim() || `HTTP ${res.statusCode}` };
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(parsed as T);
          else reject(new ApiError(status, (parsed as ErrorBody) ?? { error: `HTTP ${status}` }));
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => reject(notRunning(loc, err.code, err.message)));
    if (payload) req.write(payload);
    req.end();
  });
}

/** Streams an NDJSON answer, calling `onItem` per line; resolves when tend ends the stream. */
export function stream<T>(loc: Located, path: string, onItem: (item: T) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ ...target(loc), path, method: 'GET' }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: ErrorBody;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ErrorBody;
          } catch {
            body = { error: `HTTP ${status}` };
          }
          reject(new ApiError(status, body));
        });
        return;
      }
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i = buf.indexOf('\n');
        while (i !== -1) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (line.trim() !== '') onItem(JSON.parse(line) as T);
          i = buf.indexOf('\n');
        }
      });
      res.on('end', () => resolve());
      // tend stopping closes the stream: that is the end of the logs, not an error
      res.on('aborted', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(notRunning(loc, err.code, err.message)));
    req.end();
  });
}
