import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobEvent } from '../../src/events/index.js';
import { parseSchedule } from '../../src/lifecycle/index.js';
import { servicePlan, stackPlan } from '../helpers/plan.js';
import { waitFor } from '../helpers/wait.js';
import { cleanup, tmp, up } from './harness.js';

afterEach(cleanup);

const count = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
};

describe('scheduled jobs', () => {
  it('a job every second runs, skips the runs due while it is still going, and is not restarted', async () => {
    const dir = tmp();
    const quick = servicePlan('quick', `echo run >> ${dir}/quick.log`, {
      isJob: true,
      schedule: '* * * * * *',
    });
    // every run lasts 2.5 s: the two runs due meanwhile are skipped
    const slow = servicePlan('slow', `echo $$ >> ${dir}/slow.log; exec sleep 2.5`, {
      isJob: true,
      schedule: '* * * * * *',
    });
    const web = servicePlan('web', 'exec sleep 1000');
    const s = await up(stackPlan(dir, [web, quick, slow]));
    await waitFor(() => s.rt.appState() === 'UP', { what: 'UP' });
    // jobs don't start with the services
    expect(s.rt.stack.runner('slow')?.model().state).toBe('stopped');

    await waitFor(() => count(join(dir, 'quick.log')) >= 3, { what: 'three quick runs', timeoutMs: 10_000 });
    const slowRuns = (run: JobEvent['run']) =>
      s.events.filter((e) => e.kind === 'job' && e.service === 'slow' && e.run === run).length;
    await waitFor(() => slowRuns('skipped') >= 1, { what: 'a skip' });
    const slowPid = s.rt.stack.runner('slow')?.model().pid;
    expect(slowPid).toBeDefined();

    // an app restart (failed monitor, SIGHUP) restarts the services but leaves a running job alone
    const webPid = s.rt.stack.runner('web')?.model().pid;
    await s.rt.hangup('test restart');
    expect(s.rt.stack.runner('web')?.model().pid).not.toBe(webPid);
    expect(s.rt.stack.runner('slow')?.model().pid).toBe(slowPid);

    await waitFor(() => count(join(dir, 'slow.log')) >= 2, { what: 'a second slow run', timeoutMs: 10_000 });
    const jobEvents = s.events.filter((e): e is JobEvent => e.kind === 'job' && e.service === 'slow');
    const firstFinished = jobEvents.find((e) => e.run === 'finished');
    expect(firstFinished).toMatchObject({ exitCode: 0, signal: null });
    expect(firstFinished?.durationMs).toBeGreaterThanOrEqual(2000);
    // between a start and its finish, only skips
    const firstStart = jobEvents.findIndex((e) => e.run === 'started');
    const firstEnd = jobEvents.findIndex((e) => e.run === 'finished');
    expect(jobEvents.slice(firstStart + 1, firstEnd).every((e) => e.run === 'skipped')).toBe(true);
    expect(jobEvents.slice(firstStart + 1, firstEnd).length).toBeGreaterThanOrEqual(1);

    expect(slowRuns('started')).toBe(count(join(dir, 'slow.log')));
    expect(slowRuns('skipped')).toBeGreaterThanOrEqual(1);
    // the runner never restarted a job by itself: each spawn came from the schedule. A run's line reaches the
    // log a moment after its spawn (the shell has to start), which under load once caught the counts apart:
    // wait for a moment they agree, which a runner restarting on its own would never give.
    const spawnsMatchRuns = () =>
      s.rt.stack.runner('quick')?.status().restarts === count(join(dir, 'quick.log')) - 1;
    await waitFor(spawnsMatchRuns, { what: 'one quick spawn per scheduled run', timeoutMs: 5000 });
  });

  it('jobs stop with the app, their running process included', async () => {
    const dir = tmp();
    const slow = servicePlan('slow', 'exec sleep 1000', { isJob: true, schedule: '* * * * * *' });
    const s = await up(stackPlan(dir, [slow]));
    await waitFor(() => s.rt.stack.runner('slow')?.model().state === 'running', { what: 'job running' });
    await s.rt.shutdown(0, 'test');
    expect(s.rt.stack.runner('slow')?.model().state).toBe('stopped');
    const finished = s.events.find((e): e is JobEvent => e.kind === 'job' && e.run === 'finished');
    expect(finished?.signal).toBe('SIGTERM');
  });

  it('a bad cron expression is refused naming the service', () => {
    expect(() => parseSchedule('cleanup', 'every day')).toThrow(
      /service cleanup: schedule "every day" is not a cron/,
    );
    expect(() => parseSchedule('cleanup', '*/5 * * * *')).not.toThrow();
    expect(() => parseSchedule('cleanup', '*/5 * * * * *')).not.toThrow();
  });
});
