/** The Plan as `tend check` prints it: what will run, in what order, from which sources. */

import { redactUrlsIn, redactWebhookUrl } from './redact.js';
import type {
  Command,
  NotifyPlan,
  OnChange,
  Plan,
  Probe,
  RestartPlan,
  RolloutPlan,
  ServicePlan,
  TemplatePlan,
} from './types.js';
import { formatDuration as d, formatSize } from './units.js';

/**
 * Passwords in URLs (`etcd://admin:PW@…`, a webhook's `user:pass@`) and the values of query parameters named
 * like secrets (`?token=…`) become `***`, wherever in a text they are: `tend check` output is pasted into
 * tickets and CI logs, and a `${PW}` in the manifest is expanded by then.
 */
export function redactSecrets(text: string): string {
  return text
    .replace(
      /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#'"]*):([^\s@/?#'"]*)@/gi,
      (_m, scheme: string, user: string) => `${scheme}${user}:***@`,
    )
    .replace(
      /([?&](?:[a-z0-9_-]*(?:token|secret|passw(?:or)?d|pwd|key|sig|signature|auth)[a-z0-9_-]*)=)[^\s&#'"]+/gi,
      '$1***',
    );
}

/** The Plan as JSON (plain data), with secrets in URLs redacted as in `tend check`. */
export function planToJSON(plan: Plan): string {
  const shown = { ...plan, notify: plan.notify.map(shownSink) };
  return `${JSON.stringify(shown, (_k, v) => (typeof v === 'string' ? redactSecrets(v) : v), 2)}\n`;
}

/** A notify sink as `tend check --json` shows it: a webhook's URL as scheme and host, its header values hidden. */
function shownSink(n: NotifyPlan): NotifyPlan {
  if (n.kind === 'exec') {
    const c = n.command;
    const command: Command =
      c.kind === 'shell'
        ? { ...c, script: redactUrlsIn(c.script) }
        : { ...c, argv: c.argv.map(redactUrlsIn) };
    return { ...n, command };
  }
  if (n.kind !== 'webhook') return n;
  const headers = Object.fromEntries(Object.keys(n.headers).map((k) => [k, '***']));
  return { ...n, url: redactWebhookUrl(n.url), headers };
}

export function formatPlan(plan: Plan): string {
  const out: string[] = [];
  const row = (indent: number, label: string, value: string) =>
    out.push(`${' '.repeat(indent)}${label.padEnd(10)} ${value}`);

  out.push(`${plan.name}${plan.file ? ` (${plan.file})` : ''}`);
  row(2, 'data', plan.dataDir);
  row(2, 'state', plan.stateDir);
  row(2, 'kv', plan.kv);
  // a default that changed: the API over TCP needs a token, on loopback too
  if (plan.http) {
    row(
      2,
      'http',
      `${plan.http} (API calls need a token: TEND_TOKEN, else one tend makes at start, prints with the dashboard URL and keeps in ${plan.stateDir}/token; /healthz, /readyz and /metrics need none)`,
    );
  }

  const st = plan.settings;
  const sources = [
    ...(st.defaultsFile ? [`defaults ${st.defaultsFile}`] : []),
    ...(Object.keys(st.defaults).length > 0
      ? [`inline defaults (${Object.keys(st.defaults).join(', ')})`]
      : []),
    ...st.files.map((f) => `file ${f}`),
    `$${st.env}`,
    ...(st.kvPrefix
      ? [`kv ${st.kvPrefix}${st.onChange ? ` (on change ${onChange(st.onChange)})` : ''}`]
      : []),
  ];
  row(2, 'settings', sources.join(' ← '));
  if (st.schemaFile) row(2, '', `schema ${st.schemaFile}`);

  const stages = Object.entries(plan.stages);
  if (stages.length > 0) {
    out.push('', 'stages');
    for (const [name, s] of stages) {
      const every = 'intervalMs' in s ? `every ${d(s.intervalMs)}, ` : '';
      row(2, name, `${cmd(s.command)}  (${every}timeout ${d(s.timeoutMs)})`);
    }
  }

  if (plan.notify.length > 0) {
    out.push('', 'notify');
    for (const n of plan.notify) out.push(`  ${sink(n)}`);
  }

  out.push('', `services, in start order (${plan.order.length})`);
  if (plan.order.length === 0) out.push('  (none enabled)');
  plan.order.forEach((name, i) => {
    const s = plan.services[name];
    out.push(
      `  ${i + 1}. ${name}${s.isJob ? `  (job, schedule "${s.schedule}")` : ''}${s.essential ? '  (essential)' : ''}`,
    );
    service(s, plan, (label, value) => row(5, label, value));
  });
  if (plan.disabled.length > 0) out.push('', `disabled: ${plan.disabled.join(', ')}`);
  return redactSecrets(`${out.join('\n')}\n`);
}

/** `app (uid 1001:1001, groups 1001,27, home /srv/app)`: what `user:` resolved to on this machine. */
function runAsText(r: NonNullable<ServicePlan['runAs']>): string {
  const as = r.spec === r.name ? r.name : `${r.spec} = ${r.name}`;
  const extra = r.groups.filter((g) => g !== r.gid);
  return `${as} (uid ${r.uid}:${r.gid}${extra.length > 0 ? `, groups ${extra.join(',')}` : ''}, home ${r.home})`;
}

function service(s: ServicePlan, plan: Plan, row: (label: string, value: string) => void) {
  row('command', cmd(s.command));
  if (s.cwd !== plan.dir) row('cwd', s.cwd);
  if (s.runAs) row('user', runAsText(s.runAs));
  else if (s.user) row('user', s.user);
  const env = Object.keys(s.env);
  if (env.length > 0) row('env', env.join(', '));
  for (const e of s.envFrom) row('env from', `kv ${e.prefix}`);
  if (s.after.length > 0) row('after', s.after.join(', '));
  if (s.requires.length > 0) {
    const wait = s.requiresTimeoutMs > 0 ? ` (up to ${d(s.requiresTimeoutMs)})` : '';
    row('requires', `${s.requires.join(', ')}${wait}`);
  }
  (s.listen ?? []).forEach((l, i) => {
    const mode = l.mode === undefined ? '' : `, mode ${l.mode.toString(8).padStart(4, '0')}`;
    row(
      'listen',
      `${l.address} as fd ${3 + i} "${l.name}" (backlog ${l.backlog}${mode}; held across restarts)`,
    );
  });
  for (const t of s.templates) row('template', template(t));
  if (s.ready) {
    row('ready', `${probe(s.ready.probe)} (every ${d(s.ready.intervalMs)}, timeout ${d(s.ready.timeoutMs)})`);
  }
  if (s.health) {
    const h = s.health;
    const grace = h.graceMs > 0 ? `, grace ${d(h.graceMs)}` : '';
    row(
      'health',
      `${probe(h.probe)} (every ${d(h.intervalMs)}, timeout ${d(h.timeoutMs)}, ${h.failures} failures${grace})`,
    );
  }
  const settings = settingsChange(s, plan);
  if (settings) row('settings', settings);
  // where `reload` and `{ signal }` actions go: shown when one is used or the defaults were changed
  const reloads =
    s.templates.some((t) => t.onChange.kind === 'reload' || t.onChange.kind === 'signal') ||
    (plan.settings.kvPrefix !== undefined &&
      (s.settingsOnChange.kind === 'reload' || s.settingsOnChange.kind === 'signal'));
  if (reloads || s.reloadSignal !== 'SIGHUP' || s.signalGroup) {
    row(
      'reload',
      `${s.reloadSignal}; reload and signal actions go to ${s.signalGroup ? 'the whole process group' : 'the main process'}`,
    );
  }
  row('restart', restart(s.restart));
  row('stop', `${s.stop.signal}, SIGKILL after ${d(s.stop.timeoutMs)}`);
  if (s.rollout) row('rollout', rolloutText(s.rollout));
  if (s.forwardSignals.length > 0) row('signals', s.forwardSignals.join(', '));
  if (s.register) {
    const r = s.register;
    const tags = r.tags.length > 0 ? ` [${r.tags.join(', ')}]` : '';
    row(
      'register',
      `${r.name} port ${r.port}${r.address ? ` address ${r.address}` : ''}${tags} (ttl ${d(r.ttlMs)})`,
    );
  }
  if (s.finish) row('finish', `${cmd(s.finish)} (timeout ${d(s.finishTimeoutMs)})`);
  const l = s.logs;
  const file = l.file
    ? `${l.file} (${l.format}${l.timestamps !== (l.format === 'json') ? (l.timestamps ? ', time-stamped' : ', no time stamps') : ''}, mode ${octal(l.mode ?? 0o640)}, rotate at ${formatSize(l.maxSizeBytes)}, keep ${l.keep})`
    : 'no file';
  row('logs', `${file}${l.stdout ? ', echoed to stdout' : ''}`);
}

/**
 * What a change of the settings overlay does to the service (`on_settings_change`, else settings.on_change);
 * nothing to say when no overlay can change and the service kept the default.
 */
function settingsChange(s: ServicePlan, plan: Plan): string | undefined {
  const action = `on change ${onChange(s.settingsOnChange)}`;
  if (plan.settings.kvPrefix !== undefined) {
    return s.isJob && s.settingsOnChange.kind === 'none'
      ? `${action} (a job reads the settings at each run)`
      : action;
  }
  if (s.isJob || s.settingsOnChange.kind === 'restart') return undefined;
  return `${action} (never happens: without settings.kv_prefix the settings do not change while tend runs)`;
}

const octal = (mode: number) => mode.toString(8).padStart(4, '0');

function cmd(c: Command): string {
  return c.kind === 'shell' ? c.script : c.argv.map(quote).join(' ');
}

function quote(a: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

function template(t: TemplatePlan): string {
  const extra: string[] = [`on change ${onChange(t.onChange)}`];
  // the mode always (0640 unless perms says otherwise; issue 13 changed it from 0644), the owner when not tend's
  extra.push(`mode ${octal(t.perms ?? 0o640)}`);
  const who = owner(t);
  if (who) extra.push(who);
  if (t.wait.maxMs > 0) extra.push(`wait ${d(t.wait.minMs)}..${d(t.wait.maxMs)}`);
  extra.push(
    t.missing === 'wait' ? `missing keys wait up to ${d(t.missingTimeoutMs)}` : `missing keys ${t.missing}`,
  );
  if (t.errMissingKey) extra.push('a missing map key fails');
  if (t.sentinel !== undefined) extra.push(`output with ${JSON.stringify(t.sentinel)} counts as missing`);
  if (t.leftDelim !== '{{' || t.rightDelim !== '}}') extra.push(`delimiters ${t.leftDelim} ${t.rightDelim}`);
  if (t.functions.allow.length > 0) extra.push(`allows ${t.functions.allow.join(', ')}`);
  if (t.functions.deny.length > 0) extra.push(`denies ${t.functions.deny.join(', ')}`);
  if (t.check) extra.push(`check: ${t.check}`);
  if (t.rollout) extra.push(`rollout ${rolloutText(t.rollout)}`);
  return `${t.source} → ${t.destination} (${extra.join(', ')})`;
}

/** Who the rendered file belongs to, when not tend's user (never whoever owned the destination before). */
function owner(t: TemplatePlan): string | undefined {
  if (t.user !== undefined || t.group !== undefined) {
    return t.group === undefined ? `owner ${t.user}` : `owner ${t.user ?? "tend's user"}:${t.group}`;
  }
  if (t.readerGid !== undefined) return `group ${t.readerGid} (the service user's, when tend runs as root)`;
  return undefined;
}

/** `rollout:` as tend check shows it */
function rolloutText(r: RolloutPlan): string {
  return `${r.maxParallel} tend${r.maxParallel === 1 ? '' : 's'} at a time, each ready within ${d(r.readyTimeoutMs)} or reverted (changes that restart or reload it)`;
}

function onChange(o: OnChange): string {
  switch (o.kind) {
    case 'signal':
      return o.signal;
    case 'exec':
      return `exec ${cmd(o.command)}`;
    default:
      return o.kind;
  }
}

function probe(p: Probe): string {
  switch (p.kind) {
    case 'http':
      return `http ${p.url}`;
    case 'tcp':
      return `tcp ${p.host.includes(':') ? `[${p.host}]` : p.host}:${p.port}`;
    case 'exec':
      return `exec ${cmd(p.command)}`;
    case 'log':
      return `log /${p.pattern}/`;
  }
}

function restart(r: RestartPlan): string {
  const codes = [
    r.preventExitCodes.length > 0 ? `; exit ${r.preventExitCodes.join(', ')}: not restarted` : '',
    r.successExitCodes.length > 0 ? `; exit ${r.successExitCodes.join(', ')}: success` : '',
  ].join('');
  return restartPolicy(r) + codes;
}

function restartPolicy(r: RestartPlan): string {
  if (r.policy === 'never') return 'never';
  const cooldown = r.cooldownMs > 0 ? `retried after ${d(r.cooldownMs)}` : 'not retried';
  const giveUp =
    r.maxFailures > 0
      ? `failed after ${r.maxFailures} runs shorter than ${d(r.minUptimeMs)} in ${d(r.windowMs)} (${cooldown})`
      : 'never gives up';
  const overlap =
    r.overlapMs === undefined
      ? ''
      : `, overlapping (the new process starts first; the old one is stopped ${r.overlapMs > 0 ? `${d(r.overlapMs)} later` : 'at once'})`;
  return `${r.policy}, backoff ${d(r.backoff.initialMs)}..${d(r.backoff.maxMs)}, ${giveUp}${overlap}`;
}

function sink(n: NotifyPlan): string {
  const events = n.events ? ` [${n.events.join(', ')}]` : '';
  switch (n.kind) {
    case 'stdout':
      return `stdout${events}`;
    case 'webhook':
      return `webhook ${redactWebhookUrl(n.url)} (timeout ${d(n.timeoutMs)}, queue ${n.queue})${events}`;
    case 'exec':
      return `exec ${redactUrlsIn(cmd(n.command))} (timeout ${d(n.timeoutMs)})${events}`;
    case 'file':
      return `file ${n.path} (mode 0600 when tend creates it)${events}`;
    case 'kv':
      return `kv ${n.key}${events}`;
  }
}
