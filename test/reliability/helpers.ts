/**
 * Shared plumbing of the reliability suite: scratch projects, /proc readers (zombies, RSS, processes that
 * carry a test's tag), the control API over the unix socket, tmpfs mounts, a TCP proxy that can add latency
 * or cut the line, and the tally every fault test reports its "tried N" counts through.
 *
 * Every resource is registered for cleanup in the file's afterEach/afterAll (`cleanupAll`), so a failing
 * test still unmounts, kills what it started and removes its folders.
 */
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { stopAllTends } from '../helpers/cli.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** one JSON object a line, appended by every test; merged into reliability.json by summary-setup.ts */
export const SUMMARY_LINES = join(ROOT, 'test-results', 'reliability.jsonl');

// ---------------------------------------------------------------------------------------------------------
// the tally: "tried N" per fault

export interface Tally {
  /** what was tried, e.g. { crashes: 1234, services: 50 } */
  tried: Record<string, number>;
  /** figures worth keeping (memory, latencies, counts observed) */
  figures: Record<string, number | string>;
  add(key: string, n?: number): void;
  set(key: string, v: number | string): void;
}

/**
 * Starts the tally of the current test. When the test finishes (passed or failed) one line goes to the
 * console and one JSON line to SUMMARY_LINES.
 */
export function tally(fault: string): Tally {
  const t: Tally = {
    tried: {},
    figures: {},
    add(key, n = 1) {
      t.tried[key] = (t.tried[key] ?? 0) + n;
    },
    set(key, v) {
      t.figures[key] = v;
    },
  };
  const started = Date.now();
  onTestFinished((ctx) => {
    const raw = ctx.task.result?.state ?? 'unknown';
    // `it.fails`: a known failure (FINDINGS.md) shows as such, and a fixed one as a surprise to act on
    const state = ctx.task.fails ? (raw === 'fail' ? 'known-failure' : 'fixed-remove-fails') : raw;
    const entry = {
      fault,
      result: state,
      durationMs: Date.now() - started,
      tried: t.tried,
      figures: t.figures,
    };
    const tried = Object.entries(t.tried)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const figs = Object.entries(t.figures)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(
      `[reliability] ${state.toUpperCase()} ${fault}: tried ${tried || '-'}${figs ? ` | ${figs}` : ''} (${entry.durationMs} ms)`,
    );
    try {
      mkdirSync(dirname(SUMMARY_LINES), { recursive: true });
      appendFileSync(SUMMARY_LINES, `${JSON.stringify(entry)}\n`);
    } catch {
      // the summary is a convenience; the test's own result stands
    }
  });
  return t;
}

// ---------------------------------------------------------------------------------------------------------
// cleanup registry

const cleanups: Array<() => void | Promise<void>> = [];

/** Registers cleanup work; runs in reverse order in cleanupAll, errors are collected, never skipped. */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

/** Stops every tend of the test, then everything registered with onCleanup (mounts before folders). */
export async function cleanupAll(): Promise<void> {
  const errors: unknown[] = [];
  try {
    await stopAllTends(5000);
  } catch (e) {
    errors.push(e);
  }
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'reliability cleanup failed');
}

export function scratchDir(prefix = 'tend-rel-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onCleanup(() => {
    // processes left by a SIGKILLed tend carry the folder in their environment: stop them first
    killTagged(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** A folder with `tend.yaml` and other files (relative paths); shell scripts get mode 0755. */
export function project(manifest: string, files: Record<string, string> = {}): string {
  const dir = scratchDir();
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  for (const [name, text] of Object.entries(files)) {
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// /proc

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  comm: string;
}

export function procInfo(pid: number): ProcInfo | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const rest = stat.slice(close + 2).split(' ');
  return { pid, state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), comm };
}

export function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = procInfo(Number(name));
    if (p) out.push(p);
  }
  return out;
}

/** Every process below `root` (not root itself), by the ppid chain. */
export function descendants(root: number, procs = allProcs()): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = byParent.get(p.ppid) ?? [];
    list.push(p);
    byParent.set(p.ppid, list);
  }
  const out: ProcInfo[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    for (const c of byParent.get(pid) ?? []) {
      out.push(c);
      stack.push(c.pid);
    }
  }
  return out;
}

/** Zombies whose parent is `pid` or below it. */
export function zombiesUnder(pid: number): ProcInfo[] {
  return descendants(pid).filter((p) => p.state === 'Z');
}

/** Resident set size in kB, or 0 when the process is gone. */
export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Open file descriptors of a process (0 when gone). */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/**
 * Live (non-zombie) processes whose environment holds `RELTAG=<tag>`: manifests of this suite give every
 * service that variable, so a service outliving its tend (SIGKILL) is found wherever it was reparented.
 */
export function tagged(tag: string): ProcInfo[] {
  const needle = Buffer.from(`RELTAG=${tag}\0`);
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let env: Buffer;
    try {
      env = readFileSync(`/proc/${pid}/environ`);
    } catch {
      continue;
    }
    const at = env.indexOf(needle);
    if (at < 0 || (at > 0 && env[at - 1] !== 0)) continue;
    const p = procInfo(pid);
    if (p && p.state !== 'Z') out.push(p);
  }
  return out;
}

/** SIGKILLs the processes tagged `tag` (the services of one test project); returns how many. */
export function killTagged(tag: string): number {
  let n = 0;
  for (const p of tagged(tag)) {
    try {
      process.kill(p.pid, 'SIGKILL');
      n++;
    } catch {}
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// the control API

export interface ApiAnswer {
  status: number;
  body: string;
  json<T = unknown>(): T;
}

/** One request to tend's unix socket, with a deadline. */
export function api(
  socketPath: string,
  path: string,
  opts: { method?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        socketPath,
        path,
        method: opts.method ?? 'GET',
        headers: payload ? { 'content-type': 'application/json' } : {},
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body, json: <T>() => JSON.parse(body) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${opts.timeoutMs ?? 5000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export interface ServiceStatus {
  name: string;
  state: string;
  reason?: string;
  pid?: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null };
}

export async function status(socketPath: string, timeoutMs = 5000) {
  const r = await api(socketPath, '/api/status', { timeoutMs });
  if (r.status !== 200) throw new Error(`/api/status: ${r.status} ${r.body}`);
  return r.json<{
    app: { state: string; pid: number; kv: { connected: boolean; error?: string } };
    services: ServiceStatus[];
  }>();
}

/** The value of one Prometheus series (sum over label sets matching `labels`), from /metrics. */
export async function metric(socketPath: string, name: string, labels: Record<string, string> = {}) {
  const r = await api(socketPath, '/metrics');
  let sum = 0;
  let found = false;
  for (const line of r.body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) continue;
    sum += Number(m[3]);
    found = true;
  }
  return found ? sum : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// tmpfs

/** Mounts a tmpfs of `size` on `dir` (created); unmounted in cleanup (lazily if busy). */
export function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  onCleanup(() => {
    try {
      execFileSync('umount', [dir], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// a TCP proxy with faults

export interface FaultProxy {
  readonly port: number;
  readonly endpoint: string;
  /** delay added to every chunk, each way (ms) */
  latencyMs: number;
  /** drops every connection and refuses new ones until restore() */
  cut(): void;
  restore(): void;
  /** connections accepted so far */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Like test/helpers/etcd.ts's proxy, plus latency: every chunk is held `latencyMs` before it is passed on,
 * in order (a slow link, not a reordering one).
 */
export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  let connections = 0;
  const delayed = (from: Socket, to: Socket) => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      const ms = proxy.latencyMs;
      if (ms <= 0) {
        chain = chain.then(() => {
          if (!to.destroyed) to.write(chunk);
        });
        return;
      }
      chain = chain
        .then(() => new Promise<void>((r) => setTimeout(r, ms)))
        .then(() => {
          if (!to.destroyed) to.write(chunk);
        });
    });
  };
  const server: Server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    connections++;
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const proxy: FaultProxy = {
    port,
    endpoint: `127.0.0.1:${port}`,
    latencyMs: 0,
    cut() {
      isCut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      isCut = false;
    },
    get connections() {
      return connections;
    },
    close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The median of a list of numbers (0 for none). */
export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
