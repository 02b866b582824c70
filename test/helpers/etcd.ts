/**
 * A real etcd for tests: Debian's /usr/bin/etcd on free loopback ports with a temporary data dir.
 *
 *   const etcd = await startEtcd();          // in beforeAll
 *   openKv(etcd.url) …
 *   await etcd.stop(); await etcd.start();   // an outage: same data dir, same ports
 *   await etcd.stop(); await etcd.start({ wipe: true });  // a fresh cluster on the same address (revision 1)
 *   await etcd.close();                      // in afterAll: kills etcd, removes the data dir (idempotent)
 *
 * Also a TCP proxy, to cut the network between a client and etcd while etcd keeps running (writes and
 * compactions can then happen "behind the client's back").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ETCD_BIN = process.env.TEND_TEST_ETCD ?? '/usr/bin/etcd';

export interface EtcdHarness {
  /** 127.0.0.1:PORT */
  readonly endpoint: string;
  /** etcd://127.0.0.1:PORT */
  readonly url: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  running(): boolean;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited */
  stop(): Promise<void>;
  /**
   * starts again on the same ports and data dir; resolves once etcd answers /health. `wipe` empties the data
   * dir first: a fresh cluster on the same address, as after a restore or a rebuilt etcd (revisions restart);
   * `args` are more flags for this start only (e.g. another --initial-cluster-token: another cluster id)
   */
  start(opts?: { wipe?: boolean; args?: string[] }): Promise<void>;
  /** stop + remove the data dir; safe to call twice or after a failed start */
  close(): Promise<void>;
}

/** A port that was free a moment ago (the kernel hands out ports round-robin, so a quick reuse is unlikely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Last resort if a test worker dies without afterAll: never leave an etcd behind. */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

async function waitHealthy(endpoint: string, child: ChildProcess, stderr: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `etcd exited during startup (${child.exitCode ?? child.signalCode}): ${stderr().slice(-2000)}`,
      );
    }
    try {
      const res = await fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { health?: string };
      if (res.ok && body.health === 'true') return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`etcd did not become healthy within ${timeoutMs} ms: ${stderr().slice(-2000)}`);
}

export async function startEtcd(
  opts: {
    startTimeoutMs?: number /** more etcd flags, e.g. `--max-request-bytes=…` */;
    args?: string[];
  } = {},
): Promise<EtcdHarness> {
  installExitHook();
  const dataDir = await mkdtemp(join(tmpdir(), 'tend-etcd-'));
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const endpoint = `127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | undefined;
  let closed = false;

  const spawnEtcd = async (extraArgs: string[] = []) => {
    let stderr = '';
    const proc = spawn(
      ETCD_BIN,
      [
        '--name=tend-test',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=http://${endpoint}`,
        `--advertise-client-urls=http://${endpoint}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=tend-test=${peerUrl}`,
        '--initial-cluster-state=new',
        '--logger=zap',
        '--log-outputs=stderr',
        '--log-level=error',
        ...(opts.args ?? []),
        ...extraArgs,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr?.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-8000);
    });
    live.add(proc);
    proc.on('exit', () => live.delete(proc));
    child = proc;
    try {
      await waitHealthy(endpoint, proc, () => stderr, opts.startTimeoutMs ?? 15_000);
    } catch (err) {
      await stopChild();
      throw err;
    }
  };

  const stopChild = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  const harness: EtcdHarness = {
    endpoint,
    url: `etcd://${endpoint}`,
    clientPort,
    peerPort,
    dataDir,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    stop: stopChild,
    async start(startOpts) {
      if (closed) throw new Error('etcd harness is closed');
      if (harness.running()) return;
      if (startOpts?.wipe) {
        await rm(dataDir, { recursive: true, force: true });
        await mkdir(dataDir, { recursive: true, mode: 0o700 });
      }
      await spawnEtcd(startOpts?.args);
    },
    async close() {
      if (closed) return;
      closed = true;
      await stopChild();
      await rm(dataDir, { recursive: true, force: true });
    },
  };

  try {
    await spawnEtcd();
  } catch (err) {
    await harness.close();
    throw err;
  }
  return harness;
}

export interface TcpProxy {
  readonly port: number;
  /** 127.0.0.1:PORT */
  readonly endpoint: string;
  /** drops every connection and refuses new ones (by closing them at once) until restore() */
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let isCut = false;
  const server: Server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    cut() {
      isCut = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore() {
      isCut = false;
    },
    close() {
      for (const s of sockets) s.destroy();
      sockets.clear();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

export interface EtcdMember {
  readonly name: string;
  /** 127.0.0.1:PORT */
  readonly endpoint: string;
  running(): boolean;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited */
  stop(): Promise<void>;
  /** starts again on the same ports and data dir (rejoins the cluster); resolves once it answers /health */
  start(): Promise<void>;
}

export interface EtcdCluster {
  readonly members: EtcdMember[];
  /** every member's client endpoint, comma-separated: `127.0.0.1:A,127.0.0.1:B,127.0.0.1:C` */
  readonly endpoints: string;
  /** etcd://A,B,C */
  readonly url: string;
  /** stops every member and removes the data dirs; safe to call twice */
  close(): Promise<void>;
}

/**
 * A real etcd cluster of `size` members on loopback (each with its own free client and peer ports and data
 * dir). The members start together (none is healthy before a quorum exists); the promise resolves once every
 * member answers /health.
 */
export async function startEtcdCluster(
  opts: { size?: number; startTimeoutMs?: number } = {},
): Promise<EtcdCluster> {
  installExitHook();
  const size = opts.size ?? 3;
  const used = new Set<number>();
  const port = async () => {
    let p = await freePort();
    while (used.has(p)) p = await freePort();
    used.add(p);
    return p;
  };
  const specs: Array<{ name: string; client: number; peer: number; dataDir: string }> = [];
  for (let i = 0; i < size; i++) {
    specs.push({
      name: `m${i}`,
      client: await port(),
      peer: await port(),
      dataDir: await mkdtemp(join(tmpdir(), 'tend-etcd-cluster-')),
    });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');
  const token = `tend-test-${process.pid}-${specs[0]?.client}`;

  const members = specs.map((s): EtcdMember & { close(): Promise<void> } => {
    const endpoint = `127.0.0.1:${s.client}`;
    let child: ChildProcess | undefined;
    let stderr = '';
    let started = false;
    const stopChild = async () => {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    };
    const member = {
      name: s.name,
      endpoint,
      running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
      stop: stopChild,
      async start() {
        if (member.running()) return;
        const proc = spawn(
          ETCD_BIN,
          [
            `--name=${s.name}`,
            `--data-dir=${s.dataDir}`,
            `--listen-client-urls=http://${endpoint}`,
            `--advertise-client-urls=http://${endpoint}`,
            `--listen-peer-urls=http://127.0.0.1:${s.peer}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${s.peer}`,
            `--initial-cluster=${initialCluster}`,
            `--initial-cluster-token=${token}`,
            `--initial-cluster-state=${started ? 'existing' : 'new'}`,
            '--logger=zap',
            '--log-outputs=stderr',
            '--log-level=error',
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        started = true;
        proc.stderr?.on('data', (c: Buffer) => {
          stderr = (stderr + c.toString()).slice(-8000);
        });
        live.add(proc);
        proc.on('exit', () => live.delete(proc));
        child = proc;
        try {
          await waitHealthy(endpoint, proc, () => stderr, opts.startTimeoutMs ?? 20_000);
        } catch (err) {
          await stopChild();
          throw err;
        }
      },
      async close() {
        await stopChild();
        await rm(s.dataDir, { recursive: true, force: true });
      },
    };
    return member;
  });

  let closed = false;
  const endpoints = members.map((m) => m.endpoint).join(',');
  const cluster: EtcdCluster = {
    members,
    endpoints,
    url: `etcd://${endpoints}`,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(members.map((m) => m.close()));
    },
  };
  try {
    await Promise.all(members.map((m) => m.start()));
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
