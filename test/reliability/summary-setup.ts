/**
 * Global setup of the reliability suite (next to test/global-setup.ts, which builds the CLI): starts an empty
 * summary, and at the end merges the lines every test appended (helpers.ts `tally`) into
 * test-results/reliability.json and prints the fault matrix.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LINES = join(ROOT, 'test-results', 'reliability.jsonl');
const SUMMARY = join(ROOT, 'test-results', 'reliability.json');

interface Entry {
  fault: string;
  result: string;
  durationMs: number;
  tried: Record<string, number>;
  figures: Record<string, number | string>;
}

export default function setup() {
  mkdirSync(dirname(LINES), { recursive: true });
  rmSync(LINES, { force: true });
  const started = Date.now();
  return () => {
    const entries: Entry[] = existsSync(LINES)
      ? readFileSync(LINES, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Entry)
      : [];
    const summary = {
      when: new Date().toISOString(),
      wallMs: Date.now() - started,
      passed: entries.filter((e) => e.result === 'pass').length,
      knownFailures: entries.filter((e) => e.result === 'known-failure').length,
      failed: entries.filter((e) => e.result !== 'pass' && e.result !== 'known-failure').length,
      faults: entries,
    };
    writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
    rmSync(LINES, { force: true });
    const lines = entries.map((e) => {
      const tried = Object.entries(e.tried)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      const mark = e.result === 'pass' ? 'ok  ' : e.result === 'known-failure' ? 'KNOWN' : 'FAIL';
      return `  ${mark} ${e.fault} — tried ${tried || '-'} (${(e.durationMs / 1000).toFixed(1)} s)`;
    });
    process.stdout.write(
      `\nreliability fault matrix (${entries.length} faults, ${(summary.wallMs / 1000).toFixed(0)} s; ${SUMMARY}):\n${lines.join('\n')}\n`,
    );
  };
}
