/**
 * A settings change that restarts several services restarts them in `after` order, as `tend up` starts them
 * and a stop stops them: dependants stop first (each gone before the one it comes after gets its signal),
 * then each starts once what it comes after is ready again. Real processes write what happens to them in one
 * file, so the order is the one they saw. It used to be one signal to all at once, and the database back up
 * while its clients were still stopping.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// NAME [SECONDS]: notes its start, its readiness and its stop (taking SECONDS to stop) in order.log
const SERVICE = `name=$1
echo "start $name" >> order.log
trap 'echo "stopping $name" >> order.log; sleep \${2:-0}; echo "stopped $name" >> order.log; exit 0' TERM
sleep 0.2
echo "ready $name" >> order.log
echo ready
while :; do sleep 0.05; done
`;

const lines = (dir: string) => {
  try {
    return readFileSync(join(dir, 'order.log'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

function project(apiExtra = '') {
  const dir = mkdtempSync(join(tmpdir(), 'tend-order-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'kv/app'), { recursive: true });
  writeFileSync(join(dir, 'kv/app/greeting'), 'hello');
  writeFileSync(join(dir, 'svc.sh'), SERVICE);
  // listed out of order on purpose; web and api take a while to stop
  writeFileSync(
    join(dir, 'tend.yaml'),
    `kv: file:./kv
settings:
  defaults: { greeting: hi }
  kv_prefix: app/
services:
  web:
    command: exec sh svc.sh web 0.4
    after: [api]
    ready: { log: ready }
  db:
    command: exec sh svc.sh db
    ready: { log: ready }
  api:
    command: exec sh svc.sh api 0.4
    after: [db]
    ready: { log: ready }
${apiExtra}`,
  );
  return dir;
}

describe('a settings change restarts services in after order', () => {
  it('stops dependants first and starts each once what it comes after is ready', async () => {
    const dir = project();
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);
    expect(lines(dir)).toEqual(['start db', 'ready db', 'start api', 'ready api', 'start web', 'ready web']);

    writeFileSync(join(dir, 'kv/app/greeting'), 'bonjour');
    await waitFor(() => lines(dir).length === 18, { what: 'all three restarted', timeoutMs: 20_000 });
    expect(lines(dir).slice(6)).toEqual([
      'stopping web',
      'stopped web',
      'stopping api',
      'stopped api',
      'stopping db',
      'stopped db',
      'start db',
      'ready db',
      'start api',
      'ready api',
      'start web',
      'ready web',
    ]);
    expect(t.output()).toMatch(/web waiting: waiting for api to restart/);
  });

  it('keeps the order through a service in between that the change leaves alone', async () => {
    // api keeps running; web still comes after db through it
    const dir = project('    on_settings_change: none\n');
    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);
    expect(lines(dir)).toHaveLength(6);
    writeFileSync(join(dir, 'kv/app/greeting'), 'bonjour');
    await waitFor(() => lines(dir).length === 14, { what: 'web and db restarted', timeoutMs: 20_000 });
    expect(lines(dir).slice(6)).toEqual([
      'stopping web',
      'stopped web',
      'stopping db',
      'stopped db',
      'start db',
      'ready db',
      'start web',
      'ready web',
    ]);
  });
});
