/**
 * One attempt of a check: HTTP (2xx), TCP connect, or a command (exit 0). Every attempt ends: a timeout is a
 * failure that says so, an abort (the service is stopping) resolves at once, and nothing is left running.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Probe } from '../manifest/types.js';
import { describeRun, runCommand, type UserIds } from '../procs/index.js';
import { argvOf } from '../supervisor/index.js';
import { formatDuration, setLongTimeout } from '../time/index.js';

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
  /** exec probes run as the service's `user:` (uid, gid and groups), like the service itself */
  user?: UserIds;
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
      timer.clear();
      opts.signal?.removeEventListener('abort', onAbort);
      cleanup();
      resolve(r);
    };
    const onAbort = () => finish({ ok: false, output: 'cancelled' });
    // a user's duration: setTimeout would fire at once past 24.8 days
    const timer = setLongTimeout(
      () => finish({ ok: false, output: `timed out after ${formatDuration(opts.timeoutMs)}` }),
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

/** After a timed-out or cancelled exec probe is sent SIGTERM, how long its group gets before SIGKILL. */
const EXEC_KILL_GRACE_MS = 1000;

function execProbe(probe: Extract<Probe, { kind: 'exec' }>, opts: AttemptOptions): Promise<ProbeResult> {
  return race(opts, (finish) => {
    // The one runner: own process group, killed by the one rule when the attempt ends first (timeout, abort).
    const stop = new AbortController();
    void runCommand(argvOf(probe.command).flat(), {
      cwd: opts.cwd,
      env: opts.env,
      uid: opts.user?.uid,
      gid: opts.user?.gid,
      groups: opts.user?.groups,
      killAfterMs: EXEC_KILL_GRACE_MS,
      maxOutput: 4 * OUTPUT_MAX,
      maxStdout: 0,
      signal: stop.signal,
    }).then((r) => {
      if (r.error !== undefined) return finish({ ok: false, output: `could not run: ${r.error}` });
      const text = oneLine(r.output);
      const status = describeRun(r);
      finish({ ok: r.code === 0, output: text ? (r.code === 0 ? text : `${status}: ${text}`) : status });
    });
    return () => stop.abort();
  });
}
