/**
 * One attempt of a check: HTTP (2xx), TCP connect, or a command (exit 0). Every attempt ends: a timeout is a
 * failure that says so, an abort (the service is stopping) resolves at once, and nothing is left running.
 */
import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Probe } from '../manifest/types.js';
import { argvOf, signalGroup } from '../supervisor/index.js';

/** The probes that can be attempted on demand (a log probe waits for lines instead). */
export type AttemptProbe = Exclude<Probe, { kind: 'log' }>;

export interface ProbeResult {
  ok: boolean;
  /** short, one line: `HTTP 200`, `connected to 127.0.0.1:8080`, the command's last output, or why it failed */
  output: string;
}

export interface AttemptOptions {
  timeoutMs: number;
  /** exec probes run here, with this environment (the service's) */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** aborting ends the attempt at once (its result is then meaningless) */
  signal?: AbortSignal;
}

const OUTPUT_MAX = 300;
const BODY_MAX = 512;

export function runProbe(probe: AttemptProbe, opts: AttemptOptions): Promise<ProbeResult> {
  switch (probe.kind) {
    case 'http':
      return httpProbe(probe.url, opts);
    case 'tcp':
      return tcpProbe(probe.host, probe.port, opts);
    case 'exec':
      return execProbe(probe, opts);
  }
}

export function describeProbe(probe: Probe): string {
  switch (probe.kind) {
    case 'http':
      return `GET ${probe.url}`;
    case 'tcp':
      return `TCP ${probe.host}:${probe.port}`;
    case 'exec':
      return probe.command.kind === 'shell' ? probe.command.script : probe.command.argv.join(' ');
    case 'log':
      return `log /${probe.pattern}/`;
  }
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  return `${+(ms / 60_000).toFixed(1)}m`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > OUTPUT_MAX ? `…${flat.slice(-OUTPUT_MAX)}` : flat;
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.message ?? String(err);
}

/** Settles once, whatever fires first: the outcome, the timeout or the abort. */
function race(
  opts: AttemptOptions,
  start: (finish: (r: ProbeResult) => void) => () => void,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let cleanup: () => void = () => {};
    const finish = (r: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      cleanup();
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, output: 'cancelled' });
    const timer = setTimeout(
      () => finish({ ok: false, output: `timed out after ${formatMs(opts.timeoutMs)}` }),
      opts.timeoutMs,
    );
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    cleanup = start(finish);
    if (settled) cleanup();
  });
}

function httpProbe(url: string, opts: AttemptOptions): Promise<ProbeResult> {
  return race(opts, (finish) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      finish({ ok: false, output: `bad URL ${url}` });
      return () => {};
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    // A fresh connection per attempt (agent: false): a pooled socket to a restarted server would fail for the
    // wrong reason. Certificates are not verified, as Kubernetes' httpGet probes do: this asks "does it answer".
    const req = send(
      target,
      {
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'tend-probe', connection: 'close' },
        rejectUnauthorized: false,
      },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < BODY_MAX) body += chunk;
        });
        const done = () => {
          const ok = status >= 200 && status < 300;
          const detail = oneLine(body.slice(0, BODY_MAX));
          finish({ ok, output: ok || !detail ? `HTTP ${status}` : `HTTP ${status}: ${detail}` });
        };
        res.on('end', done);
        res.on('error', done);
      },
    );
    req.on('error', (err) => finish({ ok: false, output: errorText(err) }));
    req.end();
    return () => req.destroy();
  });
}

function tcpProbe(host: string, port: number, opts: AttemptOptions): Promise<ProbeResult> {
  return race(opts, (finish) => {
    const socket = connect({ host, port });
    socket.once('connect', () => finish({ ok: true, output: `connected to ${host}:${port}` }));
    socket.once('error', (err) => finish({ ok: false, output: errorText(err) }));
    return () => socket.destroy();
  });
}

function execProbe(probe: Extract<Probe, { kind: 'exec' }>, opts: AttemptOptions): Promise<ProbeResult> {
  return race(opts, (finish) => {
    const [file, args] = argvOf(probe.command);
    let out = '';
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: opts.env,
      // its own group, so that a timeout kills whatever the command started too
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-4 * OUTPUT_MAX);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let exited = false;
    child.once('error', (err) => {
      exited = true;
      finish({ ok: false, output: `could not run: ${errorText(err)}` });
    });
    child.once('close', (code, signal) => {
      exited = true;
      const text = oneLine(out);
      const status = signal ? `killed by ${signal}` : `exit code ${code}`;
      finish({ ok: code === 0, output: text ? (code === 0 ? text : `${status}: ${text}`) : status });
    });
    return () => {
      if (!exited && child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
    };
  });
}
