#!/usr/bin/env node
// Restart latency: time from a child's exit to its replacement's first instruction, for tend, runit (runsv)
// and PM2, on the same C child, one supervisor after the other on an otherwise idle machine.
// Usage: node bench/restart-latency/run.mjs [--restarts 30] [--only tend,runit,pm2]
// Needs: cc, `npm run build`; runit (Debian `runit`) and pm2 (npm) are skipped with a note when missing.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const restarts = Number(arg('restarts', '30'));
const only = arg('only', 'tend,runit,pm2').split(',');
const work = mkdtempSync(join(tmpdir(), 'tend-bench-restart-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function compileChild() {
  const out = join(work, 'child');
  execFileSync('cc', ['-O2', '-o', out, join(here, 'child.c')]);
  return out;
}

function serviceDir(name, child) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(child, join(dir, 'child'));
  execFileSync('chmod', ['+x', join(dir, 'child')]);
  return dir;
}

/** Waits until `times` in dir holds `starts` start lines, then returns the latencies in ms. */
async function collect(dir, starts, timeoutMs) {
  const file = join(dir, 'times');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : [];
    const startCount = lines.filter((l) => l.startsWith('start')).length;
    if (startCount >= starts) return latencies(lines);
    if (Date.now() > deadline) throw new Error(`only ${startCount} of ${starts} starts in ${dir}`);
    await sleep(200);
  }
}

function latencies(lines) {
  const out = [];
  let lastExit;
  for (const l of lines) {
    const [what, t] = l.split(' ');
    const secs = Number(t);
    if (what === 'exit') lastExit = secs;
    else if (what === 'start' && lastExit !== undefined) {
      out.push((secs - lastExit) * 1000);
      lastExit = undefined;
    }
  }
  return out;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function benchTend(child) {
  const dir = serviceDir('tend', child);
  writeFileSync(
    join(dir, 'tend.yaml'),
    [
      'name: bench',
      'services:',
      '  child:',
      '    command: [./child]',
      // the child lives 1.2 s: with reset_after 1s each run counts as healthy, so every restart is immediate
      '    restart: { policy: always, reset_after: 1s }',
      '    logs: { file: false, stdout: false }',
      '',
    ].join('\n'),
  );
  const p = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'up', '-f', join(dir, 'tend.yaml')], {
    cwd: dir,
    stdio: 'ignore',
  });
  try {
    return await collect(dir, restarts + 1, (restarts + 5) * 1500 + 10_000);
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
}

async function benchRunit(child) {
  if (spawnSync('which', ['runsv']).status !== 0)
    return { skipped: 'runsv not installed (Debian package runit)' };
  const dir = serviceDir('runit', child);
  copyFileSync(join(dir, 'child'), join(dir, 'run'));
  execFileSync('chmod', ['+x', join(dir, 'run')]);
  const p = spawn('runsv', [dir], { stdio: 'ignore' });
  try {
    return await collect(dir, restarts + 1, (restarts + 5) * 2500 + 10_000);
  } finally {
    spawnSync('sv', ['force-stop', dir]);
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
}

async function benchPm2(child) {
  const pm2 = join(root, 'bench/.peers/node_modules/.bin/pm2');
  if (!existsSync(pm2)) {
    const r = spawnSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', join(root, 'bench/.peers'), 'pm2'],
      {
        stdio: 'ignore',
      },
    );
    if (r.status !== 0 || !existsSync(pm2)) return { skipped: 'could not install pm2 from npm' };
  }
  const dir = serviceDir('pm2', child);
  const env = { ...process.env, PM2_HOME: join(work, 'pm2-home') };
  execFileSync(
    pm2,
    [
      'start',
      join(dir, 'child'),
      '--name',
      'child',
      '--cwd',
      dir,
      '--interpreter',
      'none',
      '--no-autorestart=false',
    ],
    {
      env,
      stdio: 'ignore',
    },
  );
  try {
    return await collect(dir, restarts + 1, (restarts + 5) * 2500 + 20_000);
  } finally {
    spawnSync(pm2, ['kill'], { env, stdio: 'ignore' });
  }
}

const child = compileChild();
const results = {};
for (const [name, fn] of [
  ['tend', benchTend],
  ['runit', benchRunit],
  ['pm2', benchPm2],
]) {
  if (!only.includes(name)) continue;
  process.stderr.write(`restart-latency: ${name}…\n`);
  try {
    const r = await fn(child);
    results[name] = Array.isArray(r) ? { p50: pct(r, 50), p95: pct(r, 95), n: r.length } : r;
  } catch (err) {
    results[name] = { skipped: String(err.message ?? err) };
  }
}
rmSync(work, { recursive: true, force: true });

const tend = results.tend?.p50;
const rows = Object.entries(results).map(([name, r]) =>
  r.skipped
    ? `| ${name} | – | – | – | skipped: ${r.skipped} |`
    : `| ${name} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.n} | ${tend ? `${(r.p50 / tend).toFixed(2)}x tend` : ''} |`,
);
const table = [
  `Restart latency: child exit → replacement's first instruction (ms), child lives 1.2 s.`,
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| supervisor | p50 ms | p95 ms | restarts | p50 ratio |',
  '|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
process.stdout.write(table);
const outFile = arg('out');
if (outFile) writeFileSync(outFile, table);
