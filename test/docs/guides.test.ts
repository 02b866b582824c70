/**
 * The guides' shell blocks, run against the built CLI, so that a guide cannot drift from the CLI again.
 *
 * Markers (HTML comments, invisible on GitHub), on the line right before a fenced block:
 *
 *   <!-- doc-test: file tend.yaml -->   the block is written to that file (relative to the document's folder)
 *   <!-- doc-test: run -->              a shell block: each command must exit 0
 *   <!-- doc-test: sh CMD -->           a command the text implies but shows elsewhere ("while tend up runs")
 *
 * Each document gets one fresh temporary folder, and its marked blocks run in order there, as a reader
 * following along would type them; `tend` is the CLI of this test run. In a run block:
 *   - `tend up …` (which a reader leaves running in a terminal) starts in the background; the next line runs
 *     once `tend status` answers and the app is UP (at most 5 s more). Whatever still runs at the end of the document is stopped with `tend down`.
 *   - `tend logs -f …` (which follows forever) must still be running, without an error, after a second.
 *   - a line ending in `\` continues on the next; `#` starts a comment as in sh.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Block {
  kind: 'file' | 'run';
  /** for file blocks */
  name?: string;
  body: string;
  /** 1-based line of the opening fence */
  line: number;
}

/** The marked blocks of a Markdown text, in order. */
function markedBlocks(text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const hidden = /^\s*<!--\s*doc-test:\s*sh\s+(.+?)\s*-->\s*$/.exec(lines[i]);
    if (hidden) {
      out.push({ kind: 'run', body: `${hidden[1]}\n`, line: i + 1 });
      continue;
    }
    const m = /^\s*<!--\s*doc-test:\s*(file\s+(\S+)|run)\s*-->\s*$/.exec(lines[i]);
    if (!m) continue;
    const fence = /^(\s*)(`{3,}|~{3,})/.exec(lines[i + 1] ?? '');
    if (!fence) throw new Error(`line ${i + 1}: a doc-test marker must be right before a fenced block`);
    const body: string[] = [];
    let j = i + 2;
    while (j < lines.length && !lines[j].trimStart().startsWith(fence[2])) body.push(lines[j++]);
    out.push({
      kind: m[2] ? 'file' : 'run',
      name: m[2],
      body: `${body.join('\n')}\n`,
      line: i + 2,
    });
    i = j;
  }
  return out;
}

/** Commands of a shell block: continuation lines joined, blank and comment-only lines dropped. */
function commands(body: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (const raw of body.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      cur += `${line.slice(0, -1)} `;
      continue;
    }
    const full = cur + line;
    cur = '';
    if (full.trim() === '' || full.trim().startsWith('#')) continue;
    out.push(full.trim());
  }
  return out;
}

/** The documents that carry markers: README.md and docs/**.md. */
function documents(): string[] {
  const docs = ['README.md'];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.md')) docs.push(join(dir, e.name));
    }
  };
  walk('docs');
  return docs.filter((d) => /<!--\s*doc-test:/.test(readFileSync(join(ROOT, d), 'utf8')));
}

const scratch: string[] = [];
const running: { proc: ChildProcess; cwd: string }[] = [];
afterAll(() => {
  for (const r of running.splice(0)) {
    try {
      if (r.proc.exitCode === null) process.kill(-r.proc.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workspace(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'tend-doc-'));
  scratch.push(dir);
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'tend'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
  chmodSync(join(bin, 'tend'), 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' };
  for (const k of ['TEND_SOCKET', 'TEND_KV', 'TEND_TOKEN', 'TEND_HTTP']) delete env[k];
  return { dir, env };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runBlock(doc: string, block: Block, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  for (const cmd of commands(block.body)) {
    const where = `${doc}:${block.line}: ${cmd}`;
    if (/^tend up\b/.test(cmd)) {
      const proc = spawn('sh', ['-c', `exec ${cmd}`], { cwd: dir, env, detached: true, stdio: 'pipe' });
      let output = '';
      proc.stdout?.on('data', (d) => (output += d));
      proc.stderr?.on('data', (d) => (output += d));
      running.push({ proc, cwd: dir });
      const by = Date.now() + 20_000;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`${where}: exited ${proc.exitCode}\n${output}`);
        if (spawnSync('tend', ['status'], { cwd: dir, env }).status === 0) break;
        if (Date.now() > by) throw new Error(`${where}: tend status did not answer within 20 s\n${output}`);
        await sleep(200);
      }
      // as a reader would: look once the app is UP (ready or not), or a few seconds later
      const settled = Date.now() + 5000;
      while (!/\bapp UP\b/.test(output) && Date.now() < settled && proc.exitCode === null) await sleep(100);
      continue;
    }
    if (/^tend logs\b.*\s-f\b/.test(cmd)) {
      const proc = spawn('sh', ['-c', `exec ${cmd}`], { cwd: dir, env, detached: true, stdio: 'pipe' });
      let err = '';
      proc.stderr?.on('data', (d) => (err += d));
      await sleep(1000);
      const code = proc.exitCode;
      if (code === null) process.kill(-proc.pid!, 'SIGTERM');
      expect(code === null || code === 0, `${where}: exited ${code}\n${err}`).toBe(true);
      expect(err, where).toBe('');
      continue;
    }
    const r = spawnSync('sh', ['-c', cmd], { cwd: dir, env, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, `${where}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  }
}

describe('markers', () => {
  it('reads file and run blocks, and commands with continuations and comments', () => {
    const md = [
      'text',
      '<!-- doc-test: file kv/a -->',
      '```',
      'x',
      '```',
      '<!-- doc-test: sh tend up -->',
      '<!-- doc-test: run -->',
      '```sh',
      'tend check   # validate',
      '# a comment',
      'tend export systemd \\',
      '  --requires docker.service',
      '```',
    ].join('\n');
    const blocks = markedBlocks(md);
    expect(blocks.map((b) => [b.kind, b.name, b.line])).toEqual([
      ['file', 'kv/a', 3],
      ['run', undefined, 6],
      ['run', undefined, 8],
    ]);
    expect(blocks[0].body).toBe('x\n');
    expect(blocks[1].body).toBe('tend up\n');
    expect(commands(blocks[2].body)).toEqual([
      'tend check   # validate',
      'tend export systemd    --requires docker.service',
    ]);
  });
});

describe('the guides’ runnable blocks', () => {
  const docs = documents();
  it('are marked in the README and the guides', () => {
    const total = docs.reduce(
      (n, d) => n + markedBlocks(readFileSync(join(ROOT, d), 'utf8')).filter((b) => b.kind === 'run').length,
      0,
    );
    expect(docs).toContain('README.md');
    expect(total).toBeGreaterThanOrEqual(8);
  });

  for (const doc of docs) {
    it(`${doc}`, { timeout: 60_000 }, async () => {
      const { dir, env } = workspace();
      try {
        for (const block of markedBlocks(readFileSync(join(ROOT, doc), 'utf8'))) {
          if (block.kind === 'file') {
            const path = join(dir, block.name as string);
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, block.body);
          } else await runBlock(doc, block, dir, env);
        }
      } finally {
        for (const r of running.filter((x) => x.cwd === dir)) {
          if (r.proc.exitCode !== null) continue;
          const gone = new Promise((resolve) => r.proc.once('exit', resolve));
          spawnSync('tend', ['down'], { cwd: dir, env, timeout: 20_000 });
          await Promise.race([gone, sleep(2000)]);
          if (r.proc.exitCode === null) process.kill(-r.proc.pid!, 'SIGKILL');
        }
      }
    });
  }
});
