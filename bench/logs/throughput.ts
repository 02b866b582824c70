/**
 * Informal throughput of src/logs: 2M lines of 100 bytes from a real child through a ServiceLog into a file,
 * with this process's CPU per million lines (all its threads).
 * Build and run (the node_modules link lets the posix_spawn rows load koffi):
 *   npx tsc --outDir /tmp/tend-bench --rootDir . --module nodenext --moduleResolution nodenext \
 *   --target es2022 --types node --skipLibCheck --ignoreConfig bench/logs/throughput.ts && \
 *   ln -sfn "$PWD/node_modules" /tmp/tend-bench/node_modules && node /tmp/tend-bench/bench/logs/throughput.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createEcho, createServiceLog, OUTPUT_ONREAD } from '../../src/logs/index.js';
import { fastSpawn } from '../../src/procs/index.js';

/** this process's CPU (every thread: the main one, libuv's pool, V8's helpers) since `from`, in ms */
const cpuSince = (from: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};

const LINES = Number(process.env.LINES ?? 2_000_000);

// The child writes 64 KiB strings of numbered 100-byte lines, so it is not the bottleneck.
const childScript = `
const n = ${LINES};
let i = 0;
function more() {
  while (i < n) {
    let s = '';
    for (let k = 0; k < 640 && i < n; k++, i++) s += ('line ' + i + ' ').padEnd(99, 'x') + '\\n';
    if (!process.stdout.write(s)) return process.stdout.once('drain', more);
  }
}
more();
`;

/**
 * A real child, read the way `tend up` reads a service (posix_spawn, socket pairs, the shared read buffer:
 * src/logs/reader.ts) when `fast`, or through child_process's pipes and 'data' events otherwise.
 */
async function viaChild(
  format: 'raw' | 'json',
  echo: boolean,
  stamps = format === 'json',
  fast = false,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tend-bench-'));
  try {
    const file = join(dir, 'svc.log');
    const sink = new PassThrough();
    sink.resume();
    const log = createServiceLog({
      service: 'svc',
      plan: { file, format, timestamps: stamps, maxSizeBytes: 100 * 1024 * 1024, keep: 3, stdout: echo },
      echo: echo ? createEcho(sink, { color: false }) : undefined,
    });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const child = fast
      ? fastSpawn(process.execPath, ['-e', childScript], {
          cwd: dir,
          env: process.env,
          onread: OUTPUT_ONREAD,
        })
      : spawn(process.execPath, ['-e', childScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    if (!child?.stdout) throw new Error('posix_spawn is not available here');
    log.attach(child.stdout, 'stdout');
    if (fast) child.stderr?.resume();
    await new Promise((r) => child.stdout?.on('close', r));
    await log.flush();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = cpuSince(c0);
    const s = log.stats();
    await log.close();
    console.log(
      `child${fast ? ' (posix_spawn, shared buffer)' : ''} ${format}${stamps && format === 'raw' ? '+stamps' : ''}${echo ? '+echo' : ''}: ${s.lines} lines in ${ms.toFixed(0)} ms = ${Math.round((s.lines / ms) * 1000).toLocaleString()} lines/s, ` +
        `CPU ${Math.round(cpu / (s.lines / 1e6))} ms per M lines, file ${(statSync(file).size / 1e6).toFixed(0)} MB + ${s.rotations} rotations, dropped ${s.dropped}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** the pipeline alone: pre-built 64 KiB chunks pushed through a stream in this process */
async function inProcess(format: 'raw' | 'json', stamps = format === 'json'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tend-bench-'));
  try {
    const file = join(dir, 'svc.log');
    const chunks: Buffer[] = [];
    for (let i = 0; i < LINES; ) {
      let s = '';
      for (let k = 0; k < 640 && i < LINES; k++, i++) s += `line ${i} `.padEnd(99, 'x') + '\n';
      chunks.push(Buffer.from(s));
    }
    const src = new PassThrough({ highWaterMark: 64 * 1024 });
    const log = createServiceLog({
      service: 'svc',
      plan: { file, format, timestamps: stamps, maxSizeBytes: 100 * 1024 * 1024, keep: 3, stdout: false },
    });
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    log.attach(src, 'stdout');
    const ended = new Promise((r) => src.on('end', r));
    let j = 0;
    await new Promise<void>((resolve) => {
      const more = (): void => {
        while (j < chunks.length) if (!src.write(chunks[j++])) return void src.once('drain', more);
        src.end();
        resolve();
      };
      more();
    });
    await ended;
    await log.flush();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const cpu = cpuSince(c0);
    const s = log.stats();
    await log.close();
    console.log(
      `in-process ${format}${stamps && format === 'raw' ? '+stamps' : ''}: ${s.lines} lines in ${ms.toFixed(0)} ms = ${Math.round((s.lines / ms) * 1000).toLocaleString()} lines/s, CPU ${Math.round(cpu / (s.lines / 1e6))} ms per M lines`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await inProcess('raw');
await inProcess('raw', true);
await inProcess('json');
await viaChild('raw', false);
await viaChild('raw', false, true);
await viaChild('json', false);
await viaChild('raw', true);
await viaChild('raw', false, false, true);
await viaChild('raw', false, true, true);
