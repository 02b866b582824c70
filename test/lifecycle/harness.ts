/** Runs `startUp` in-process on a Plan built in a temp folder, recording every event, and cleans up. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type Module, type Running, startUp, type UpOptions } from '../../src/app/index.js';
import type { AppEvent, AppState, TendEvent } from '../../src/events/index.js';
import type { Plan } from '../../src/manifest/types.js';

const running: Running[] = [];
const dirs: string[] = [];

export async function cleanup() {
  await Promise.all(running.splice(0).map((r) => r.shutdown(0, 'test cleanup')));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tmp(prefix = 'tend-lifecycle-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Writes an executable script (with a `#!/bin/sh` line unless it has its own). */
export function script(dir: string, rel: string, body: string): string {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export interface Started {
  rt: Running;
  events: TendEvent[];
  appStates(): AppState[];
  appEvents(): AppEvent[];
  output(): string;
}

export async function up(
  plan: Plan,
  o: { env?: NodeJS.ProcessEnv; modules?: Module[]; extra?: Partial<UpOptions> } = {},
): Promise<Started> {
  const events: TendEvent[] = [];
  let text = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  const record: Module = {
    name: 'record',
    async attach(rt) {
      rt.bus.subscribe((e) => events.push(e));
      return undefined;
    },
  };
  const rt = await startUp({
    plan,
    env: o.env ?? { ...process.env },
    out,
    err: new PassThrough(),
    printEvents: true,
    modules: [record, ...(o.modules ?? [])],
    ...o.extra,
  });
  running.push(rt);
  const appEvents = () => events.filter((e): e is AppEvent => e.kind === 'app');
  return { rt, events, appEvents, appStates: () => appEvents().map((e) => e.to), output: () => text };
}
