import { afterEach, describe, expect, it } from 'vitest';
import {
  findMarked,
  isAlive,
  killTree,
  MARKER_VAR,
  markerEnv,
  newRunId,
  parseMarker,
  processInfo,
  readMarker,
} from '../../src/procs/index.js';
import { processJanitor, waitFor } from './helpers.js';

const linux = process.platform === 'linux';

describe('marker', () => {
  it('formats and parses <runId>:<service>', () => {
    const runId = newRunId();
    expect(runId).toMatch(/^[a-z0-9]+-[0-9a-f]{8}$/);
    expect(newRunId()).not.toBe(runId);
    const env = markerEnv(runId, 'web:api');
    expect(env).toEqual({ [MARKER_VAR]: `${runId}:web:api` });
    expect(parseMarker(env[MARKER_VAR])).toEqual({ runId, service: 'web:api' });
    expect(parseMarker('nocolon')).toBeUndefined();
    expect(parseMarker(':svc')).toBeUndefined();
    expect(() => markerEnv('bad:id', 'x')).toThrow(TypeError);
  });
});

describe.skipIf(!linux)('findMarked and killTree', () => {
  const janitor = processJanitor();
  const runId = newRunId();
  afterEach(() => {
    // Escaped daemons are in no group we know: the marker is how the test finds them too.
    for (const pid of findMarked((m) => m.runId === runId)) janitor.track(pid);
    janitor.cleanup();
  });

  /** A daemon that left its parent's group and session, as `setsid` daemons do; returns its pid. */
  async function startEscapedDaemon(service: string): Promise<number> {
    const env = { ...process.env, ...markerEnv(runId, service) };
    const child = janitor.spawn(
      'sh',
      ['-c', 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!; exit 0'],
      {
        env,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    const out = await new Promise<string>((resolve) => {
      let text = '';
      child.stdout!.on('data', (d) => {
        text += d;
      });
      child.on('close', () => resolve(text));
    });
    const pid = Number(out.trim());
    janitor.track(pid);
    return pid;
  }

  it('finds a setsid daemon by its marker, and killTree kills it', async () => {
    const daemon = await startEscapedDaemon('worker');
    const other = await startEscapedDaemon('web');
    // Out of the group and session tend would have given its service, and no longer our descendant.
    await waitFor(() => processInfo(daemon)?.sid === daemon, 5000, 'setsid');
    expect(processInfo(daemon)!.ppid).not.toBe(process.pid);

    expect(readMarker(daemon)).toEqual({ runId, service: 'worker' });
    expect(findMarked((m) => m.runId === runId && m.service === 'worker')).toEqual([daemon]);
    expect(findMarked((m) => m.runId === runId).sort((a, b) => a - b)).toEqual(
      [daemon, other].sort((a, b) => a - b),
    );
    expect(findMarked((m) => m.runId === 'some-other-run')).toEqual([]);

    expect(killTree([daemon], 'SIGTERM')).toEqual([daemon]);
    await waitFor(() => !isAlive(daemon), 5000, 'daemon to die');
    expect(isAlive(other)).toBe(true);
  });

  it('killTree reaches every descendant, and never this process or its ancestors', async () => {
    const child = janitor.spawn('sh', ['-c', 'sh -c "sleep 300 & sleep 300 & wait" & wait']);
    const root = child.pid!;
    const { descendants } = await import('../../src/procs/index.js');
    const tree = await waitFor(() => descendants(root).length === 3 && descendants(root), 5000, 'tree');
    const reached = killTree([root, process.pid, process.ppid], 'SIGTERM');
    expect(reached).toEqual([root, ...tree].sort((a, b) => a - b));
    await waitFor(() => [root, ...tree].every((p) => !isAlive(p)), 5000, 'tree to die');
    expect(isAlive(process.pid)).toBe(true);
  });

  it('killTree without freezing, signal 0 only probes', async () => {
    const child = janitor.spawn('sleep', ['300']);
    expect(killTree([child.pid!], 0)).toEqual([child.pid]);
    expect(processInfo(child.pid!)!.state).not.toBe('T');
    expect(killTree([child.pid!], 'SIGKILL', { freeze: false })).toEqual([child.pid]);
    await waitFor(() => !isAlive(child.pid!), 5000, 'sleep to die');
    expect(killTree([999_999_999], 'SIGKILL')).toEqual([]);
  });
});
