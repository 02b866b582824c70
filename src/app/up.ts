/**
 * `tend up`: the composition root. It loads the Plan, wires the modules around one event bus and owns the
 * process-level concerns (signals, exit code). Each module stays ignorant of the others.
 */
import { mkdirSync } from 'node:fs';
import { createBus, type TendEvent } from '../events/index.js';
import { createEcho } from '../logs/index.js';
import type { Plan } from '../manifest/types.js';
import { createStack, type Stack } from '../supervisor/index.js';

export interface UpOptions {
  plan: Plan;
  env?: NodeJS.ProcessEnv;
  /** print one line per state change on stdout (tend's own voice in `docker logs`) */
  printEvents?: boolean;
  out?: NodeJS.WritableStream;
}

export interface Running {
  stack: Stack;
  /** resolves with tend's exit code once everything has stopped */
  done: Promise<number>;
  shutdown(code: number, reason: string): Promise<number>;
}

export const EXIT = { ok: 0, internal: 1, usage: 2, incomplete: 3, stage: 4 } as const;

export function startUp(opts: UpOptions): Running {
  const { plan } = opts;
  const out = opts.out ?? process.stdout;
  mkdirSync(plan.stateDir, { recursive: true });
  mkdirSync(plan.dataDir, { recursive: true });
  const bus = createBus();
  const echo = createEcho(out);
  if (opts.printEvents !== false) bus.subscribe((e) => printEvent(out, e));
  const stack = createStack({ plan, bus, echo, env: opts.env });

  let finished: Promise<number> | undefined;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  const shutdown = (code: number, reason: string) => {
    if (finished) return finished;
    out.write(`tend | stopping: ${reason}\n`);
    finished = (async () => {
      await stack.stopAll(reason);
      await stack.close();
      out.write(`tend | stopped\n`);
      resolveDone(code);
      return code;
    })();
    return finished;
  };

  stack.ended.then((end) => shutdown(end.code, end.reason));
  stack.startAll();
  return { stack, done, shutdown };
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
