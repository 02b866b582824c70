/**
 * What the end-to-end rollout tests share (test/e2e/fleet-rollout*.test.ts): a project of one service with
 * `rollout:` rendering the key `app/msg`, the service stamping its start, ready and stop into a file, and the
 * readings of those stamps and of `tend status --json`.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTend, runTendAsync, startTend, type TendProcess } from './cli.js';

/**
 * The service: stamps its start, reads its config, and says READY (its ready check: a log line) half a second
 * later, unless the config says `bad`; stamps its stop on SIGTERM.
 */
export const SERVICE = `#!/bin/sh
now() { date +%s%3N; }
trap 'echo "stop $(now)" >> stamps; exit 0' TERM
echo "start $(now)" >> stamps
sleep 0.5
if grep -q bad web.conf; then echo "refusing: bad config"; else echo "ready $(now)" >> stamps; echo READY; fi
# short sleeps: the TERM trap runs (and stamps the stop) within a tenth of a second of the signal
while :; do sleep 0.1; done
`;

/** A project folder (pushed on `dirs` for removal) of app `shop` on the store `url`. */
export function rolloutProject(
  url: string,
  name: string,
  dirs: string[],
  opts: { maxParallel?: number; readyTimeout?: string } = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), `tend-rollout-${name}-`));
  dirs.push(dir);
  writeFileSync(join(dir, 'svc.sh'), SERVICE, { mode: 0o755 });
  writeFileSync(
    join(dir, 'tend.yaml'),
    `name: shop
kv: ${url}
services:
  web:
    command: exec ./svc.sh
    ready: { log: "^READY$", interval: 100ms, timeout: 60s }
    stop: { timeout: 5s }
    rollout: { max_parallel: ${opts.maxParallel ?? 1}, ready_timeout: ${opts.readyTimeout ?? '3s'} }
    templates:
      - { source: web.tmpl, destination: web.conf, on_change: restart }
`,
  );
  writeFileSync(join(dir, 'web.tmpl'), 'msg={{ key "app/msg" }}\n');
  return dir;
}

export interface Stamp {
  tend: string;
  kind: 'start' | 'ready' | 'stop';
  at: number;
}
export function stamps(dir: string, tend: string): Stamp[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'stamps'), 'utf8');
  } catch {}
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [kind, at] = l.split(' ');
      return { tend, kind: kind as Stamp['kind'], at: Number(at) };
    });
}

/**
 * The most services at once that were restarting or not ready, from their stamps after `since`: a service is
 * out from its `stop` (or a `start` without a stop before it) until its next `ready`.
 */
export function mostOutAtOnce(all: Stamp[][], since: number): number {
  const edges: Array<{ at: number; d: number }> = [];
  for (const list of all) {
    let out = false;
    for (const s of list.filter((x) => x.at >= since)) {
      if ((s.kind === 'stop' || s.kind === 'start') && !out) {
        out = true;
        edges.push({ at: s.at, d: +1 });
      } else if (s.kind === 'ready' && out) {
        out = false;
        edges.push({ at: s.at, d: -1 });
      }
    }
  }
  // at one instant, an end before a beginning
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let most = 0;
  for (const e of edges) {
    now += e.d;
    most = Math.max(most, now);
  }
  return most;
}

export const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
export const conf = (dir: string) => readFileSync(join(dir, 'web.conf'), 'utf8');

export interface RolloutView {
  service: string;
  phase: string;
  hash: string;
}
export function rolloutOf(dir: string): RolloutView | undefined {
  const r = runTend(['status', '--json'], { cwd: dir });
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { rollouts?: RolloutView[] }).rollouts?.find((x) => x.service === 'web');
}

/**
 * rolloutOf without blocking this process: for a store served from the test itself (the Consul double), which a
 * spawnSync would stop answering while `tend status` runs.
 */
export async function rolloutOfAsync(dir: string): Promise<RolloutView | undefined> {
  const r = await runTendAsync(['status', '--json'], { cwd: dir });
  if (r.code !== 0) return undefined;
  return (JSON.parse(r.stdout) as { rollouts?: RolloutView[] }).rollouts?.find((x) => x.service === 'web');
}

export const isDone = (r: RolloutView | undefined, hash: string) => r?.phase === 'done' && r.hash === hash;

/**
 * Starts one `tend up` per project, each under its own fleet name (`names[i]`), with a short fleet TTL, and waits
 * until every one says `app UP`. `env` adds to (or overrides) that environment.
 */
export async function startFleet(
  projects: string[],
  names: string[],
  env: Record<string, string> = {},
): Promise<TendProcess[]> {
  const tends = projects.map((dir, i) =>
    startTend(['up'], {
      cwd: dir,
      env: { TEND_FLEET_NAME: names[i] ?? `t${i}`, TEND_FLEET_TTL_MS: '2000', ...env },
    }),
  );
  for (const t of tends) await t.waitForOutput(/app UP/, 60_000);
  return tends;
}
