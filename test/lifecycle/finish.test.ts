import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FinishEvent, ServiceEvent } from '../../src/events/index.js';
import { servicePlan, sh, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, script, tmp, up } from './harness.js';

afterEach(cleanup);

const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

describe('finish hooks', () => {
  it('gets the exit code, the signal and the restart count, in env and runit-style arguments', async () => {
    const dir = tmp();
    const log = join(dir, 'finish.log');
    script(
      dir,
      'bin/report-exit',
      `echo "service=$TEND_SERVICE code=$TEND_EXIT_CODE signal=$TEND_EXIT_SIGNAL restarts=$TEND_RESTARTS args=$1,$2" >> ${log}`,
    );
    // exits 3 on its first run, then stays up until killed
    const web = servicePlan('web', 'test -f ran || { touch ran; exit 3; }; exec sleep 1000', {
      cwd: dir,
      finish: sh(`${dir}/bin/report-exit`),
      finishTimeoutMs: 5000,
    });
    const s = await up(stackPlan(dir, [web]));
    await waitFor(() => lines(log).length === 1, { what: 'first finish' });
    expect(lines(log)[0]).toBe('service=web code=3 signal= restarts=0 args=3,0');

    await waitFor(() => s.rt.stack.status()[0].state === 'running' && s.rt.stack.status()[0].restarts === 1, {
      what: 'restarted',
    });
    process.kill(s.rt.stack.status()[0].pid as number, 'SIGKILL');
    await waitFor(() => lines(log).length === 2, { what: 'second finish' });
    expect(lines(log)[1]).toBe('service=web code= signal=SIGKILL restarts=1 args=-1,9');

    await waitFor(() => s.rt.stack.status()[0].restarts === 2 && s.rt.stack.status()[0].pid, {
      what: 'restarted',
    });
    await s.rt.shutdown(0, 'test');
    // the stop by tend itself is reported too, before tend is done
    expect(lines(log)[2]).toBe('service=web code= signal=SIGTERM restarts=2 args=-1,15');
    const finishes = s.events.filter((e): e is FinishEvent => e.kind === 'finish');
    expect(finishes.map((e) => e.ok)).toEqual([true, true, true]);
  });

  it('a hanging or failing hook is reported and never holds back the restart', async () => {
    const dir = tmp();
    const hang = servicePlan('hang', 'sleep 0.3; exit 1', {
      finish: sh('echo "reporting"; exec sleep 1000'),
      finishTimeoutMs: 800,
      restart: { backoff: { initialMs: 10, maxMs: 10 }, maxFailures: 0 },
    });
    const fail = servicePlan('fail', 'sleep 0.3; exit 1', {
      finish: sh('echo "sentry unreachable" >&2; exit 5'),
      restart: { maxFailures: 0 },
    });
    const s = await up(stackPlan(dir, [hang, fail]));
    const finishOf = (name: string) =>
      s.events.filter((e): e is FinishEvent => e.kind === 'finish' && e.service === name);
    await waitFor(() => finishOf('hang').length >= 1, { what: 'hang finish timed out', timeoutMs: 10_000 });
    const first = finishOf('hang')[0];
    expect(first.ok).toBe(false);
    expect(first.output).toBe('did not finish within 800ms; killed: reporting');
    // while the first hook hung, the service was restarted at once
    const restartedBefore = s.events.some(
      (e): e is ServiceEvent =>
        e.kind === 'service' &&
        e.service === 'hang' &&
        e.to === 'running' &&
        e.restarts >= 1 &&
        e.seq < first.seq,
    );
    expect(restartedBefore).toBe(true);

    await waitFor(() => finishOf('fail').length >= 1, { what: 'fail finish' });
    expect(finishOf('fail')[0]).toMatchObject({
      ok: false,
      exitCode: 5,
      output: 'exit code 5: sentry unreachable',
    });
    // the hook's output is in the service's log, where an operator looks
    expect(
      s.rt.stack
        .log('fail')
        ?.tail()
        .map((l) => l.text),
    ).toContain('sentry unreachable');
  });
});
