// What `bench/run` runs once tend is built: installs the peers, runs every workload under tend and each peer,
// runs the other parts' benchmarks, then writes bench/RESULTS.md, bench/results.svg and bench/results.json.
//
//   bench/run [--quick] [--workloads restart,idle,startup,logs,kv,template,fleet] [--only tend,runit,supervisord,pm2]
//   bench/run --scale [--quick] [--counts 10,100,1000,5000] [--only …] [--services-only | --templates-only]
//             [--no-install] [--no-write]
//   node bench/lib/main.mjs --render    re-writes RESULTS.md and results.svg from results.json
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import * as fleet from '../fleet/run.mjs';
import * as idle from '../idle/run.mjs';
import * as logs from '../logs-peers/run.mjs';
import * as restart from '../restart-latency/run.mjs';
import * as startup from '../startup/run.mjs';
import { kvPropagation, template } from './others.mjs';
import { ensurePeers } from './peers.mjs';
import { renderResults } from './report.mjs';
import { NAMES, TEND_MAIN } from './supervisors.mjs';
import { machine, parseArgs, say } from './util.mjs';
import { BENCH_DIR, finish, ROOT, sweepAndWait } from './workdir.mjs';

const WORKLOADS = ['restart', 'idle', 'startup', 'logs', 'kv', 'template', 'fleet'];

const a = parseArgs();
if (a.flag('render')) {
  // re-render RESULTS.md and the chart from results.json (after editing findings.md or the report), no run
  const { meta, results } = JSON.parse(readFileSync(join(BENCH_DIR, 'results.json'), 'utf8'));
  const { md, svg } = renderResults(results, meta);
  writeFileSync(join(BENCH_DIR, 'RESULTS.md'), md);
  writeFileSync(join(BENCH_DIR, 'results.svg'), svg);
  say('re-rendered bench/RESULTS.md and bench/results.svg from bench/results.json');
  process.exit(0);
}

if (a.flag('scale')) {
  // the growth runs take longer than the rest together: their own pass, their own files (bench/scale/)
  const scale = await import('../scale/run.mjs');
  const templates = await import('../scale/templates.mjs');
  let failed = 0;
  try {
    const quickScale = a.flag('quick');
    const peers = ensurePeers({ install: !a.flag('no-install') });
    if (!a.flag('templates-only')) {
      const data = await scale.run({
        quick: quickScale,
        counts: a.get('counts') && a.list('counts').map(Number),
        only: a.list('only', NAMES),
        peers,
      });
      scale.write(data);
      say('wrote bench/scale/RESULTS.md, results.json and the charts');
    }
    await sweepAndWait();
    if (!a.flag('services-only')) {
      templates.write(await templates.run({ quick: quickScale }));
      say('wrote bench/scale/TEMPLATES.md, templates.json and templates.svg');
    }
  } catch (err) {
    say(`scale failed: ${err.stack ?? err}`);
    failed = 1;
  } finally {
    await finish(failed);
  }
  // the scale section of RESULTS.md comes from bench/scale/results.json: re-render it around the last full run
  if (existsSync(join(BENCH_DIR, 'results.json'))) {
    const { meta, results } = JSON.parse(readFileSync(join(BENCH_DIR, 'results.json'), 'utf8'));
    const { md, svg } = renderResults(results, meta);
    writeFileSync(join(BENCH_DIR, 'RESULTS.md'), md);
    writeFileSync(join(BENCH_DIR, 'results.svg'), svg);
  }
  process.exit(failed);
}

const quick = a.flag('quick');
const workloads = a.list('workloads', WORKLOADS);
const only = a.list('only', NAMES);
const started = Date.now();
const load = () => loadavg().map((x) => x.toFixed(2));
const meta = {
  quick,
  date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
  machine: machine(),
  loadBefore: load(),
  versions: {},
  restart: { rounds: quick ? 1 : 3, restarts: quick ? 8 : 15 },
  idleSeconds: quick ? 20 : 60,
  idleSettleS: quick ? 2 : 30,
  logLines: quick ? 500_000 : 2_000_000,
};

function tendVersion() {
  let v = '?';
  try {
    v = execFileSync(process.execPath, [TEND_MAIN, '--version'], { encoding: 'utf8' }).trim();
  } catch {}
  try {
    const commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], {
      encoding: 'utf8',
    }).trim();
    v += ` (commit ${commit}${dirty ? ', with uncommitted changes in src/' : ''})`;
  } catch {}
  return v;
}

const R = {};
let code = 0;
try {
  const peers = ensurePeers({ install: !a.flag('no-install') });
  meta.versions.tend = tendVersion();
  for (const n of NAMES.slice(1))
    meta.versions[n] = peers[n].ok ? peers[n].version : `missing (${peers[n].why})`;
  say(`machine: ${meta.machine.text}; load ${meta.loadBefore.join(' ')}`);
  const step = async (name, fn) => {
    if (!workloads.includes(name)) return;
    try {
      R[name] = await fn();
    } catch (err) {
      say(`${name} failed: ${err.stack ?? err}`);
      R[name] = { skipped: `failed: ${err.message ?? err}` };
      code = 1;
    }
    // whatever a failed workload left behind goes before the next one starts
    await sweepAndWait();
  };
  await step('restart', () => restart.run({ quick, only, peers, ...meta.restart }));
  await step('idle', () =>
    idle.run({ quick, only, peers, seconds: meta.idleSeconds, settleS: meta.idleSettleS }),
  );
  await step('startup', () => startup.run({ quick, only, peers }));
  // tend twice: its default raw file (beside supervisord and PM2) and time-stamped (beside svlogd -tt)
  const logsOnly = only.flatMap((n) => (n === 'tend' ? ['tend', 'tend-stamped'] : [n]));
  await step('logs', () => logs.run({ quick, only: logsOnly, peers, lines: meta.logLines }));
  await step('kv', () => kvPropagation({ quick }));
  await step('template', () => template());
  // tend only: the fleet document at rest and a rollout over 10 tends (5 with --quick), on a real etcd
  await step('fleet', () => fleet.run({ quick }));
} finally {
  meta.loadAfter = load();
  meta.durationS = (Date.now() - started) / 1000;
  await finish(code);
}

const { md, svg } = renderResults(R, meta);
if (a.flag('no-write')) process.stdout.write(md);
else {
  writeFileSync(join(BENCH_DIR, 'RESULTS.md'), md);
  writeFileSync(join(BENCH_DIR, 'results.svg'), svg);
  writeFileSync(join(BENCH_DIR, 'results.json'), `${JSON.stringify({ meta, results: R }, null, 1)}\n`);
  say(`wrote bench/RESULTS.md, bench/results.svg and bench/results.json in ${Math.round(meta.durationS)} s`);
}
