/** examples/consul-template-migration runs as is: rendered config, roles by env, cron never restarted. */
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { freePort } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, project, put, read } from './harness.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/consul-template-migration', import.meta.url));

afterEach(async () => {
  await stopAllTends();
  await cleanup();
});

function copy(): string {
  const dir = project({});
  cpSync(EXAMPLE, dir, { recursive: true });
  rmSync(join(dir, 'etc'), { recursive: true, force: true });
  rmSync(join(dir, '.tend'), { recursive: true, force: true });
  return dir;
}

describe('examples/consul-template-migration', () => {
  it('tend render: complete as shipped; exit 3 naming the sentinel once a key is gone', () => {
    const dir = copy();
    let r = runTend(['render', '--once'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(read(dir, 'etc/web.conf')).toMatch(/workers = 4\n/);
    rmSync(join(dir, 'kv/musicbrainz/db/password'));
    r = runTend(['render', '--once'], { cwd: dir, env: { ENABLE_WORKER: 'true' } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('missing web: etc/web.conf: has the sentinel "@@MISSING@@" in its output');
    expect(r.stderr).toContain('missing worker: etc/worker-db.conf: has the sentinel');
  });

  it('tend up: a key change restarts web once, rewrites the cron config without restarting the job', async () => {
    const dir = copy();
    const port = await freePort();
    const t = startTend(['up'], {
      cwd: dir,
      env: { WEB_PORT: String(port), ENABLE_WORKER: 'true', CLEANUP_SCHEDULE: '* * * * * *' },
    });
    await t.waitForOutput(/worker: queue=edits batch=100 db=db.internal/, 20_000);
    await t.waitForOutput(/cleanup: removing files older than 7 days/, 5000);
    const config = async (): Promise<Record<string, string>> =>
      (await fetch(`http://127.0.0.1:${port}/config`)).json() as Promise<Record<string, string>>;
    await waitFor(
      async () => (await config().catch(() => ({}) as Record<string, string>))['web.workers'] === '4',
      { what: 'web up' },
    );
    expect(await config()).toMatchObject({
      'database.host': 'db.internal',
      'web.server_name': 'musicbrainz.local',
    });

    put(dir, 'kv/musicbrainz/web/workers', '8');
    put(dir, 'kv/musicbrainz/cron/keep_days', '30');
    await t.waitForOutput(/cleanup: removing files older than 30 days/, 10_000);
    await waitFor(
      async () => (await config().catch(() => ({}) as Record<string, string>))['web.workers'] === '8',
      {
        what: 'web restarted',
      },
    );
    const status = JSON.parse(runTend(['status', '--json'], { cwd: dir }).stdout);
    const byName = Object.fromEntries(status.services.map((s: { name: string }) => [s.name, s]));
    expect(byName.web.restarts).toBe(1);
    expect(byName.worker.restarts).toBe(0);
    expect(t.output()).not.toMatch(/cleanup (stopping|starting): config changed/);
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
  });
});
