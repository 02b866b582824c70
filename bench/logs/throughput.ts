/**
 * Informal throughput of src/logs: 2M lines of 100 bytes from a real child through a ServiceLog into a file.
 * Build and run:  npx tsc --outDir /tmp/tend-bench --rootDir . --module nodenext --moduleResolution nodenext \
 *   --target es2022 --types node --skipLibCheck --ignoreConfig bench/logs/throughput.ts && node /tmp/tend-bench/bench/logs/throughput.js
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createEcho, createServiceLog } from '../../src/logs/index.js';

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

async function viaChild(format: 'raw' | 'json', echo: boolean, stamps = format === 'json'): Promise<void> {
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
    const child = spawn(process.execPath, ['-e', childScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    log.attach(child.stdout, 'stdout');
    await new Promise((r) => child.on('close', r));
    await log.flush();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const s = log.stats();
    await log.close();
    console.log(
      `child ${format}${stamps && format === 'raw' ? '+stamps' : ''}${echo ? '+echo' : ''}: ${s.lines} lines in ${ms.toFixed(0)} ms = ${Math.round((s.lines / ms) * 1000).toLocaleString()} lines/s, ` +
        `file ${(statSync(file).size / 1e6).toFixed(0)} MB + ${s.rotations} rotations, dropped ${s.dropped}`,
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
    const s = log.stats();
    await log.close();
    console.log(
      `in-process ${format}${stamps && format === 'raw' ? '+stamps' : ''}: ${s.lines} lines in ${ms.toFixed(0)} ms = ${Math.round((s.lines / ms) * 1000).toLocaleString()} lines/s`,
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
