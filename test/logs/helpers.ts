import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ServiceLog } from '../../src/logs/index.js';
import type { LogPlan } from '../../src/manifest/types.js';

/** temp dirs and children of the current test, removed/killed in afterEach even when the test failed */
export function createScratch() {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  return {
    dir(): string {
      const d = mkdtempSync(join(tmpdir(), 'tend-logs-'));
      dirs.push(d);
      return d;
    },
    /** a node child running `script`, stdout/stderr piped */
    node(script: string, stdin: 'ignore' | 'pipe' = 'ignore'): ChildProcess {
      const c = spawn(process.execPath, ['-e', script], { stdio: [stdin, 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
    track(c: ChildProcess): ChildProcess {
      children.push(c);
      return c;
    },
    async cleanup(): Promise<void> {
      for (const c of children.splice(0)) {
        if (c.exitCode === null && c.signalCode === null) {
          const gone = new Promise((r) => c.once('exit', r));
          c.kill('SIGKILL');
          await gone;
        }
      }
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** a log plan for tests: time-stamped raw lines unless the test says otherwise (rawText reads them) */
export function plan(over: Partial<LogPlan> = {}): LogPlan {
  return { format: 'raw', timestamps: true, maxSizeBytes: 0, keep: 0, stdout: false, ...over };
}

/** resolves when the child has exited and its pipes are closed */
export function closed(c: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => c.once('close', (code) => resolve(code)));
}

export function fileLines(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** the text of a raw line: after the time and the stream */
export function rawText(line: string): string {
  const a = line.indexOf(' ');
  return line.slice(line.indexOf(' ', a + 1) + 1);
}

export function rawStream(line: string): string {
  const a = line.indexOf(' ');
  return line.slice(a + 1, line.indexOf(' ', a + 1));
}

/** a stream attached to `log` as a child's output would be: `write` resolves once the log has read it */
export function feed(log: ServiceLog, name: 'stdout' | 'stderr' = 'stdout') {
  const src = new PassThrough();
  log.attach(src, name);
  const turn = () => new Promise((r) => setImmediate(r));
  return {
    async write(text: string | Buffer): Promise<void> {
      src.write(text);
      await turn();
    },
    async end(): Promise<void> {
      src.end();
      await turn();
      await turn();
    },
  };
}
