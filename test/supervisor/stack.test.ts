import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus, type ServiceEvent } from '../../src/events/index.js';
import { createStack, type Stack } from '../../src/supervisor/index.js';
import { servicePlan, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';

const stacks: Stack[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of stacks.splice(0)) {
    await s.stopAll('test cleanup');
    await s.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'tend-stack-'));
  dirs.push(d);
  return d;
}

function setup(services: ReturnType<typeof servicePlan>[]) {
  const dir = tmp();
  const bus = createBus();
  const events: ServiceEvent[] = [];
  bus.subscribe((e) => {
    if (e.kind === 'service') events.push(e);
  });
  const stack = createStack({ plan: stackPlan(dir, services), bus });
  stacks.push(stack);
  return { stack, events, dir };
}

describe('stack', () => {
  it('starts in `after` order and stops in reverse', async () => {
    const { stack, events } = setup([
      servicePlan('db', 'exec sleep 30'),
      servicePlan('api', 'exec sleep 30', { after: ['db'] }),
      servicePlan('web', 'exec sleep 30', { after: ['api'] }),
    ]);
    stack.startAll();
    await waitFor(() => stack.allReady());
    const started = events.filter((e) => e.to === 'running').map((e) => e.service);
    expect(started).toEqual(['db', 'api', 'web']);
    await stack.stopAll();
    const stopped = events.filter((e) => e.to === 'stopped').map((e) => e.service);
    expect(stopped).toEqual(['web', 'api', 'db']);
  });

  it('ends with the exit code of an essential service', async () => {
    const { stack } = setup([
      servicePlan('main', 'sleep 0.3; exit 7', { essential: true, restart: { policy: 'never' } }),
      servicePlan('side', 'exec sleep 30'),
    ]);
    stack.startAll();
    const end = await stack.ended;
    expect(end).toMatchObject({ service: 'main', code: 7 });
  });

  it('writes every line of a service to its log file', async () => {
    const dir = tmp();
    const file = join(dir, 'out.log');
    const { stack } = setup([
      servicePlan('talker', 'for i in 1 2 3; do echo line $i; done; echo oops >&2; exec sleep 30', {
        logs: { file },
      }),
    ]);
    stack.startAll();
    await waitFor(() => stack.log('talker')?.tail(10).length === 4);
    await stack.log('talker')?.flush();
    const text = readFileSync(file, 'utf8');
    // raw (the default): the bytes the service wrote, nothing in front; stderr comes on its own socket
    expect(text.replace('oops\n', '')).toBe('line 1\nline 2\nline 3\n');
    expect(text).toContain('oops\n');
  });
});

describe('stack.configChanged', () => {
  it('restarts a running service, signals one on reload, and leaves a waiting one to start on the new config', async () => {
    const dir = tmp();
    const hups = join(dir, 'hups');
    const { stack, events } = setup([
      servicePlan('web', 'exec sleep 30'),
      servicePlan('api', `trap 'echo hup >> ${hups}' HUP; while :; do sleep 0.05; done`),
      servicePlan('late', 'exec sleep 30'),
    ]);
    stack.setGate('late', 'config', 'waiting for config: a.conf not rendered yet');
    stack.startAll();
    await waitFor(() => stack.runner('web')?.model().state === 'running' && stack.runner('api')?.model().pid);
    const pid = stack.runner('web')?.model().pid;

    expect(stack.configChanged('web', { restart: true, signals: [] }, 'config changed: web.conf')).toEqual({
      did: 'restarted',
    });
    await waitFor(() => {
      const m = stack.runner('web')?.model();
      return m?.state === 'running' && m.pid !== pid;
    });
    expect(events.filter((e) => e.service === 'web').map((e) => e.to)).toEqual([
      'starting',
      'running',
      'stopping',
      'starting',
      'running',
    ]);

    expect(stack.configChanged('api', { restart: false, signals: ['SIGHUP'] }, 'config changed')).toEqual({
      did: 'signalled',
      signals: ['SIGHUP'],
    });
    await waitFor(() => {
      try {
        return readFileSync(hups, 'utf8') === 'hup\n';
      } catch {
        return false;
      }
    });

    expect(stack.configChanged('late', { restart: true, signals: [] }, 'config changed')).toEqual({
      did: 'nothing',
    });
    expect(stack.runner('late')?.model().state).toBe('waiting');
    stack.setGate('late', 'config', null);
    await waitFor(() => stack.runner('late')?.model().state === 'running');
    expect(events.filter((e) => e.service === 'late' && e.to === 'starting')).toHaveLength(1);
  });
});
