/**
 * `tend export systemd`: a unit that runs `tend up` for one manifest, so that an operator on a VM manages the
 * whole stack with systemctl (seed 001) while tend does the supervising.
 *
 * - Type=notify: tend sends READY=1 once the app is UP (stages done, services ready), STOPPING=1 when it
 *   begins to stop, RELOADING=1 while RESTARTING; `systemctl start` returns when the app is really up.
 * - KillMode=mixed: `systemctl stop` sends SIGTERM to tend alone, which stops the services in order; only
 *   what is left after TimeoutStopSec gets SIGKILL, from systemd, across the whole cgroup.
 * - TimeoutStopSec: the longest chain of `stop.timeout`s in stop order (dependants stop before what they are
 *   `after`), plus the longest stop timeout again for daemons that escaped their group, plus 15 s for finish
 *   hooks and notify sinks.
 * - TimeoutStartSec: the stages' timeouts plus the longest `after` chain of what a service may wait for
 *   before it is ready (missing config, `requires`, `ready` timeouts), plus 30 s; `infinity` when something
 *   may wait forever (a `0s` timeout).
 * - Restart=on-failure, except after exit 2 (an invalid manifest does not fix itself).
 * - ExecReload=`tend reload`: re-reads the manifest and applies the difference, leaving the rest running.
 * - With `listen:` sockets: Wants= and After= the `<name>.socket` unit that `--socket` prints. systemd then
 *   binds them and passes them to tend, which hands each to the service whose address it is: the sockets
 *   outlive even a restart of tend itself.
 * - `--after UNIT` / `--requires UNIT` (repeatable): on a host whose services are Docker containers (seed 001),
 *   `--requires docker.service` starts tend after Docker and stops it with Docker; a bare name gets `.service`.
 * - User=/Group= (`--user name[:group]`, `--group`) are tend's own. Services with `user:` switch users
 *   themselves, which needs root: such a manifest with a `--user` other than root (or the services' own user)
 *   is refused here rather than failing at every start. No SupplementaryGroups=: with User= systemd already
 *   gives tend the user's groups from the user database of the machine the unit runs on, where a list written
 *   here would freeze the groups of the machine that exported it.
 */
import type { ListenPlan, Plan, ServicePlan } from '../manifest/types.js';

export interface UnitOptions {
  /** how systemd starts tend: an absolute executable and its first arguments (node and tend's main.js) */
  tend: string[];
  /** --only, passed on to `tend up` */
  only?: string[];
  /** --kv, passed on to `tend up` */
  kv?: string;
  /** EnvironmentFile= lines, in order; `-/path` makes one optional */
  envFiles?: string[];
  user?: string;
  group?: string;
  description?: string;
  /** more units to start after (After=), e.g. docker.service on a host whose services are containers */
  after?: string[];
  /** units that must be running (Requires= and After=): tend stops when they stop, starts after them */
  requires?: string[];
}

const SLACK_STOP_MS = 15_000;
const SLACK_START_MS = 30_000;

/** The longest sum of stop timeouts along a chain of services that stop one after the other. */
export function stopBudgetMs(plan: Plan): number {
  const services = Object.values(plan.services);
  const memo = new Map<string, number>();
  // Stopping s waits for its dependants (the services `after` it) first.
  const cost = (s: ServicePlan, depth = 0): number => {
    const known = memo.get(s.name);
    if (known !== undefined) return known;
    const dependants = services.filter((d) => d.after.includes(s.name));
    const before = depth > services.length ? 0 : Math.max(0, ...dependants.map((d) => cost(d, depth + 1)));
    const total = before + s.stop.timeoutMs;
    memo.set(s.name, total);
    return total;
  };
  const chain = Math.max(0, ...services.map((s) => cost(s)));
  const strays = Math.max(0, ...services.map((s) => s.stop.timeoutMs));
  return chain + strays + SLACK_STOP_MS;
}

/** Milliseconds until the app is UP at the latest, or Infinity when something may wait forever. */
export function startBudgetMs(plan: Plan): number {
  const stages = [plan.stages.boot, plan.stages.firstboot, plan.stages.upgrade, plan.stages.warmup];
  let total = 0;
  for (const st of stages) {
    if (!st) continue;
    if (st.timeoutMs <= 0) return Number.POSITIVE_INFINITY;
    total += st.timeoutMs;
  }
  const services = Object.values(plan.services).filter((s) => !s.isJob);
  const own = (s: ServicePlan): number => {
    let ms = s.ready?.timeoutMs ?? 0;
    const waits = s.templates.filter((t) => t.missing === 'wait').map((t) => t.missingTimeoutMs);
    if (waits.some((w) => w <= 0)) return Number.POSITIVE_INFINITY;
    ms += Math.max(0, ...waits);
    if (s.requires.length > 0) {
      if (s.requiresTimeoutMs <= 0) return Number.POSITIVE_INFINITY;
      ms += s.requiresTimeoutMs;
    }
    return ms;
  };
  const memo = new Map<string, number>();
  const chain = (s: ServicePlan, depth = 0): number => {
    const known = memo.get(s.name);
    if (known !== undefined) return known;
    const deps = s.after.map((n) => plan.services[n]).filter((d): d is ServicePlan => d !== undefined);
    const before = depth > services.length ? 0 : Math.max(0, ...deps.map((d) => chain(d, depth + 1)));
    const v = before + own(s);
    memo.set(s.name, v);
    return v;
  };
  return total + Math.max(0, ...services.map((s) => chain(s))) + SLACK_START_MS;
}

/** systemd's time span syntax, rounded up to whole seconds. */
export function timeSpan(ms: number): string {
  if (!Number.isFinite(ms)) return 'infinity';
  const s = Math.ceil(ms / 1000);
  const min = Math.floor(s / 60);
  const sec = s % 60;
  if (min === 0) return `${sec}s`;
  return sec === 0 ? `${min}min` : `${min}min ${sec}s`;
}

/** `%` starts a specifier in nearly every unit setting; `%%` is a literal one. */
const escapeSpecifiers = (s: string) => s.replace(/%/g, '%%');

/**
 * One word of an Exec*= command line: bare when it is plainly safe, else double-quoted with C escapes. `$`
 * is doubled either way (systemd would expand `$VAR`), `%` too (specifiers).
 */
export function execWord(word: string): string {
  const w = escapeSpecifiers(word).replace(/\$/g, '$$$$');
  if (w !== '' && /^[A-Za-z0-9_@%+=:,./$-]+$/.test(w)) return w;
  const quoted = w.replace(/[\\"\n\t]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\${c}`));
  return `"${quoted}"`;
}

/** A unit name for After=/Requires=: one word (systemd splits those lists on spaces), no specifiers. */
function unitName(name: string): string {
  const n = name.trim();
  if (!/^[A-Za-z0-9:_.\\@-]+$/.test(n))
    throw new Error(
      `not a unit name: ${JSON.stringify(name)} (expected e.g. docker.service or network-online.target)`,
    );
  return n.includes('.') ? n : `${n}.service`;
}

/** A path setting (WorkingDirectory=, EnvironmentFile=): the rest of the line, specifiers escaped. */
function pathValue(path: string): string {
  if (/[\n\r]/.test(path))
    throw new Error(`a path in a unit file cannot contain a line break: ${JSON.stringify(path)}`);
  return escapeSpecifiers(path);
}

/** User= and Group= of tend from `--user name[:group]` and `--group`; refuses what cannot run `user:`. */
function unitUser(plan: Plan, opts: UnitOptions): { user?: string; group?: string } {
  if (!opts.user) return { group: opts.group };
  const [user, fromUser, ...rest] = opts.user.split(':');
  if (rest.length > 0 || user === '' || fromUser === '')
    throw new Error(`--user ${JSON.stringify(opts.user)}: expected name, name:group, uid or uid:gid`);
  if (fromUser !== undefined && opts.group !== undefined && opts.group !== fromUser)
    throw new Error(`--user ${opts.user} and --group ${opts.group} name two groups; give the group once`);
  if (user !== 'root' && user !== '0') {
    const others = Object.values(plan.services).filter(
      (s) => s.runAs && s.runAs.name !== user && String(s.runAs.uid) !== user,
    );
    if (others.length > 0)
      throw new Error(
        `--user ${user}: ${others.map((s) => `${s.name} (user: ${s.runAs?.spec})`).join(', ')} ` +
          "would run as another user, which needs tend to run as root; drop --user or the services' user:",
      );
  }
  return { user, group: fromUser ?? opts.group };
}

export function systemdUnit(plan: Plan, opts: UnitOptions): string {
  if (!plan.file) throw new Error('tend export systemd needs a manifest');
  const who = unitUser(plan, opts);
  const switching = Object.values(plan.services).filter((s) => s.runAs);
  if (!opts.tend[0]?.startsWith('/')) {
    throw new Error(`ExecStart must start with an absolute path, got ${JSON.stringify(opts.tend[0])}`);
  }
  const upArgs = ['up', '-f', plan.file];
  if (opts.only && opts.only.length > 0) upArgs.push('--only', opts.only.join(','));
  if (opts.kv) upArgs.push('--kv', opts.kv);
  const cmd = (args: string[]) => [...opts.tend, ...args].map(execWord).join(' ');

  const remote =
    /^(etcd|consul)/.test(opts.kv ?? plan.kv) ||
    Object.values(plan.services).some((s) => s.register !== undefined || s.requires.length > 0);
  const network = remote ? 'network-online.target' : 'network.target';
  const description = opts.description ?? `tend: ${plan.name} (${plan.file})`;
  const sockets = listenOf(plan).length > 0;
  const requires = (opts.requires ?? []).map(unitName);
  // Requires= alone does not order: a required unit is also one to start after
  const after = [
    network,
    ...(sockets ? [`${plan.name}.socket`] : []),
    ...(opts.after ?? []).map(unitName),
    ...requires,
  ].filter((u, i, all) => all.indexOf(u) === i);

  const lines = [
    `# ${plan.name}.service, generated by \`tend export systemd\` from ${plan.file}`,
    `# Install: save as /etc/systemd/system/${plan.name}.service, then`,
    `#   systemctl daemon-reload && systemctl enable --now ${plan.name}`,
    '[Unit]',
    `Description=${escapeSpecifiers(description.replace(/[\r\n]+/g, ' '))}`,
    `After=${after.join(' ')}`,
    ...(remote || sockets
      ? [`Wants=${[...(remote ? [network] : []), ...(sockets ? [`${plan.name}.socket`] : [])].join(' ')}`]
      : []),
    ...(requires.length > 0 ? [`Requires=${requires.join(' ')}`] : []),
    '',
    '[Service]',
    'Type=notify',
    'NotifyAccess=main',
    `ExecStart=${cmd(upArgs)}`,
    `ExecReload=${cmd(['reload', '-f', plan.file])}`,
    `WorkingDirectory=${pathValue(plan.dir)}`,
    ...(opts.envFiles ?? []).map((f) => `EnvironmentFile=${pathValue(f)}`),
    ...(who.user ? [`User=${escapeSpecifiers(who.user)}`] : []),
    ...(who.group ? [`Group=${escapeSpecifiers(who.group)}`] : []),
    ...(switching.length > 0 && !who.user
      ? [
          `# tend runs as root, to start ${switching.map((s) => `${s.name} as ${s.runAs?.spec}`).join(', ')} (user:)`,
        ]
      : []),
    '# SIGTERM to tend alone: it stops the services in order; SIGKILL to the rest only after TimeoutStopSec',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `TimeoutStartSec=${timeSpan(startBudgetMs(plan))}`,
    `TimeoutStopSec=${timeSpan(stopBudgetMs(plan))}`,
    'Restart=on-failure',
    'RestartSec=5s',
    '# exit 2: the manifest is invalid; restarting will not fix it',
    'RestartPreventExitStatus=2',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ];
  return `${lines.join('\n')}\n`;
}

function listenOf(plan: Plan, only?: string[]): Array<ListenPlan & { service: string }> {
  return Object.values(plan.services)
    .filter((s) => !only || only.length === 0 || only.includes(s.name))
    .flatMap((s) => (s.listen ?? []).map((l) => ({ ...l, service: s.name })));
}

/**
 * The `.socket` unit of `tend export systemd --socket`: systemd binds every `listen:` address and passes the
 * sockets to `<name>.service` (tend), which gives each to the service whose address it is. One unit holds one
 * Backlog= and one SocketMode=: the largest backlog is used, and Unix sockets must agree on their mode.
 */
export function systemdSocketUnit(plan: Plan, opts: { only?: string[] } = {}): string {
  if (!plan.file) throw new Error('tend export systemd needs a manifest');
  const listen = listenOf(plan, opts.only);
  if (listen.length === 0) {
    throw new Error('no service lists listen: sockets; a .socket unit would have nothing to hold');
  }
  const modes = [...new Set(listen.flatMap((l) => (l.mode === undefined ? [] : [l.mode])))];
  if (modes.length > 1) {
    throw new Error(
      `a .socket unit has one SocketMode=, but the Unix sockets ask for ${modes.map((m) => m.toString(8).padStart(4, '0')).join(' and ')}; give them one mode`,
    );
  }
  const lines = [
    `# ${plan.name}.socket, generated by \`tend export systemd --socket\` from ${plan.file}`,
    `# Install next to ${plan.name}.service: save as /etc/systemd/system/${plan.name}.socket, then`,
    `#   systemctl daemon-reload && systemctl enable --now ${plan.name}.socket`,
    '# systemd holds these sockets even while tend restarts; tend hands each to the service listening there:',
    ...listen.map((l) => `#   ${l.address} → ${l.service} (LISTEN_FDNAMES ${l.name})`),
    '[Unit]',
    `Description=${escapeSpecifiers(`sockets of tend: ${plan.name}`)}`,
    '',
    '[Socket]',
    ...listen.map((l) => `ListenStream=${pathValue(l.bind.kind === 'unix' ? l.bind.path : l.address)}`),
    `Backlog=${Math.max(...listen.map((l) => l.backlog))}`,
    ...(modes.length === 1 ? [`SocketMode=${modes[0].toString(8).padStart(4, '0')}`] : []),
    `Service=${plan.name}.service`,
    '',
    '[Install]',
    'WantedBy=sockets.target',
  ];
  return `${lines.join('\n')}\n`;
}
