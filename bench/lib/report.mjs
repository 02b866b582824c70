// bench/RESULTS.md and bench/results.svg from the results of one `bench/run`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as fleet from '../fleet/run.mjs';
import * as idle from '../idle/run.mjs';
import * as logs from '../logs-peers/run.mjs';
import * as restart from '../restart-latency/run.mjs';
import * as scale from '../scale/run.mjs';
import * as startup from '../startup/run.mjs';
import { chartSvg } from './chart.mjs';
import { NAMES } from './supervisors.mjs';
import { fmt } from './util.mjs';
import { BENCH_DIR } from './workdir.mjs';

const LABEL = { tend: 'tend', runit: 'runit', supervisord: 'supervisord', pm2: 'PM2' };
const ok = (r) => r && !r.skipped && !r.failed;

/** A peer's cell: value and its ratio to tend's. */
function cell(r, get, tendR, digits = 3, suffix = '') {
  if (!r) return '–';
  if (r.skipped) return `not measured (${r.skipped})`;
  if (r.failed) return `did not finish: ${r.failed}`;
  const v = get(r);
  if (v === undefined || Number.isNaN(v)) return '–';
  const t = ok(tendR) ? get(tendR) : undefined;
  const ratio = t && r !== tendR && t !== 0 ? ` (${(v / t).toFixed(2)}x)` : '';
  return `${fmt(v, digits)}${suffix}${ratio}`;
}

/**
 * tend against the best peer of the same run: "0.85x (runit)" = tend's figure is 0.85 times the best peer's;
 * below 1 leads where lower is better, above 1 where higher is better (throughput). ✅ when tend leads.
 */
function versusBest(byName, names, get, higherIsBetter) {
  const t = ok(byName?.tend) ? get(byName.tend) : undefined;
  const peers = names
    .slice(1)
    .filter((n) => ok(byName?.[n]) && Number.isFinite(get(byName[n])))
    .map((n) => [n, get(byName[n])]);
  if (!Number.isFinite(t) || peers.length === 0) return '–';
  peers.sort((a, b) => (higherIsBetter ? b[1] - a[1] : a[1] - b[1]));
  const [best, v] = peers[0];
  const leads = higherIsBetter ? t >= v : t <= v;
  if (v === 0) return t === 0 ? `tied (${LABEL[best]})` : `❌ (${LABEL[best]} 0)`;
  return `${leads ? '✅' : '❌'} ${(t / v).toFixed(2)}x (${LABEL[best]})`;
}

/** Rows of the summary table: one per figure, one column per supervisor. */
function summaryRows(R, names) {
  const rows = [];
  const add = (figure, byName, get, digits, suffix, higherIsBetter = false) =>
    rows.push(
      `| ${figure} | ${versusBest(byName, names, get, higherIsBetter)} | ${names.map((n) => cell(byName?.[n], get, byName?.tend, digits, suffix)).join(' | ')} |`,
    );
  add('restart latency p50, ms', R.restart, (r) => r.p50);
  add('restart latency p95, ms', R.restart, (r) => r.p95);
  add('idle CPU, 100 services, ms per 60 s', R.idle && scaleIdle(R.idle), (r) => r.cpuPer60);
  add('idle wake-ups per second', R.idle, (r) => r.wakeups);
  add('idle RSS, MiB', R.idle, (r) => r.rssKiB / 1024);
  add('idle PSS, MiB', R.idle, (r) => r.pssKiB / 1024);
  add('start-up, 100 services, ms', R.startup?.[100], (r) => r.allMs);
  add('start-up, 1,000 services, ms', R.startup?.[1000], (r) => r.allMs);
  // Logs in two kinds of work, each against tend doing the same: the bytes as they came (supervisord, PM2) and
  // lines each time-stamped (svlogd -tt, in runit's column; tend with `timestamps: true` in tend's)
  const copy = R.logs && { tend: R.logs.tend, supervisord: R.logs.supervisord, pm2: R.logs.pm2 };
  const stamp = R.logs?.['tend-stamped'] && { tend: R.logs['tend-stamped'], runit: R.logs.runit };
  for (const [what, byName] of [
    ['logs, bytes as they came', copy],
    ['logs, time-stamped lines', stamp],
  ]) {
    if (!byName) continue;
    add(`${what}: lines lost (of the lines written)`, byName, (r) => r.maxLost, 3);
    add(`${what}: throughput, k lines/s`, byName, (r) => r.linesPerSec / 1000, 3, '', true);
    add(`${what}: supervisor CPU, ms per million lines`, byName, (r) => r.cpuPerMillion);
    add(`${what}: supervisor peak RSS, MiB`, byName, (r) => r.hwmKiB / 1024);
  }
  const kv = R.kv;
  const kvText = !kv
    ? 'not run'
    : kv.skipped
      ? `not measured (${kv.skipped})`
      : ok(kv.etcd)
        ? `${fmt(kv.etcd.p50)} / ${fmt(kv.etcd.p95)}`
        : `not measured (${kv.etcd?.skipped ?? 'no etcd row'})`;
  rows.push(
    `| config propagation (etcd put → restarted service) p50 / p95, ms | – | ${kvText} | ${names
      .slice(1)
      .map(() => 'no equivalent')
      .join(' | ')} |`,
  );
  // the fleet (issue 17): tend only, no peer publishes a status per instance or rolls a change through a fleet
  const rest = R.fleet?.rest;
  const restText = !R.fleet
    ? 'not run'
    : R.fleet.skipped
      ? `not measured (${R.fleet.skipped})`
      : rest
        ? `${fmt((rest.on.puts * 60) / rest.windowS)} (keep-alives ${fmt(((rest.on.grpc.LeaseKeepAlive ?? 0) * 60) / rest.windowS)})`
        : 'not measured';
  const noPeer = names
    .slice(1)
    .map(() => 'no equivalent')
    .join(' | ');
  rows.push(`| fleet status document at rest: etcd puts per minute | – | ${restText} | ${noPeer} |`);
  const roll = R.fleet?.rollout?.modes?.[1];
  if (roll && !roll.skipped)
    rows.push(
      `| rollout over ${R.fleet.rollout.tends} tends, max_parallel 1: total / sum of restart + ready | – | ${fmt(roll.totalMs / 1000)} s / ${fmt(roll.sumMs / 1000)} s${roll.atOnce > 1 ? ` (❌ ${roll.atOnce} at once)` : ''} | ${noPeer} |`,
    );
  return rows;
}

/** Idle CPU normalised to 60 s, whatever the window was. */
function scaleIdle(byName) {
  const out = {};
  for (const [n, r] of Object.entries(byName)) out[n] = ok(r) ? { ...r, cpuPer60: r.cpuPct * 600 } : r;
  return out;
}

const mark = (b) => (b === undefined ? '? not measured' : b ? '✅ met' : '❌ missed');

function targets(R) {
  const t = (x, n) => (ok(x?.[n]) ? x[n] : undefined);
  const out = [];
  {
    const [tr, ru, pm] = [t(R.restart, 'tend'), t(R.restart, 'runit'), t(R.restart, 'pm2')];
    const met = tr && ru && pm ? tr.p50 <= 1.5 * ru.p50 && tr.p50 < pm.p50 : undefined;
    out.push(
      `| restart p50 ≤ 1.5x runit's and below PM2's | tend ${fmt(tr?.p50)} ms; runit ${fmt(ru?.p50)} ms (1.5x = ${fmt(ru && 1.5 * ru.p50)}); PM2 ${fmt(pm?.p50)} ms | ${mark(met)} |`,
    );
  }
  {
    const peers = NAMES.slice(1).map((n) => [n, t(R.idle, n)]);
    const tr = t(R.idle, 'tend');
    const measured = peers.filter(([, r]) => r);
    const met = tr && measured.length ? measured.every(([, r]) => tr.cpuMs < r.cpuMs) : undefined;
    // CPU time comes in 10 ms ticks: two idle supervisors can both read 0, and neither is then below the other
    const tied = !met && tr && measured.length > 0 && measured.every(([, r]) => tr.cpuMs <= r.cpuMs);
    const verdict = tied
      ? `➖ tied with ${measured
          .filter(([, r]) => r.cpuMs === tr.cpuMs)
          .map(([n]) => LABEL[n])
          .join(', ')} (CPU time comes in 10 ms ticks), below the others`
      : mark(met);
    out.push(
      `| idle CPU below every peer's | tend ${fmt(tr?.cpuMs)} ms; ${measured.map(([n, r]) => `${LABEL[n]} ${fmt(r.cpuMs)} ms`).join('; ')} (same window) | ${verdict} |`,
    );
    const pm = t(R.idle, 'pm2');
    out.push(
      `| idle RSS below PM2's | tend ${fmt(tr && tr.rssKiB / 1024)} MiB; PM2 ${fmt(pm && pm.rssKiB / 1024)} MiB | ${mark(tr && pm ? tr.rssKiB < pm.rssKiB : undefined)} |`,
    );
  }
  {
    const [tr, pm, sd] = [t(R.logs, 'tend'), t(R.logs, 'pm2'), t(R.logs, 'supervisord')];
    out.push(
      `| zero lost log lines | tend lost ${tr ? tr.maxLost : '?'} of ${tr?.expected ?? '?'} | ${mark(tr ? tr.maxLost === 0 : undefined)} |`,
    );
    const met =
      tr && pm && sd ? tr.linesPerSec >= pm.linesPerSec && tr.linesPerSec >= sd.linesPerSec : undefined;
    out.push(
      `| log throughput ≥ PM2's and supervisord's (bytes as they came) | tend ${fmt(tr && tr.linesPerSec / 1000)} k lines/s; PM2 ${fmt(pm && pm.linesPerSec / 1000)} k; supervisord ${fmt(sd && sd.linesPerSec / 1000)} k | ${mark(met)} |`,
    );
    const [ts, ru] = [t(R.logs, 'tend-stamped'), t(R.logs, 'runit')];
    if (ts || ru)
      out.push(
        `| time-stamped log throughput ≥ svlogd -tt's | tend ${fmt(ts && ts.linesPerSec / 1000)} k lines/s; runit ${fmt(ru && ru.linesPerSec / 1000)} k | ${mark(ts && ru ? ts.linesPerSec >= ru.linesPerSec : undefined)} |`,
      );
    if (ts)
      out.push(
        `| zero lost log lines, time-stamped | tend lost ${ts.maxLost} of ${ts.expected} | ${mark(ts.maxLost === 0)} |`,
      );
  }
  {
    const tr = R.startup?.[1000]?.tend;
    const v = ok(tr) ? tr.allMs : undefined;
    out.push(
      `| 1,000 services up in under 5 s | tend ${fmt(v)} ms | ${mark(v === undefined ? undefined : v < 5000)} |`,
    );
  }
  if (R.kv && ok(R.kv.etcd))
    out.push(
      `| (bench/kv-propagation's own) etcd p50 under 50 ms | tend ${fmt(R.kv.etcd.p50)} ms | ${mark(R.kv.etcd.p50 < 50)} |`,
    );
  return out;
}

function chart(R, meta) {
  const names = NAMES;
  const rowsOf = (byName, get, unit, digits = 3) =>
    names.map((n) => {
      const r = byName?.[n];
      if (!ok(r))
        return { name: LABEL[n], value: Number.NaN, text: r?.failed ? 'did not finish' : 'not measured' };
      const v = get(r);
      return { name: LABEL[n], value: v, text: `${fmt(v, digits)} ${unit}` };
    });
  const panels = [
    {
      title: 'Restart latency, p50',
      note: 'exit → replacement runs; lower is better',
      rows: rowsOf(R.restart, (r) => r.p50, 'ms'),
      target: ok(R.restart?.runit) && { value: 1.5 * R.restart.runit.p50, label: '1.5x runit' },
    },
    {
      title: 'Idle CPU, 100 services',
      note: 'ms of CPU per 60 s; lower is better',
      rows: rowsOf(R.idle && scaleIdle(R.idle), (r) => r.cpuPer60, 'ms'),
    },
    {
      title: 'Idle memory, 100 services',
      note: 'supervisor RSS, MiB; lower is better',
      rows: rowsOf(R.idle, (r) => r.rssKiB / 1024, 'MiB'),
    },
    {
      title: 'Start-up, 1,000 services',
      note: 'launch → all running, s; lower is better',
      rows: rowsOf(R.startup?.[1000], (r) => r.allMs / 1000, 's'),
      target: { value: 5, label: '5 s' },
    },
    {
      title: 'Log throughput',
      note: 'k lines/s into the file; higher is better',
      rows: rowsOf(R.logs, (r) => r.linesPerSec / 1000, 'k/s'),
    },
    {
      title: 'Log CPU',
      note: 'supervisor CPU s per million lines; lower is better',
      rows: rowsOf(R.logs, (r) => r.cpuPerMillion / 1000, 's'),
    },
  ];
  return chartSvg(panels, {
    title: 'tend beside runit, supervisord and PM2',
    subtitle: `bench/run${meta.quick ? ' --quick' : ''}, ${meta.date}: ${meta.machine.text}. Shared, noisy machine: medians.`,
  });
}

/** The scale run's slopes, from bench/scale/results.json (written by `bench/run --scale`), if there is one. */
function scaleSection() {
  const data = scale.readResults();
  const head = `Written by \`bench/run --scale\` (its own, longer pass; [scale/RESULTS.md](scale/RESULTS.md) has every figure, a chart each, and [scale/TEMPLATES.md](scale/TEMPLATES.md) the templates).`;
  if (!data) return `${head}\n\nNot run yet.`;
  const m = data.meta;
  return [
    head,
    '',
    `Last run: ${m.date.slice(0, 16).replace('T', ' ')} UTC, sizes ${m.counts.join(', ')}, load before ${m.loadBefore.join(', ')}.`,
    '',
    ...scale.summaryLines(data),
  ].join('\n');
}

export function renderResults(R, meta) {
  const names = NAMES;
  const findingsFile = join(BENCH_DIR, 'lib/findings.md');
  const findings = existsSync(findingsFile) ? readFileSync(findingsFile, 'utf8').trim() : '_none recorded_';
  // bench/sockets is run by hand (it needs gunicorn and minutes of traffic): its own RESULTS.md, copied in
  const socketsFile = join(BENCH_DIR, 'sockets/RESULTS.md');
  const sockets = existsSync(socketsFile)
    ? readFileSync(socketsFile, 'utf8').trim().replace(/^# /, '## ')
    : '## Restarts under load: held sockets\n\n_not run: `node bench/sockets/run.mjs`_';
  const versions = Object.entries(meta.versions)
    .map(([k, v]) => `${LABEL[k] ?? k}: ${v}`)
    .join('; ');
  const template = R.template;
  const templateText = !template
    ? 'not run'
    : template.skipped
      ? `not measured (${template.skipped})`
      : `parse ${fmt(template.parse?.tend)} ms (Go ${fmt(template.parse?.go)} ms), execute ${fmt(template.execute?.tend)} ms (Go ${fmt(template.execute?.go)} ms)`;
  const kvRows =
    R.kv && !R.kv.skipped
      ? Object.entries(R.kv)
          .map(([b, r]) =>
            ok(r) ? `| ${b} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${r.n} |` : `| ${b} | – | – | ${r.skipped} |`,
          )
          .join('\n')
      : `| – | – | – | ${R.kv?.skipped ?? 'not run'} |`;

  const md = `# tend benchmarks

Written by \`bench/run${meta.quick ? ' --quick' : ''}\` on ${meta.date} in ${Math.round(meta.durationS / 60)} min${meta.quick ? ' (**quick pass**: fewer repetitions, shorter windows, 500,000 log lines; run `bench/run` for the real numbers)' : ''}.
See [README.md](README.md) for how to run it and what each workload does.

- Machine: ${meta.machine.text}.
- Load average (1, 5, 15 min) before: ${meta.loadBefore.join(', ')}; after: ${meta.loadAfter.join(', ')}. The machine is shared
  with other engineers' test suites, so every figure is noisy (see [Noise](#noise)).
- Versions: ${versions}.

## Summary

Medians; a peer's ratio to tend in parentheses (above 1x: the peer's number is bigger). The first column is
tend's figure over the best peer's of the same run (✅: tend leads).

| figure | tend vs the best peer | ${names.map((n) => LABEL[n]).join(' | ')} |
|---|---|${names.map(() => '--:').join('|')}|
${summaryRows(R, names).join('\n')}

![main figures](results.svg)

## Targets (issue 9)

| target | measured | |
|---|---|---|
${targets(R).join('\n')}

## Restart latency

Child exit → the replacement's first instruction. The child (\`restart-latency/child.c\`) stamps CLOCK_REALTIME
first thing, lives 1.2 s, stamps its exit and exits 1. The supervisors take turns in rounds
(${meta.restart.rounds} × ${meta.restart.restarts} restarts each). Each peer runs with its defaults: runsv pauses
1 s only after a child that lived less than 1 s, supervisord's \`startsecs=1\`, PM2's \`min_uptime\` 1 s; tend gets
\`restart: { reset_after: 1s }\`, the same rule (its default, 60 s, would back off a service that lived 1.2 s).
runit's \`run\` is the binary itself; the others exec it directly (no shell).

${restart.table(R.restart ?? {})}

supervisord checks its children once per pass of its main loop, which sleeps up to 1 s: a restart takes ~1 s.

## Idle footprint

100 services of \`sleep infinity\` per supervisor, started one supervisor after the other; once all 100 run and
${meta.idleSettleS ?? (meta.quick ? 2 : 5)} s have passed (at rest, past the tail of start-up), CPU (utime + stime of /proc/<pid>/stat) is read over the same
${meta.idleSeconds} s window for all four, memory at its end. The supervisor's processes only: tend's node
process; supervisord; runsvdir + 100 runsv; PM2's God daemon. CPU time comes in 10 ms ticks per process. Wake-ups
are context switches of all the supervisor's threads per second. RSS counts pages shared between processes once
per process, which inflates runit's 101 processes; PSS splits them.

${idle.table(R.idle ?? {}, meta.idleSeconds)}

## Start-up

Launch (spawning \`tend up\`, \`runsvdir\`, \`supervisord -n\`, or \`pm2 start ecosystem.config.js\`, which also
starts PM2's daemon) → every service has run its first instruction. Each service is \`lib/stamp-child.c\`: it
appends its name and the time to one file with a single O_APPEND write, then waits forever like \`sleep
infinity\`. Logs are off (tend \`logs: { file: false, stdout: false }\`, supervisord \`NONE\`, PM2 \`/dev/null\`, runit
no log service). runit's \`run\` is \`#!/bin/sh\` + \`exec\`, as runit users write it, and runsvdir is launched
once the second in which its folder was written has passed (runsvdir looks again a second later at a folder
changed within the current second, a pause no real boot sees). The stop column is the
supervisor's own stop of everything (SIGTERM; \`sv force-stop\` + HUP for runit; \`pm2 kill\`), first run only, cut
at ${meta.quick ? 10 : 30} s.

${startup.table(R.startup ?? {})}

## Logs

One service writes ${(meta.logLines ?? 0).toLocaleString('en-US')} numbered 100-byte lines to stdout as fast as the pipe takes them
(\`logs-peers/writer.c\`, 64 KiB buffered writes). Two kinds of work, each compared with tend doing the same:
the bytes as they came (tend \`logs: { file, stdout: false }\`, its default raw file; supervisord \`stdout_logfile\`;
PM2 \`out_file\`: each copies chunks), and lines each time-stamped (\`tend-stamped\`: the same with
\`timestamps: true\`, a time stamp and the stream name in front of each line; runit \`svlogd -tt\`, a time stamp in
front: each splits the stream into lines and stamps every one). Rotation is off everywhere so that every line stays
in one file. "Lines in the file" counts each line number once; lost = written − counted. Throughput = lines / (the
moment the file stopped growing − the writer's first line). CPU is the supervisor's over that span (runit:
runsvdir, runsv and svlogd).

${logs.table(R.logs ?? {})}

## Config propagation (tend only)

Owned by \`bench/kv-propagation/\` (run by \`bench/run\`; see its [RESULTS.md](kv-propagation/RESULTS.md)): a put
to the KV store → the first instruction of the service tend restarted because its template read the key. None of
the peers renders config from a KV store (that is consul-template's or envconsul's job beside them).

| backend | p50 ms | p95 ms | changes |
|---|--:|--:|--:|
${kvRows}

## Fleet (tend only)

Owned by \`bench/fleet/\` (run by \`bench/run\`; see [fleet/RESULTS.md](fleet/RESULTS.md) when run alone): the fleet
status document's writes at rest on a real etcd, and a config change rolled over several tends with
\`rollout: { max_parallel }\` (issue 17, [docs/fleet.md](../docs/fleet.md)). None of the peers has either.

${fleet.table(R.fleet)}

## Growth with the number of services

${scaleSection()}

${sockets}

## Other benchmarks

- Template engine beside Go's text/template: ${templateText}; see [template/RESULTS.md](template/RESULTS.md).
- In-process log throughput of \`src/logs\` (no supervisor around it): [logs/RESULTS.md](logs/RESULTS.md).

## Noise

Two shared cores with other engineers' test suites running: the load average above says how busy the machine
was. The supervisors of one workload run back to back (restart latency: interleaved rounds; idle: one shared
window), so they see the same conditions; absolute numbers move by tens of percent from run to run, ratios less.
Spawn-heavy figures (start-up) suffer most: a fork waits for a free core. Per-run values are in the tables
("runs" columns) to show the spread.

## Findings

${findings}
`;
  return { md, svg: chart(R, meta) };
}
