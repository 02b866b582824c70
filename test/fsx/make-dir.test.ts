/** makeDir / makeDirSync: mkdir -p that ends, also where Node's recursive mkdir spins (procfs). */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDir, makeDirSync } from '../../src/fsx/index.js';
import { CLI } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'tend-fsx-'));
  dirs.push(d);
  return d;
};

describe.each([
  ['makeDir', (p: string) => makeDir(p)],
  ['makeDirSync', async (p: string) => makeDirSync(p)],
])('%s', (_name, make) => {
  it('creates the missing parents, and an existing folder is fine', async () => {
    const deep = join(tmp(), 'a', 'b', 'c');
    await make(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    await make(deep);
  });

  it('refuses a path through or onto a file', async () => {
    const d = tmp();
    writeFileSync(join(d, 'f'), '');
    await expect(make(join(d, 'f'))).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(make(join(d, 'f', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it.runIf(existsSync('/proc/self'))(
    'fails at once under /proc, where mkdir says ENOENT below a folder that exists',
    async () => {
      await expect(make('/proc/tend-no-such/x')).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );
});

it.runIf(existsSync('/proc/self'))(
  'tend up with its state folder under /proc says so and exits, instead of spinning',
  () => {
    const d = tmp();
    writeFileSync(
      join(d, 'tend.yaml'),
      'state_dir: /proc/tend-no-such\nservices:\n  a: { command: sleep 60 }\n',
    );
    // SIGKILL at the deadline: a tend spinning in mkdir would not even see a SIGTERM
    const r = spawnSync(process.execPath, [CLI, 'up'], {
      cwd: d,
      encoding: 'utf8',
      timeout: 15_000,
      killSignal: 'SIGKILL',
      env: { ...process.env, CI: 'true' },
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/state folder \/proc\/tend-no-such: ENOENT.*set another state_dir/);
  },
);
