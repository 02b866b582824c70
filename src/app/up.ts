/**
 * `tend up`: the composition root. It loads nothing itself: given a Plan it builds the event bus and the
 * stack, attaches the optional modules (control plane, …) to one Runtime context, and owns the
 * process-level concerns: signals and the exit code. Modules never import each other through here.
 */
import { mkdirSync } from 'node:fs';
import { type AppState, type Bus, createBus, type TendEvent } from '../events/index.js';
import { createEcho } from '../logs/index.js';
import type { Plan } from '../manifest/types.js';
import { createStack, type Stack } from '../supervisor/index.js';

export interface UpOptions {
  plan: Plan;
  env?: NodeJS.ProcessEnv;
  /** print one line per state change on stdout (tend's own voice in `docker logs`) */
  printEvents?: boolean;
  out?: NodeJS.WritableStream;
  /** modules to attach, in order; each is closed in reverse order at shutdown */
  attach?: Attachment[];
}

/** What an attached module sees: everything it may read or drive. */
export interface Runtime {
  plan: Plan;
  bus: Bus;
  stack: Stack;
  env: NodeJS.ProcessEnv;
  out: NodeJS.WritableStream;
  /** stops the stack and ends tend with `code` */
  shutdown(code: number, reason: string): Promise<number>;
  /** the app lifecycle state (BOOT … UP … STOPPED); set by the lifecycle module */
  appState(): AppState;
  /** the effective settings (whaleware CFG); set by the lifecycle module once loaded */
  settings(): Record<string, unknown>;
}

/** A module plugged into `tend up`: started before the services, closed after they stopped. */
export type Attachment = (rt: Runtime) => Promise<{ close(): Promise<void> } | undefined>;

export interface Running extends Runtime {
  /** resolves with tend's exit code once everything has stopped */
  done: Promise<number>;
}

export const EXIT = { ok: 0, internal: 1, usage: 2, incomplete: 3, stage: 4 } as const;

export class StartError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export async function startUp(opts: UpOptions): Promise<Running> {
  const { plan } = opts;
  const env = opts.env ?? process.env;
  const out = opts.out ?? process.stdout;
  mkdirSync(plan.stateDir, { recursive: true });
  mkdirSync(plan.dataDir, { recursive: true });
  const bus = createBus();
  const echo = createEcho(out);
  if (opts.printEvents !== false) bus.subscribe((e) => printEvent(out, e));
  const stack = createStack({ plan, bus, echo, env });

  let finished: Promise<number> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });
  const closers: Array<() => Promise<void>> = [];

  const shutdown = (code: number, reason: string) => {
    if (finished) return finished;
    out.write(`tend | stopping: ${reason}\n`);
    finished = (async () => {
      await stack.stopAll(reason);
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          process.stderr.write(`tend: while stopping: ${(err as Error).message}\n`);
        }
      }
      await stack.close();
      out.write(`tend | stopped\n`);
      resolveDone(code);
      return code;
    })();
    return finished;
  };

  const rt: Runtime = { plan, bus, stack, env, out, shutdown, appState: () => 'UP', settings: () => ({}) };
  for (const attach of opts.attach ?? []) {
    const handle = await attach(rt);
    if (handle) closers.push(() => handle.close());
  }

  stack.ended.then((end) => shutdown(end.code, end.reason));
  stack.startAll();
  return { ...rt, done };
}

/** Installs tend's signal handling for a foreground run and returns a function that removes it. */
export function handleSignals(running: Running): () => void {
  const { stack } = running;
  const onStop = (sig: NodeJS.Signals) => void running.shutdown(EXIT.ok, `received ${sig}`);
  const onHup = () => {
    for (const name of stack.names()) stack.restart(name, 'SIGHUP');
  };
  const forward = (sig: NodeJS.Signals) => {
    for (const name of stack.names()) {
      const r = stack.runner(name);
      if (r?.plan.forwardSignals.includes(sig)) r.signal(sig);
    }
  };
  const handlers: Array<[NodeJS.Signals, (s: NodeJS.Signals) => void]> = [
    ['SIGTERM', onStop],
    ['SIGINT', onStop],
    ['SIGHUP', onHup],
    ['SIGUSR1', forward],
    ['SIGUSR2', forward],
  ];
  for (const [s, h] of handlers) process.on(s, h);
  return () => {
    for (const [s, h] of handlers) process.off(s, h);
  };
}

export function describeEvent(e: TendEvent): string | undefined {
  switch (e.kind) {
    case 'service': {
      let text = `${e.service} ${e.to}`;
      if (e.pid && e.to === 'running') text += ` (pid ${e.pid})`;
      if (e.reason) text += `: ${e.reason}`;
      return text;
    }
    case 'app':
      return `app ${e.to}${e.reason ? `: ${e.reason}` : ''}`;
    case 'job':
      return `${e.service} job ${e.run}${e.exitCode !== undefined && e.exitCode !== null ? ` (exit ${e.exitCode})` : ''}`;
    case 'config':
      return e.action === 'unchanged'
        ? undefined
        : `config ${e.action}${e.destination ? ` ${e.destination}` : ''}${e.reason ? `: ${e.reason}` : ''}`;
    case 'finish':
      return e.ok ? undefined : `${e.service} finish hook failed${e.output ? `: ${e.output}` : ''}`;
    default:
      return undefined;
  }
}

function printEvent(out: NodeJS.WritableStream, e: TendEvent) {
  const text = describeEvent(e);
  if (text) out.write(`tend | ${text}\n`);
}
