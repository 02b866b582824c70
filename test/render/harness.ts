/**
 * In-process `tend up` with the render loop attached, on a manifest written to a temp folder, recording every
 * event; and small helpers to read what services saw. Everything is stopped and removed by cleanup().
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { type Running, startUp } from '../../src/app/index.js';
import type { ConfigEvent, ServiceEvent, TendEvent } from '../../src/events/index.js';
import type { KvBackend } from '../../src/kv/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { renderModule } from '../../src/render/index.js';
import type { ServiceStatus } from '../../src/supervisor/index.js';

const running: Running[] = [];
const dirs: string[] = [];

export async function cleanup() {
  await Promise.all(running.splice(0).map((r) => r.shutdown(0, 'test cleanup').then(() => r.done)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A temp folder holding `files` (paths relative to it). */
export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-render-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) put(dir, rel, text);
  return dir;
}

export function put(dir: string, rel: string, text: string) {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, text);
}

export function read(dir: string, rel: string): string | undefined {
  try {
    return readFileSync(join(dir, rel), 'utf8');
  } catch {
    return undefined;
  }
}

/** Lines a service appended to a log file of the project (e.g. one line per start). */
export function lines(dir: string, rel: string): string[] {
  return (read(dir, rel) ?? '').split('\n').filter((l) => l !== '');
}

export interface Up {
  rt: Running;
  dir: string;
  events: TendEvent[];
  output(): string;
  service(name: string): ServiceStatus;
  config(): ConfigEvent[];
  serviceEvents(name: string): ServiceEvent[];
}

export async function upIn(dir: string, o: { kv?: KvBackend; env?: NodeJS.ProcessEnv } = {}): Promise<Up> {
  const env = { ...process.env, ...o.env };
  const { plan } = loadManifest(join(dir, 'tend.yaml'), { env });
  const events: TendEvent[] = [];
  let text = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  const render = renderModule();
  const rt = await startUp({
    plan,
    env,
    out,
    err: new PassThrough(),
    printEvents: true,
    kv: o.kv,
    modules: [
      {
        name: 'record',
        async attach(r) {
          r.bus.subscribe((e) => events.push(e));
          return undefined;
        },
      },
      render,
    ],
    renderStatus: () => render.status(),
  });
  running.push(rt);
  return {
    rt,
    dir,
    events,
    output: () => text,
    service(name) {
      const s = rt.stack.status().find((x) => x.name === name);
      if (!s) throw new Error(`no service ${name}`);
      return s;
    },
    config: () => events.filter((e): e is ConfigEvent => e.kind === 'config'),
    serviceEvents: (name) =>
      events.filter((e): e is ServiceEvent => e.kind === 'service' && e.service === name),
  };
}
