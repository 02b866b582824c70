/**
 * `tend logs` with no tend running: the last lines of the services' log files, where the manifest puts them.
 * Stamped and json lines carry their time and are merged by it; a raw line has none, so it keeps its place
 * in its own file's order (its `time` is NaN).
 */
import { existsSync } from 'node:fs';
import { parseLogLine, readLastLines } from '../logs/index.js';
import type { Plan } from '../manifest/types.js';
import type { LogLineView } from './types.js';

export async function readLogFiles(
  plan: Plan,
  names: string[],
  n: number,
): Promise<{ lines: LogLineView[]; files: string[] }> {
  const lines: LogLineView[] = [];
  const files: string[] = [];
  for (const name of names) {
    const path = plan.services[name]?.logs.file;
    if (!path || !existsSync(path)) continue;
    files.push(path);
    for (const text of await readLastLines(path, n)) {
      const l = parseLogLine(text, name);
      lines.push(l ? { ...l, service: name } : { time: Number.NaN, service: name, stream: 'stdout', text });
    }
  }
  const sorted = lines
    .map((l, i) => ({ l, i }))
    .sort((a, b) =>
      Number.isNaN(a.l.time) || Number.isNaN(b.l.time) ? a.i - b.i : a.l.time - b.l.time || a.i - b.i,
    )
    .map((x) => x.l)
    .slice(-n);
  return { lines: sorted, files };
}
