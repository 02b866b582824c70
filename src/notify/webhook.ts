import type { TendEvent } from '../events/index.js';
import { formatDuration } from '../time/index.js';
import { payload } from './format.js';
import type { Outcome } from './runner.js';

export const WEBHOOK_BACKOFF = { initialMs: 200, maxMs: 10_000 };

/** Userinfo and query strings often hold tokens; stats and stderr show the rest only. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return url;
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${formatDuration(timeoutMs)}`;
  const cause = e?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.message) return cause.code ? `${cause.message} (${cause.code})` : cause.message;
  return e?.message ?? String(err);
}

export function webhookDeliver(opts: {
  url: string;
  timeoutMs: number;
  headers: Record<string, string>;
  app: string;
  host: string;
}) {
  let valid = true;
  try {
    new URL(opts.url);
  } catch {
    valid = false;
  }
  const headers = { 'content-type': 'application/json', 'user-agent': 'tend', ...opts.headers };
  return async (events: TendEvent[], signal: AbortSignal): Promise<Outcome> => {
    if (!valid) return { ok: false, retry: false, error: `invalid URL ${JSON.stringify(opts.url)}` };
    let res: Response;
    try {
      res = await fetch(opts.url, {
        method: 'POST',
        headers,
        body: payload(events[0], opts.app, opts.host),
        signal: AbortSignal.any([signal, AbortSignal.timeout(opts.timeoutMs)]),
      });
    } catch (err) {
      return { ok: false, retry: true, error: describeFetchError(err, opts.timeoutMs) };
    }
    if (res.status >= 200 && res.status < 300) {
      // Release the connection for keep-alive without reading a body nobody needs.
      await res.body?.cancel().catch(() => {});
      return { ok: true };
    }
    const body = await res.text().then(
      (t) => t.replace(/\s+/g, ' ').trim().slice(0, 200),
      () => '',
    );
    const error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${body ? `: ${body}` : ''}`;
    const retry = res.status === 408 || res.status === 429 || res.status >= 500;
    return {
      ok: false,
      retry,
      error,
      retryAfterMs: retry ? retryAfterMs(res.headers.get('retry-after')) : undefined,
    };
  };
}
