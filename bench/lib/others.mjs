// The benchmarks other parts of tend own (bench/kv-propagation, bench/template): run as they are, their
// printed tables read back for the summary. They write their own RESULTS.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { say } from './util.mjs';
import { BENCH_DIR, workdir } from './workdir.mjs';

/** Runs `node bench/<name>/run.mjs args`; { out, code } or { skipped }. Killed after timeoutMs. */
async function runScript(name, args, timeoutMs) {
  const script = join(BENCH_DIR, name, 'run.mjs');
  if (!existsSync(script)) return { skipped: `bench/${name}/run.mjs is not there yet` };
  say(`${name}: node bench/${name}/run.mjs ${args.join(' ')}`);
  // our marker in its environment: whatever it leaves behind (etcd) is swept at the end of the run
  const child = spawn(process.execPath, [script, ...args], {
    env: workdir().env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const code = await new Promise((r) => child.once('close', (c) => r(c)));
  clearTimeout(timer);
  return { out, code };
}

/** Cells of the markdown table row whose first cell is `first`. */
function row(text, first) {
  const line = text.split('\n').find((l) => l.startsWith(`| ${first} `));
  return line
    ?.split('|')
    .slice(1, -1)
    .map((c) => c.trim());
}

/** Config propagation: { etcd: { p50, p95, n }, file: {...} } or { skipped }. */
export async function kvPropagation({ quick }) {
  const args = quick ? ['--changes', '15'] : ['--write'];
  const r = await runScript('kv-propagation', args, quick ? 120_000 : 300_000);
  if (r.skipped) return r;
  const out = {};
  for (const backend of ['etcd', 'file']) {
    const cells = row(r.out, backend);
    if (!cells) continue;
    out[backend] =
      cells[1] === '–'
        ? { skipped: cells[5] ?? 'not measured' }
        : { p50: Number(cells[1]), p95: Number(cells[2]), n: Number(cells[5]) };
  }
  if (Object.keys(out).length === 0)
    return { skipped: `bench/kv-propagation exited with ${r.code}, no table` };
  return out;
}

/** Template engine beside Go: { parse: { tend, go }, execute: { tend, go } } or { skipped }. */
export async function template() {
  const r = await runScript('template', [], 180_000);
  if (r.skipped) return r;
  const out = {};
  for (const step of ['parse', 'execute']) {
    const c = row(r.out, step);
    if (c) out[step] = { tend: Number(c[1]), go: Number(c[2]) };
  }
  if (Object.keys(out).length === 0) return { skipped: `bench/template exited with ${r.code}, no table` };
  return out;
}
