/**
 * Human text for the CLI and tend's own output. Light on purpose: the CLI imports it, so it depends on types
 * only.
 */
import { escapeControls } from '../logs/escape.js';
import { formatDuration as exactDuration } from '../time/duration.js';
import type { LogLineView, ReloadResult, ServiceView, StatusView } from './types.js';

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

export function formatExit(e: ServiceView['lastExit']): string {
  if (!e) return '-';
  return e.signal ? e.signal : `${e.code ?? '?'}`;
}

/** The service's reason, or what it waits for, or its last check's failure. */
export function formatReason(s: ServiceView): string {
  if (s.waiting) return s.waiting;
  if (s.state === 'waiting' && s.waitingFor.length > 0) return s.waitingFor.join('; ');
  if (s.reason) return s.reason;
  if (s.health && !s.health.ok)
    return `${s.health.check} check failing${s.health.output ? `: ${s.health.output}` : ''}`;
  return '';
}

/** Resident memory, short: `820K`, `12.4M`, `1.2G`. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '-';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(n < 100 * 1024 ** 2 ? 1 : 0)}M`;
  return `${(n / 1024 ** 3).toFixed(1)}G`;
}

export function formatCpu(s: ServiceView): string {
  return s.usage ? `${s.usage.cpu.toFixed(1)}%` : '-';
}

/** How a job's last run ended: `exit 0 after 1.2s, 3m04s ago`. */
export function formatLastRun(s: ServiceView, now = Date.now()): string {
  const last = s.runs?.last;
  if (!last) return s.runs?.running ? 'running' : '-';
  const how = last.signal ? last.signal : `exit ${last.exitCode ?? '?'}`;
  const took = last.durationMs !== undefined ? ` after ${exactDuration(last.durationMs)}` : '';
  return `${how}${took}, ${formatDuration(now - last.at)} ago`;
}

export function formatHealth(s: ServiceView): string {
  if (!s.checks.health && !s.checks.ready) return '-';
  if (!s.health) return s.ready ? 'ok' : '…';
  return s.health.ok ? 'ok' : 'failing';
}

/** A plain-text table; the last column may be cut to `width`. */
export function table(rows: string[][], width = Number.POSITIVE_INFINITY): string {
  if (rows.length === 0) return '';
  const cols = rows[0].length;
  const widths = Array.from({ length: cols }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => {
      let line = r
        .map((cell, i) => (i === cols - 1 ? cell : (cell ?? '').padEnd(widths[i])))
        .join('  ')
        .trimEnd();
      if (line.length > width) line = `${line.slice(0, Math.max(0, width - 1))}…`;
      return line;
    })
    .join('\n');
}

export function formatStatus(st: StatusView, width?: number): string {
  const a = st.app;
  const head = [
    `${a.name}: ${a.state}${a.maintenance ? ' (maintenance)' : ''}`,
    `tend pid ${a.pid}, up ${formatDuration(a.uptimeMs)}`,
    a.ready ? 'ready' : a.notReady?.length ? `not ready: ${a.notReady.join(', ')}` : 'not ready',
  ];
  if (a.http) head.push(a.http);
  // A store tend never needed (no templates, no env_from) is never contacted: only an error is news.
  if (a.kv && !a.kv.connected && a.kv.error) {
    head.push(`KV ${a.kv.url} unreachable for ${formatDuration(Date.now() - a.kv.since)}: ${a.kv.error}`);
  }
  const services = st.services.filter((s) => !s.job);
  const jobs = st.services.filter((s) => s.job);
  const rows = [['SERVICE', 'STATE', 'PID', 'UPTIME', 'CPU', 'MEM', 'RESTARTS', 'EXIT', 'HEALTH', 'REASON']];
  for (const s of services) {
    rows.push([
      s.name,
      s.state,
      s.pid ? String(s.pid) : '-',
      formatDuration(s.uptimeMs),
      formatCpu(s),
      formatBytes(s.usage?.rssBytes),
      String(s.restarts),
      formatExit(s.lastExit),
      formatHealth(s),
      formatReason(s),
    ]);
  }
  let text = `${head.join(' · ')}\n`;
  if (services.length > 0 || jobs.length === 0) text += `${table(rows, width)}\n`;
  if (jobs.length > 0) {
    // a job runs and ends by design: its runs and how the last one ended, not restarts
    const jobRows = [['JOB', 'STATE', 'PID', 'CPU', 'MEM', 'RUNS', 'LAST RUN', 'REASON']];
    for (const s of jobs) {
      jobRows.push([
        s.name,
        s.state,
        s.pid ? String(s.pid) : '-',
        formatCpu(s),
        formatBytes(s.usage?.rssBytes),
        String(s.runs?.runs ?? 0),
        formatLastRun(s),
        formatReason(s),
      ]);
    }
    text += `${services.length > 0 ? '\n' : ''}${table(jobRows, width)}\n`;
  }
  if (st.disabled.length > 0) text += `disabled: ${st.disabled.join(', ')}\n`;
  for (const note of st.notes ?? []) text += `! ${note}\n`;
  for (const r of st.rollouts ?? []) text += `rollout ${formatRollout(r)}\n`;
  if (st.notify?.length) text += `\n${formatNotify(st.notify, width)}\n`;
  return text;
}

/** The notify sinks' counters, one row each; the last error is cut to the width. */
export function formatNotify(sinks: NonNullable<StatusView['notify']>, width?: number): string {
  const rows = [['NOTIFY', 'SENT', 'FAILED', 'DROPPED', 'QUEUED', 'LAST ERROR']];
  for (const s of sinks) {
    rows.push([
      escapeControls(s.sink),
      String(s.sent),
      String(s.failed),
      String(s.dropped),
      String(s.queued),
      s.lastError ? escapeControls(s.lastError) : '-',
    ]);
  }
  return table(rows, width);
}

export function describeReload(r: ReloadResult): string {
  const parts: string[] = [];
  if (r.added.length) parts.push(`started ${r.added.join(', ')}`);
  if (r.removed.length) parts.push(`stopped ${r.removed.join(', ')}`);
  if (r.changed.length) parts.push(`restarted ${r.changed.join(', ')}`);
  if (parts.length === 0) parts.push('no service changed');
  let text = parts.join('; ');
  if (r.unchanged.length) text += ` (unchanged: ${r.unchanged.join(', ')})`;
  if (r.ignored.length) text += `; restart tend to apply changes to: ${r.ignored.join(', ')}`;
  return text;
}

/** One line of `tend logs`: a service's control characters shown escaped, as in tend's own echo. */
export function formatLogLine(l: LogLineView, opts: { prefix?: number; timestamps?: boolean }): string {
  let text = escapeControls(l.text);
  if (opts.prefix !== undefined) text = `${l.service.padEnd(opts.prefix)} | ${text}`;
  if (opts.timestamps) text = `${new Date(l.time).toISOString()} ${text}`;
  return text;
}

/** `web: applying sha256:3f9a0c1b2d4e since 12:00:01` (waiting for a slot, applying, done, failed, skipped) */
function formatRollout(r: NonNullable<StatusView['rollouts']>[number]): string {
  const phase =
    r.phase === 'waiting'
      ? 'waiting for a slot'
      : r.phase === 'applying'
        ? 'applying (not ready yet)'
        : r.phase;
  const since = new Date(r.since).toISOString().slice(11, 19);
  return `${r.service}: ${phase} ${r.hash.replace(/^sha256:/, '').slice(0, 12)} since ${since}${r.reason && r.phase !== 'done' ? ` (${r.reason})` : ''}`;
}
