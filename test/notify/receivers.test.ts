/**
 * Webhook receivers that other people wrote, where users meet them: Python's http.server answering HTTP/1.0
 * (no Content-Length, the connection closes after each answer) and HTTP/1.1 one request at a time, and a slow
 * one. Every event of a run, the last ones at stop included, must reach each of them, in order.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const RECEIVER = fileURLToPath(new URL('../fixtures/receivers/webhook_receiver.py', import.meta.url));

const procs: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const p of procs.splice(0)) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function pythonReceiver(dir: string, name: string, protocol: string, delay = 0) {
  const portFile = join(dir, `${name}.port`);
  const out = join(dir, `${name}.jsonl`);
  const p = spawn('python3', [RECEIVER, portFile, out, protocol, String(delay)], { stdio: 'ignore' });
  procs.push(p);
  await waitFor(() => existsSync(portFile), { what: `${name} listening` });
  const port = Number(readFileSync(portFile, 'utf8'));
  return {
    url: `http://127.0.0.1:${port}/hook`,
    events: (): Array<{ kind: string; to?: string; service?: string }> =>
      existsSync(out)
        ? readFileSync(out, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
        : [],
  };
}

describe('webhook receivers written in Python', () => {
  it('every event of a run reaches http.server in HTTP/1.0 and HTTP/1.1 and a slow one, the stop included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-receivers-'));
    dirs.push(dir);
    const http10 = await pythonReceiver(dir, 'http10', 'HTTP/1.0');
    const http11 = await pythonReceiver(dir, 'http11', 'HTTP/1.1');
    const slow = await pythonReceiver(dir, 'slow', 'HTTP/1.1', 0.1);
    const sink = (url: string) => `  - { webhook: "${url}", events: [app, service] }\n`;
    writeFileSync(
      join(dir, 'tend.yaml'),
      `name: shop
state_dir: ${join(dir, 'state')}
services:
  web:
    command: sleep 1000
  worker:
    command: sleep 1000
notify:
${sink(http10.url)}${sink(http11.url)}${sink(slow.url)}`,
    );
    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/app UP/, 15_000);
    tend.kill('SIGTERM');
    expect(await tend.exit(20_000)).toBe(0);
    const stateOf = (e: { kind: string; to?: string; service?: string }) =>
      e.kind === 'app' ? `app ${e.to}` : `${e.service} ${e.to}`;
    for (const r of [http10, http11, slow]) {
      const got = r.events().map(stateOf);
      expect(got[0]).toBe('app BOOT');
      expect(got.at(-1)).toBe('app STOPPED');
      expect(got).toContain('app STOPPING');
      expect(got).toContain('web stopped');
      expect(got).toContain('worker stopped');
      // the same events everywhere, in the same order
      expect(got).toEqual(http10.events().map(stateOf));
    }
  });
});
