/**
 * The two long-lived answers of the API: `/api/events` (server-sent events from the bus) and
 * `/api/logs?follow=1` (NDJSON lines). Both protect tend from slow readers: output a client does not take is
 * bounded, and past the bound the client is dropped (SSE: it reconnects with Last-Event-ID and catches up
 * from the bus history) or lines are skipped and counted (logs).
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TendEvent } from '../events/index.js';
import { type LogLine, parseLogLine, readLastLines } from '../logs/index.js';
import type { Runtime } from '../runtime/index.js';
import type { LogLineView } from './types.js';

/** bytes a client may leave unread before it is cut off (SSE) or lines are skipped (logs) */
const MAX_BACKLOG = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

export function serveEvents(rt: Runtime, req: IncomingMessage, res: ServerResponse, url: URL): void {
  const kinds = url.searchParams.get('kinds');
  const wanted = kinds ? new Set(kinds.split(',').map((k) => k.trim()) as TendEvent['kind'][]) : undefined;
  const lastId = Number(req.headers['last-event-id'] ?? url.searchParams.get('since') ?? Number.NaN);
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let closed = false;
  const send = (e: TendEvent) => {
    if (closed || (wanted && !wanted.has(e.kind))) return;
    if (res.writableLength > MAX_BACKLOG) {
      // Cut off rather than skip silently: on reconnect the client resumes after the last id it got.
      rt.metrics.eventsDropped.inc('sse');
      stop();
      res.destroy();
      return;
    }
    res.write(`id: ${e.seq}\ndata: ${JSON.stringify(e)}\n\n`);
  };
  // Without a Last-Event-ID the client starts from now (it reads /api/status for the present state).
  if (Number.isFinite(lastId)) {
    const history = rt.bus.recent();
    // An id beyond anything published comes from an earlier tend process (seq restarts at 1): replay it all.
    const from = lastId > (history.at(-1)?.seq ?? 0) ? 0 : lastId;
    for (const e of history) if (e.seq > from) send(e);
  }
  const unsubscribe = rt.bus.subscribe(send);
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const stop = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(heartbeat);
  };
  res.on('close', stop);
}

const toView = (l: LogLine): LogLineView => ({
  time: l.time,
  service: l.service,
  stream: l.stream,
  text: l.text,
});

/**
 * The last `n` lines of one service: the in-memory ring, reaching back into the log file (which also holds
 * earlier runs of tend) when the ring is too short. The ring is read synchronously, before any await, so a
 * caller that subscribes to new lines in the same tick neither misses nor repeats one.
 */
export async function lastLines(rt: Runtime, service: string, n: number): Promise<LogLineView[]> {
  const log = rt.stack.log(service);
  if (!log || n <= 0) return [];
  const ring = log.tail(n);
  const file = rt.stack.runner(service)?.plan.logs.file;
  if (ring.length >= n || !file || !existsSync(file)) return ring.map(toView);
  const seen = log.stats().lines;
  await log.flush().catch(() => undefined);
  let older: LogLine[] = [];
  try {
    // Lines that came while flushing are in the file too, after the ring's: read enough to cover them.
    const since = log.stats().lines - seen;
    const fromFile = (await readLastLines(file, n + since + 16))
      .map(
        (text) =>
          parseLogLine(text, service) ?? { time: Number.NaN, service, stream: 'stdout' as const, text },
      )
      .filter((l): l is LogLine => l !== undefined);
    const at = ring.length === 0 ? fromFile.length : indexOfRun(fromFile, ring);
    // not found (a rotation in between, lines lost to a full disk): fall back to the clock
    older = at >= 0 ? fromFile.slice(0, at) : fromFile.filter((l) => l.time < ring[0].time);
  } catch {
    // an unreadable file leaves the ring's lines, which is what there is
  }
  return [...older, ...ring].slice(-n).map(toView);
}

/** Where the ring's first lines start in the file's lines (searching from the end), or -1. */
function indexOfRun(lines: LogLine[], ring: LogLine[]): number {
  const k = Math.min(ring.length, 8);
  // a raw file without stamps has neither time nor stream: its lines match on text alone
  const same = (a: LogLine, b: LogLine) =>
    a.text === b.text && (Number.isNaN(a.time) || (a.time === b.time && a.stream === b.stream));
  for (let i = lines.length - 1; i >= 0; i--) {
    let j = 0;
    while (j < k && i + j < lines.length && same(lines[i + j], ring[j])) j++;
    if (j === k || (j > 0 && i + j === lines.length)) return i;
  }
  return -1;
}

/** The last `n` lines of several services, merged by time. */
export async function mergedLines(rt: Runtime, services: string[], n: number): Promise<LogLineView[]> {
  const all = (await Promise.all(services.map((s) => lastLines(rt, s, n)))).flat();
  // stable sort: lines of one service keep their order when they share a millisecond
  all.sort((a, b) => a.time - b.time);
  return all.slice(-n);
}

/**
 * `services` are the ones asked for; `all` means "every service", which when following includes services a
 * reload adds. A reload replaces a changed service's log, so followers move to the new one.
 */
export async function serveLogs(
  rt: Runtime,
  res: ServerResponse,
  opts: { services: string[]; all: boolean; n: number; follow: boolean },
): Promise<void> {
  const { services, all, n, follow } = opts;
  if (!follow) {
    const lines = await mergedLines(rt, services, n);
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ lines }));
    return;
  }
  // Subscribe before the rings are read (same tick): new lines wait in `pending` until the first ones are out.
  let pending: LogLineView[] | undefined = [];
  const offs = new Map<string, () => void>();
  const follow1 = (name: string) => {
    offs.get(name)?.();
    offs.delete(name);
    const off = rt.stack.log(name)?.onLine((l) => (pending ? pending.push(toView(l)) : write(toView(l))));
    if (off) offs.set(name, off);
  };
  for (const s of services) follow1(s);
  const offReload = rt.control.onReload((r) => {
    for (const name of r.removed) {
      offs.get(name)?.();
      offs.delete(name);
    }
    for (const name of [...r.changed, ...r.added]) if (all || services.includes(name)) follow1(name);
  });
  // Proxies and curl want to see something flowing even when the service is quiet.
  const keepalive = setInterval(() => res.write('\n'), HEARTBEAT_MS);
  keepalive.unref();
  res.on('close', () => {
    clearInterval(keepalive);
    offReload();
    for (const off of offs.values()) off();
  });
  const initial = mergedLines(rt, services, n);
  res.writeHead(200, {
    'content-type': 'application/x-ndjson; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no',
  });
  let skipped = 0;
  const write = (l: LogLineView) => {
    if (res.writableLength > MAX_BACKLOG) {
      skipped++;
      return;
    }
    if (skipped > 0) {
      const note: LogLineView = {
        time: Date.now(),
        service: l.service,
        stream: 'tend',
        text: `${skipped} lines skipped (this reader is slower than the service); the log file has them all`,
      };
      res.write(`${JSON.stringify(note)}\n`);
      skipped = 0;
    }
    res.write(`${JSON.stringify(l)}\n`);
  };
  for (const l of await initial) write(l);
  const waiting = pending;
  pending = undefined;
  for (const l of waiting) write(l);
}
