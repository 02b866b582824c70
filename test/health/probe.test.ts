import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runProbe } from '../../src/health/index.js';
import { freePort } from '../helpers/etcd.js';
import { alive, waitFor } from '../helpers/wait.js';

const servers: Array<Server | TcpServer> = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function http(handler: Parameters<typeof createHttpServer>[1]): Promise<number> {
  const s = createHttpServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as { port: number }).port;
}

const sh = (script: string) => ({ kind: 'exec' as const, command: { kind: 'shell' as const, script } });

describe('probes', () => {
  it('http: 2xx passes, anything else fails with the status and the start of the body', async () => {
    const port = await http((req, res) => {
      if (req.url === '/ok') res.end('fine');
      else if (req.url === '/created') res.writeHead(204).end();
      else res.writeHead(503).end('database\nnot reachable');
    });
    expect(await runProbe({ kind: 'http', url: `http://127.0.0.1:${port}/ok` }, { timeoutMs: 2000 })).toEqual(
      {
        ok: true,
        output: 'HTTP 200',
      },
    );
    expect(
      (await runProbe({ kind: 'http', url: `http://127.0.0.1:${port}/created` }, { timeoutMs: 2000 })).ok,
    ).toBe(true);
    expect(
      await runProbe({ kind: 'http', url: `http://127.0.0.1:${port}/down` }, { timeoutMs: 2000 }),
    ).toEqual({
      ok: false,
      output: 'HTTP 503: database not reachable',
    });
  });

  it('http: a refused connection and a server that never answers are failures that say why', async () => {
    const closed = await freePort();
    const refused = await runProbe({ kind: 'http', url: `http://127.0.0.1:${closed}/` }, { timeoutMs: 2000 });
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/ECONNREFUSED/);
    const port = await http(() => {
      /* never answers */
    });
    const slow = await runProbe({ kind: 'http', url: `http://127.0.0.1:${port}/` }, { timeoutMs: 300 });
    expect(slow).toEqual({ ok: false, output: 'timed out after 300ms' });
  });

  it('tcp: a connection passes, a closed port fails', async () => {
    const s = createTcpServer((c) => c.end());
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    expect(await runProbe({ kind: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 2000 })).toEqual({
      ok: true,
      output: `connected to 127.0.0.1:${port}`,
    });
    const closed = await freePort();
    const r = await runProbe({ kind: 'tcp', host: '127.0.0.1', port: closed }, { timeoutMs: 2000 });
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/ECONNREFUSED/);
  });

  it('exec: exit 0 passes with its output; a failure reports the code and output; env and cwd are the given ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-probe-'));
    dirs.push(dir);
    expect(await runProbe(sh('echo all good'), { timeoutMs: 5000 })).toEqual({
      ok: true,
      output: 'all good',
    });
    expect(await runProbe(sh('echo "disk full" >&2; exit 3'), { timeoutMs: 5000 })).toEqual({
      ok: false,
      output: 'exit code 3: disk full',
    });
    expect(await runProbe(sh('exit 1'), { timeoutMs: 5000 })).toEqual({ ok: false, output: 'exit code 1' });
    const r = await runProbe(sh('echo "$PROBE_VAR $(pwd)"'), {
      timeoutMs: 5000,
      cwd: dir,
      env: { ...process.env, PROBE_VAR: 'x1' },
    });
    expect(r.output).toBe(`x1 ${dir}`);
  });

  it('exec: a command slower than the timeout fails and is killed with everything it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-probe-'));
    dirs.push(dir);
    const pidFile = join(dir, 'pid');
    const r = await runProbe(sh(`sleep 30 & echo $! > ${pidFile}; wait`), { timeoutMs: 400 });
    expect(r).toEqual({ ok: false, output: 'timed out after 400ms' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(pid), { what: 'the probe’s background sleep to be killed' });
  });

  it('an abort ends an attempt at once', async () => {
    const ac = new AbortController();
    const p = runProbe(sh('sleep 30'), { timeoutMs: 60_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    expect(await p).toEqual({ ok: false, output: 'cancelled' });
  });
});
