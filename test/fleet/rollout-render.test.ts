/**
 * The render side of `rollout:` in-process, with a hook standing in for the fleet module (what `rt.rollout` gets):
 * a change of a running service with `rollout:` is not written by the render loop but handed over; `apply` writes
 * it and restarts the service, `revert` puts the previous file back; a newer output supersedes a change still
 * waiting, an output equal to the file drops it, and content that failed is not handed over again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type Running, startUp } from '../../src/app/index.js';
import { loadManifest } from '../../src/manifest/index.js';
import { renderModule } from '../../src/render/index.js';
import type { RolloutChange, RolloutOutcome } from '../../src/runtime/index.js';
import { waitFor } from '../helpers/wait.js';

const running: Running[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.shutdown(0, 'test cleanup').then(() => r.done)));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const put = (dir: string, rel: string, text: string) => {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
};
const read = (dir: string, rel: string) => readFileSync(join(dir, rel), 'utf8');
const starts = (dir: string) => {
  try {
    return read(dir, 'starts.log').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};
const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;

/** A change handed to the hook, and how the test ends it. */
interface Handed {
  change: RolloutChange;
  end(outcome: RolloutOutcome): void;
}

async function start(): Promise<{ dir: string; handed: Handed[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tend-rollout-render-'));
  dirs.push(dir);
  put(dir, 'kv/msg', 'v1');
  put(dir, 'kv/flag', 'a');
  // the flag changes what the template reads, never its output
  put(dir, 'web.tmpl', '{{ if keyOrDefault "flag" "" }}{{ end }}msg={{ key "msg" }}\n');
  put(dir, 'rec.sh', 'echo "$(cat web.conf)" >> starts.log\nwhile :; do sleep 0.05; done\n');
  put(
    dir,
    'tend.yaml',
    `name: shop
services:
  web:
    command: exec sh rec.sh
    rollout: { max_parallel: 1, ready_timeout: 5s }
    templates:
      - { source: web.tmpl, destination: web.conf, on_change: restart }
`,
  );
  const { plan } = loadManifest(join(dir, 'tend.yaml'), { env: process.env });
  const handed: Handed[] = [];
  const render = renderModule();
  const rt = await startUp({
    plan,
    env: process.env,
    out: new PassThrough(),
    err: new PassThrough(),
    modules: [render],
    renderStatus: () => render.status(),
    rollout: (change) => new Promise((resolve) => handed.push({ change, end: resolve })),
  });
  running.push(rt);
  await waitFor(() => starts(dir).length === 1, { what: 'first start' });
  return { dir, handed };
}

describe('the render loop with rollout:', () => {
  it('hands a change over instead of writing it; apply writes and restarts; a newer output supersedes a waiting one', async () => {
    const { dir, handed } = await start();
    put(dir, 'kv/msg', 'v2');
    await waitFor(() => handed.length === 1, { what: 'v2 handed over' });
    const first = handed[0] as Handed;
    expect(first.change).toMatchObject({
      service: 'web',
      hash: sha('msg=v2\n'),
      what: 'web.conf',
      maxParallel: 1,
    });
    expect(first.change.readyTimeoutMs).toBe(5000);
    // nothing went live: the file and the service are as they were
    expect(read(dir, 'web.conf')).toBe('msg=v1\n');
    expect(starts(dir)).toEqual(['msg=v1']);

    // rendered again to the same output (another key it reads changed): v2 keeps its place in the queue
    put(dir, 'kv/flag', 'b');
    const settled = Date.now() + 1000;
    await waitFor(() => Date.now() > settled, { what: 'a moment', timeoutMs: 5000 });
    expect(first.change.signal.aborted).toBe(false);
    expect(handed).toHaveLength(1);

    // a newer value while v2 waits: v2 is told to give way, and v3 is handed over once it did
    put(dir, 'kv/msg', 'v3');
    await waitFor(() => first.change.signal.aborted, { what: 'v2 superseded' });
    first.end('superseded');
    await waitFor(() => handed.length === 2, { what: 'v3 handed over' });
    const second = handed[1] as Handed;
    expect(second.change.hash).toBe(sha('msg=v3\n'));
    expect(await second.change.apply()).toEqual({ applied: true, restart: true });
    expect(read(dir, 'web.conf')).toBe('msg=v3\n');
    await waitFor(() => starts(dir).length === 2, { what: 'restart on v3' });
    expect(starts(dir)).toEqual(['msg=v1', 'msg=v3']);
    second.end('applied');
  });

  it('revert puts the previous file back and restarts on it; failed content is not handed over again', async () => {
    const { dir, handed } = await start();
    put(dir, 'kv/msg', 'bad');
    await waitFor(() => handed.length === 1, { what: 'bad handed over' });
    const bad = handed[0] as Handed;
    await bad.change.apply();
    expect(read(dir, 'web.conf')).toBe('msg=bad\n');
    await waitFor(() => starts(dir).length === 2, { what: 'restart on bad' });
    await bad.change.revert();
    expect(read(dir, 'web.conf')).toBe('msg=v1\n');
    await waitFor(() => starts(dir).length === 3, { what: 'restart on the previous file' });
    expect(starts(dir)).toEqual(['msg=v1', 'msg=bad', 'msg=v1']);
    bad.end('failed');

    // rendered again (another key it reads changed), the same bad content: not handed over, nothing restarts
    put(dir, 'kv/flag', 'b');
    const settled = Date.now() + 1500;
    await waitFor(() => Date.now() > settled, { what: 'a moment', timeoutMs: 5000 });
    expect(handed).toHaveLength(1);
    expect(read(dir, 'web.conf')).toBe('msg=v1\n');

    // a newer value is
    put(dir, 'kv/msg', 'v4');
    await waitFor(() => handed.length === 2, { what: 'v4 handed over' });
    expect(handed[1]?.change.hash).toBe(sha('msg=v4\n'));
    handed[1]?.end('superseded');
  });

  it('a value back to what the file holds drops the waiting change', async () => {
    const { dir, handed } = await start();
    put(dir, 'kv/msg', 'v2');
    await waitFor(() => handed.length === 1, { what: 'v2 handed over' });
    put(dir, 'kv/msg', 'v1');
    await waitFor(() => handed[0]?.change.signal.aborted, { what: 'v2 dropped' });
    handed[0]?.end('superseded');
    const settled = Date.now() + 1000;
    await waitFor(() => Date.now() > settled, { what: 'a moment', timeoutMs: 5000 });
    expect(handed).toHaveLength(1);
    expect(read(dir, 'web.conf')).toBe('msg=v1\n');
    expect(starts(dir)).toEqual(['msg=v1']);
  });
});
