import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TendEvent } from '../events/index.js';
import { redactWebhookUrl } from '../manifest/redact.js';
import { formatDuration, setLongTimeout } from '../time/index.js';
import { payload } from './format.js';
import type { Outcome } from './runner.js';

export const WEBHOOK_BACKOFF = { initialMs: 200, maxMs: 10_000 };

/** A webhook's URL as stats and stderr show it: scheme and host (its path, query or user info may hold a token). */
export const redactUrl = redactWebhookUrl;

function retryAfterMs(header: string | undefined): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/** The most of an error answer's body kept for the message. */
const ERROR_BODY_MAX = 200;

function describeRequestError(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  return err.code && !err.message.includes(err.code) ? `${err.message} (${err.code})` : err.message;
}

interface Answer {
  status: number;
  statusText: string;
  retryAfter?: string;
  body: string;
}

/**
 * One POST on a connection of its own, answered once the whole response has arrived. A receiver may answer
 * HTTP/1.0 without Content-Length (the body ends when it closes the connection, as Python's http.server does)
 * or serve one connection at a time: a kept-alive connection would leave the next event waiting on a server
 * that is still reading the idle one, so every event gets `Connection: close` and a fresh connection.
 */
function post(url: URL, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const auth =
      url.username || url.password
        ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        : undefined;
    const req = send(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        auth,
        agent: false,
        headers: { ...headers, connection: 'close', 'content-length': String(Buffer.byteLength(body)) },
        signal,
      },
      (res: IncomingMessage) => {
        const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          // a 2xx body nobody needs is read to its end and dropped; an error's is kept for the message
          if (!ok && text.length < ERROR_BODY_MAX * 4) text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            retryAfter: res.headers['retry-after'],
            body: text,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export function webhookDeliver(opts: {
  url: string;
  timeoutMs: number;
  headers: Record<string, string>;
  app: string;
  host: string;
}) {
  let url: URL | undefined;
  try {
    url = new URL(opts.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') url = undefined;
  } catch {
    url = undefined;
  }
  const headers = { 'content-type': 'application/json', 'user-agent': 'tend', ...opts.headers };
  return async (events: TendEvent[], signal: AbortSignal): Promise<Outcome> => {
    // never the URL itself in the message: it may carry a password
    if (!url) return { ok: false, retry: false, error: `invalid URL ${redactUrl(opts.url)} (http or https)` };
    let res: Answer;
    // not AbortSignal.timeout: it throws past 2^32 ms, and a user's timeout may be any duration
    const expiry = new AbortController();
    const timeout = expiry.signal;
    const timer = setLongTimeout(() => expiry.abort(), opts.timeoutMs).unref();
    try {
      res = await post(
        url,
        payload(events[0], opts.app, opts.host),
        headers,
        AbortSignal.any([signal, timeout]),
      );
    } catch (err) {
      if (timeout.aborted)
        return { ok: false, retry: true, error: `no answer within ${formatDuration(opts.timeoutMs)}` };
      return {
        ok: false,
        retry: true,
        error: describeRequestError(err as NodeJS.ErrnoException),
      };
    } finally {
      timer.clear();
    }
    if (res.status >= 200 && res.status < 300) return { ok: true };
    const body = res.body.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_MAX);
    const error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${body ? `: ${body}` : ''}`;
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    return {
      ok: false,
      retry,
      error,
      retryAfterMs: retry ? retryAfterMs(res.retryAfter) : undefined,
    };
  };
}
