/**
 * Property-based fuzzing (fast-check) of the manifest loader, the duration and size parsers and the template
 * engine: no crash, no hang, only the documented errors.
 *
 * - parseDuration / parseSize: a whole, safe, non-negative number that formatDuration / formatSize writes back
 *   exactly, the exact sum for well-formed input, or a UnitError saying `invalid duration|size`;
 * - the loader: a Plan, or a ManifestError listing `file:line:column: message` issues inside the text;
 * - the engine: output, or a TemplateError in Go's `template: NAME:…` shape; a backtracking regexp ends
 *   within its budget.
 *
 * Each property runs in a worker thread on the test run's build (test/global-setup.ts) and announces every
 * input before trying it; a worker that goes quiet for HANG_MS is killed and the test fails with that input.
 * FUZZ_SEED replays a run; FUZZ_RUNS scales the number of inputs.
 */
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';
import { SPEC_EXAMPLE } from '../manifest/spec-example.js';
import { tally } from './helpers.js';

const HANG_MS = 5000;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);

interface Outcome {
  ok: boolean;
  runs: number;
  outcomes: Record<string, number>;
  message?: string;
}

/** How long the worker may take to load the build before its first input. */
const LOAD_MS = 60_000;

function runProperty(property: string, numRuns: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const worker = new Worker(join(import.meta.dirname, 'fuzz-worker.mjs'), {
      workerData: {
        dist: dirname(dirname(CLI)),
        property,
        numRuns: Math.max(1, Math.round(numRuns * SCALE)),
        seed: SEED,
        specExample: SPEC_EXAMPLE,
      },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    let last = '';
    let tried = 0;
    let settled = false;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      void worker.terminate();
      resolve(o);
    };
    let watchdog = setTimeout(() => {}, 0);
    // Loading the build in the worker is not an input: on a loaded machine the imports alone took over 5 s
    // and read as a hang on "" before the first input. The first input gets the loading time on top.
    const arm = (ms = HANG_MS) => {
      clearTimeout(watchdog);
      watchdog = setTimeout(
        () =>
          finish({
            ok: false,
            runs: tried,
            outcomes: {},
            message: `hang: no answer within ${ms} ms for input ${JSON.stringify(last)} (seed ${SEED})`,
          }),
        ms,
      );
    };
    arm(LOAD_MS + HANG_MS);
    worker.on(
      'message',
      (m: {
        t: string;
        input?: string;
        runs?: number;
        outcomes?: Record<string, number>;
        message?: string;
      }) => {
        if (m.t === 'try') {
          tried++;
          last = m.input ?? '';
          arm();
        } else if (m.t === 'done') finish({ ok: true, runs: m.runs ?? tried, outcomes: m.outcomes ?? {} });
        else if (m.t === 'fail')
          finish({
            ok: false,
            runs: m.runs ?? tried,
            outcomes: m.outcomes ?? {},
            message: `${m.message} (seed ${SEED})`,
          });
      },
    );
    worker.on('error', (e) =>
      finish({
        ok: false,
        runs: tried,
        outcomes: {},
        message: `crash on ${JSON.stringify(last)}: ${e.stack ?? e} (seed ${SEED})`,
      }),
    );
    worker.on('exit', (code) =>
      finish({
        ok: false,
        runs: tried,
        outcomes: {},
        message: `worker exited (${code}) on ${JSON.stringify(last)} (seed ${SEED})`,
      }),
    );
  });
}

const cases: Array<[string, string, number]> = [
  ['duration', 'fuzz: duration parser', 3000],
  ['size', 'fuzz: size parser', 3000],
  ['manifest', 'fuzz: manifest loader', 1500],
  ['template', 'fuzz: template engine', 4000],
  ['regexp', 'fuzz: template regexp functions (backtracking patterns)', 16],
  ['pathological', 'fuzz: alias bombs, deep nesting, huge inputs (loader and engine)', 34],
];

describe('fuzzing: no crash, no hang, only the documented errors', () => {
  for (const [property, fault, numRuns] of cases) {
    it(property, { timeout: 90_000 }, async () => {
      const t = tally(fault);
      const o = await runProperty(property, numRuns);
      t.add('inputs', o.runs);
      t.set('seed', SEED);
      for (const [k, v] of Object.entries(o.outcomes)) t.set(k, v);
      expect(o.ok, o.message).toBe(true);
    });
  }
});
