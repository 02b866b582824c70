/**
 * `listen:` through the CLI: a bind that fails, what `tend check` shows, what probes and checks inherit, tend
 * under a socket manager (systemd-socket-activate, as a .socket unit would start it), and the .socket unit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLI, runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const s of servers.splice(0)) s.close();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-listen-cli-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  return dir;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 20_000 }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const NODE_APP = `import http from 'node:http';
if (process.env.LISTEN_PID !== String(process.pid)) process.exit(9);
const server = http.createServer((req, res) => res.end(process.env.LISTEN_FDS + ' ' + process.env.LISTEN_FDNAMES));
server.listen({ fd: 3 });
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

describe('listen: through the CLI', () => {
  it('a port already taken stops `tend up` with exit 2, naming the address; nothing starts', async () => {
    const port = await freePort();
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    const dir = project(
      `services:\n  web:\n    command: touch started; exec sleep 30\n    listen: [ "127.0.0.1:${port}" ]\n`,
    );
    const tend = startTend(['up'], { cwd: dir });
    expect(await tend.exit(20_000)).toBe(2);
    expect(tend.output()).toMatch(
      new RegExp(
        `cannot listen on 127\\.0\\.0\\.1:${port} for service "web": bind\\(\\) failed with EADDRINUSE`,
      ),
    );
    expect(tend.output()).toMatch(/nothing was started/);
    expect(() => readFileSync(join(dir, 'started'))).toThrow();
  });

  it('tend check shows the sockets; probes and template checks inherit neither them nor LISTEN_ variables', async () => {
    const port = await freePort();
    const dir = project(`kv: file:./kv
services:
  web:
    command: exec sleep 30
    listen:
      - "127.0.0.1:${port}"
      - { address: "unix:./web.sock", name: admin, mode: "0600" }
    templates:
      - { source: t.tmpl, destination: t.out, check: 'env > check.env; ls -l /proc/self/fd > check.fd' }
    ready: { exec: 'env > probe.env; ls -l /proc/self/fd > probe.fd', interval: 100ms }
`);
    mkdirSync(join(dir, 'kv'));
    writeFileSync(join(dir, 't.tmpl'), 'x\n');
    const check = runTend(['check'], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(
      `listen     127.0.0.1:${port} as fd 3 "web" (backlog 4096; held across restarts)`,
    );
    expect(check.stdout).toContain(
      `listen     unix:${dir}/web.sock as fd 4 "admin" (backlog 4096, mode 0600;`,
    );

    const tend = startTend(['up'], { cwd: dir });
    await tend.waitForOutput(/web ready/, 20_000);
    for (const who of ['probe', 'check']) {
      expect(readFileSync(join(dir, `${who}.env`), 'utf8')).not.toMatch(/^LISTEN_/m);
      // ls's own fds: 0, 1 (the file), 2 and the folder it lists; no socket past 2
      const sockets = readFileSync(join(dir, `${who}.fd`), 'utf8')
        .split('\n')
        .filter((l) => / (\d+) -> socket:/.exec(l) && Number(/ (\d+) -> /.exec(l)?.[1]) > 2);
      expect(sockets, who).toEqual([]);
    }
  });

  it('under systemd-socket-activate, tend takes the inherited socket and hands it to the service', async () => {
    const have = spawnSync('systemd-socket-activate', ['--version']).status === 0;
    if (!have) return;
    const port = await freePort();
    const dir = project(
      `services:\n  web:\n    command: [node, web.mjs]\n    listen: [ { address: "127.0.0.1:${port}", name: http } ]\n  other:\n    command: env > other.env; ls -l /proc/self/fd > other.fd; exec sleep 30\n`,
    );
    writeFileSync(join(dir, 'web.mjs'), NODE_APP);
    // It binds the port and starts tend at the first connection, with LISTEN_FDS=1 for tend's own pid.
    const activate = spawn(
      'systemd-socket-activate',
      ['-l', `127.0.0.1:${port}`, process.execPath, CLI, 'up'],
      {
        cwd: dir,
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    try {
      const body = await waitFor(() => get(port).catch(() => undefined), { timeoutMs: 20_000 });
      expect(body).toBe('1 http');
      // the service without listen: gets neither tend's inherited socket nor its LISTEN_ variables
      const fdList = await waitFor(() => {
        try {
          return readFileSync(join(dir, 'other.fd'), 'utf8');
        } catch {
          return undefined;
        }
      });
      expect(readFileSync(join(dir, 'other.env'), 'utf8')).not.toMatch(/^LISTEN_/m);
      expect(
        fdList
          .split('\n')
          .filter((l) => / (\d+) -> socket:/.test(l) && Number(/ (\d+) -> /.exec(l)?.[1]) > 2),
      ).toEqual([]);
      // tend did not bind a second socket: the one systemd-socket-activate made is the one answering
      const status = runTend(['status', '--json'], { cwd: dir });
      expect(status.code).toBe(0);
    } finally {
      try {
        process.kill(-(activate.pid ?? 0), 'SIGTERM');
      } catch {}
      await new Promise((r) => activate.once('exit', r));
    }
  });
});
