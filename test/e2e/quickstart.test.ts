import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function get(url: string) {
  try {
    return await (await fetch(url)).text();
  } catch {
    return '';
  }
}

describe('examples/quickstart (the README’s first command)', () => {
  it('serves the greeting from the file KV store and restarts web when the key changes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-quickstart-'));
    dirs.push(dir);
    cpSync(new URL('../../examples/quickstart', import.meta.url), dir, { recursive: true });
    rmSync(join(dir, 'etc'), { recursive: true, force: true });
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
    const port = await freePort();
    const t = startTend(['up'], { cwd: dir, env: { PORT: String(port) } });
    await t.waitForOutput(/app UP/, 20_000);
    expect(await get(`http://127.0.0.1:${port}/`)).toMatch(/^hello from tend \(pid \d+/);
    await t.waitForOutput(/worker running/);
    writeFileSync(join(dir, 'kv/web/greeting'), 'bonjour');
    await waitFor(async () => /^bonjour/.test(await get(`http://127.0.0.1:${port}/`)), { timeoutMs: 15_000 });
    t.kill('SIGINT');
    expect(await t.exit()).toBe(0);
    expect(t.output()).toMatch(/web stopping: config changed: etc\/web\.json/);
  });
});
