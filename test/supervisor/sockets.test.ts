/**
 * The stack's listening sockets (`listen:`): what each start of the service inherits, what nobody else
 * inherits, how long the sockets live, and a bind that fails.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus } from '../../src/events/index.js';
import type { ListenPlan, ServicePlan } from '../../src/manifest/types.js';
import { SocketError } from '../../src/procs/index.js';
import { createStack, type Stack } from '../../src/supervisor/index.js';
import { applyPlanDiff, planDiff } from '../../src/supervisor/reload.js';
import { servicePlan, stackPlan } from '../helpers/plan.js';
import { alive, waitFor } from '../helpers/wait.js';

const stacks: Stack[] = [];
const dirs: string[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const s of stacks.splice(0)) {
    await s.stopAll('test cleanup');
    await s.close();
  }
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'tend-sockets-'));
  dirs.push(d);
  return d;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const tcp = (port: number, name = 'http'): ListenPlan => ({
  address: `127.0.0.1:${port}`,
  bind: { kind: 'tcp', host: '127.0.0.1', port, family: 4 },
  name,
  backlog: 128,
});

/** What a process sees: its pid, the LISTEN_ variables and where its fds 3.. point, written to a file. */
const REPORT = `echo "pid=$$ fds=\${LISTEN_FDS:-} fdpid=\${LISTEN_PID:-} names=\${LISTEN_FDNAMES:-}"; for f in /proc/$$/fd/*; do echo "fd \${f##*/} $(readlink $f)"; done`;

function start(services: ServicePlan[], dir = tmp()) {
  const stack = createStack({ plan: stackPlan(dir, services), bus: createBus() });
  stacks.push(stack);
  stack.startAll();
  return { stack, dir };
}

/** the file's text once it holds `needle` (it is written while the test reads) */
async function readWhen(path: string, needle: string): Promise<string> {
  let text = '';
  await waitFor(() => {
    text = readFileSync(path, 'utf8');
    return text.includes(needle);
  });
  return text;
}

/** the inode of the socket listening on 127.0.0.1:port, from /proc/net/tcp */
function listeningInode(port: number): string | undefined {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === hex && f[3] === '0A') return f[9];
  }
  return undefined;
}

function socketInode(fdLink: string | undefined): string | undefined {
  return fdLink?.match(/socket:\[(\d+)\]/)?.[1];
}

function parseReport(text: string) {
  const head = /pid=(\d+) fds=(\S*) fdpid=(\S*) names=(\S*)/.exec(text);
  const fds = new Map<number, string>();
  for (const m of text.matchAll(/^fd (\d+) (.*)$/gm)) fds.set(Number(m[1]), m[2]);
  return { pid: head?.[1], fds: head?.[2], fdpid: head?.[3], names: head?.[4], fdMap: fds };
}

describe('listen: sockets held by the stack', () => {
  it('each start gets fds 3, 4 with LISTEN_FDS, LISTEN_FDNAMES and its own pid as LISTEN_PID', async () => {
    const dir = tmp();
    const [p1, p2] = [await freePort(), await freePort()];
    const out = join(dir, 'report');
    const { stack } = start(
      [
        servicePlan('web', `exec sh -c '(${REPORT}) > ${out}.$$; exec sleep 30'`, {
          listen: [tcp(p1, 'http'), tcp(p2, 'admin')],
        }),
      ],
      dir,
    );
    const read = async () => {
      const pid = await waitFor(() => stack.runner('web')?.pid());
      return parseReport(await readWhen(`${out}.${pid}`, 'fd 4'));
    };
    const first = await read();
    expect(first.fds).toBe('2');
    expect(first.fdpid).toBe(first.pid);
    expect(first.names).toBe('http:admin');
    const held = stack.sockets();
    expect(held.map((s) => s.address)).toEqual([`127.0.0.1:${p1}`, `127.0.0.1:${p2}`]);
    const inode3 = socketInode(first.fdMap.get(3));
    // fd 3 is the first address listed, fd 4 the second (the kernel's table of TCP sockets names their inodes)
    expect(inode3).toBe(listeningInode(p1));
    expect(socketInode(first.fdMap.get(4))).toBe(listeningInode(p2));
    // nothing past fd 4 but the shell's own listing of /proc
    expect([...first.fdMap.keys()].filter((fd) => fd > 4 && socketInode(first.fdMap.get(fd)))).toEqual([]);

    // a restart hands over the very same sockets
    const firstPid = stack.runner('web')?.pid();
    stack.restart('web');
    await waitFor(() => stack.runner('web')?.pid() !== firstPid && stack.runner('web')?.pid());
    const second = await read();
    expect(second.fdpid).toBe(second.pid);
    expect(second.pid).not.toBe(first.pid);
    expect(socketInode(second.fdMap.get(3))).toBe(inode3);
  });

  it('other services get neither the fds nor the variables (probes: test/e2e/listen)', async () => {
    const dir = tmp();
    const port = await freePort();
    const out = join(dir, 'other');
    const { stack } = start(
      [
        servicePlan('web', 'exec sleep 30', { listen: [tcp(port)] }),
        servicePlan('other', `(${REPORT}) > ${out}; exec sleep 30`),
      ],
      dir,
    );
    await waitFor(() => stack.runner('web')?.pid());
    const other = parseReport(await readWhen(out, 'fd 2'));
    expect(other.fds).toBe('');
    expect(other.fdpid).toBe('');
    expect(
      [...other.fdMap.values()].filter(
        (l) => socketInode(l) && ![1, 2].some((fd) => other.fdMap.get(fd) === l),
      ),
    ).toEqual([]);
    // the stack's envOf (what probes, checks and hooks get) has no LISTEN_ variable either
    expect(Object.keys(stack.envOf('web') ?? {}).filter((k) => k.startsWith('LISTEN_'))).toEqual([]);
  });

  it('a port already taken is a SocketError naming the address and the service; nothing is left bound', async () => {
    const port = await freePort();
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    const free = await freePort();
    const make = () =>
      createStack({
        plan: stackPlan(tmp(), [
          servicePlan('a', 'exec sleep 30', { listen: [tcp(free)] }),
          servicePlan('web', 'exec sleep 30', { listen: [tcp(port)] }),
        ]),
        bus: createBus(),
      });
    expect(make).toThrow(SocketError);
    expect(make).toThrow(new RegExp(`127\\.0\\.0\\.1:${port} for service "web".*EADDRINUSE`));
    // the socket of "a", bound before "web" failed, was closed again
    const again = createServer();
    servers.push(again);
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.listen(free, '127.0.0.1', resolve);
    });
  });

  it('a reload that keeps the address keeps the socket; one that drops it closes it', async () => {
    const dir = tmp();
    const port = await freePort();
    const sock = join(dir, 'web.sock');
    const unix: ListenPlan = {
      address: `unix:${sock}`,
      bind: { kind: 'unix', path: sock },
      name: 'u',
      backlog: 16,
      mode: 0o600,
    };
    const v1 = stackPlan(dir, [servicePlan('web', 'exec sleep 30', { listen: [tcp(port), unix] })]);
    const stack = createStack({ plan: v1, bus: createBus() });
    stacks.push(stack);
    stack.startAll();
    await waitFor(() => stack.runner('web')?.pid());
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    const fd = stack.sockets().find((s) => s.address === `127.0.0.1:${port}`)?.fd;

    // changed service (new env), same addresses, another mode: new runner, same sockets
    const v2 = stackPlan(dir, [
      servicePlan('web', 'exec sleep 30', { env: { V: '2' }, listen: [tcp(port), { ...unix, mode: 0o660 }] }),
    ]);
    await applyPlanDiff(stack, v2, planDiff(v1, v2));
    await waitFor(() => stack.runner('web')?.pid());
    expect(stack.sockets().find((s) => s.address === `127.0.0.1:${port}`)?.fd).toBe(fd);
    expect(statSync(sock).mode & 0o777).toBe(0o660);

    // the Unix socket dropped: closed and its file removed
    const v3 = stackPlan(dir, [
      servicePlan('web', 'exec sleep 30', { env: { V: '3' }, listen: [tcp(port)] }),
    ]);
    await applyPlanDiff(stack, v3, planDiff(v2, v3));
    expect(stack.sockets().map((s) => s.address)).toEqual([`127.0.0.1:${port}`]);
    expect(() => statSync(sock)).toThrow();
  });
  it('a reload whose new address cannot be bound throws before stopping anything', async () => {
    const dir = tmp();
    const [port, takenPort] = [await freePort(), await freePort()];
    const taken = createServer();
    servers.push(taken);
    await new Promise<void>((r) => taken.listen(takenPort, '127.0.0.1', r));
    const v1 = stackPlan(dir, [servicePlan('web', 'exec sleep 30', { listen: [tcp(port)] })]);
    const stack = createStack({ plan: v1, bus: createBus() });
    stacks.push(stack);
    stack.startAll();
    const pid = await waitFor(() => stack.runner('web')?.pid());
    const v2 = stackPlan(dir, [
      servicePlan('web', 'exec sleep 30', { listen: [tcp(port), tcp(takenPort, 'more')] }),
      servicePlan('api', 'exec sleep 30', { listen: [tcp(await freePort())] }),
    ]);
    await expect(applyPlanDiff(stack, v2, planDiff(v1, v2))).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${takenPort} for service "web".*EADDRINUSE`),
    );
    expect(stack.runner('web')?.pid()).toBe(pid);
    expect(stack.names()).toEqual(['web']);
    expect(stack.sockets().map((s) => s.address)).toEqual([`127.0.0.1:${port}`]);
  });
  describe('restart.overlap', () => {
    // writes its pid on start; on SIGTERM takes 1.5 s to finish (a drain), then exits
    const DRAINING = (dir: string) =>
      `echo $$ >> ${dir}/starts; trap 'echo $$ >> ${dir}/terms; sleep 1.5; exit 0' TERM; while :; do sleep 0.05; done`;
    const starts = (dir: string) =>
      readFileSync(join(dir, 'starts'), 'utf8').trim().split('\n').filter(Boolean).map(Number);

    it('the new process starts before the old one is signalled and takes over; one spawn per restart', async () => {
      const dir = tmp();
      const port = await freePort();
      const { stack } = start(
        [servicePlan('web', DRAINING(dir), { listen: [tcp(port)], restart: { overlapMs: 0 } })],
        dir,
      );
      const first = await waitFor(() => stack.runner('web')?.pid());
      await waitFor(() => starts(dir).length === 1);
      stack.restart('web');
      // the successor runs while the old one is still draining
      await waitFor(() => starts(dir).length === 2);
      expect(alive(first)).toBe(true);
      const second = starts(dir)[1];
      expect(second).not.toBe(first);
      // once the old one is gone the successor is the service: no third process
      await waitFor(() => !alive(first) && stack.runner('web')?.pid() === second, { timeoutMs: 10_000 });
      expect(stack.runner('web')?.model().state).toBe('running');
      expect(starts(dir)).toHaveLength(2);
      expect(alive(second)).toBe(true);
    });

    it('a stop during the overlap stops both; nothing is left', async () => {
      const dir = tmp();
      const port = await freePort();
      const { stack } = start(
        [servicePlan('web', DRAINING(dir), { listen: [tcp(port)], restart: { overlapMs: 0 } })],
        dir,
      );
      await waitFor(() => stack.runner('web')?.pid());
      await waitFor(() => starts(dir).length === 1);
      stack.restart('web');
      await waitFor(() => starts(dir).length === 2);
      await stack.stop('web');
      for (const pid of starts(dir)) expect(alive(pid)).toBe(false);
      expect(stack.runner('web')?.model().state).toBe('stopped');
    });
    it('with a duration, the old process serves beside the new one that long before its stop signal', async () => {
      const dir = tmp();
      const port = await freePort();
      const { stack } = start(
        [servicePlan('web', DRAINING(dir), { listen: [tcp(port)], restart: { overlapMs: 2000 } })],
        dir,
      );
      const first = await waitFor(() => stack.runner('web')?.pid());
      await waitFor(() => starts(dir).length === 1);
      stack.restart('web');
      await waitFor(() => starts(dir).length === 2);
      // both run, and the old one has not been signalled yet
      expect(() => readFileSync(join(dir, 'terms'))).toThrow();
      expect(stack.runner('web')?.pid()).toBe(first);
      await waitFor(() => readFileSync(join(dir, 'terms'), 'utf8').trim() === String(first), {
        timeoutMs: 10_000,
      });
      await waitFor(() => stack.runner('web')?.pid() === starts(dir)[1], { timeoutMs: 10_000 });
      expect(starts(dir)).toHaveLength(2);
    });
  });
});
