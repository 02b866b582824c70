/**
 * The shape of tend.yaml, written once: it decodes manifests (with positions) and prints `tend schema`.
 * Defaults that do not depend on other values live here, in YAML spelling; the few that do (a job's restart
 * policy, a log file named after its service, cwd) are filled in by build.ts.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { constants } from 'node:os';
import { resolve } from 'node:path';
import { Cron } from 'croner';
// the names only: the engine itself loads only where a template renders
import { DISABLED_BY_DEFAULT, FUNCTION_NAMES } from '../template/names.js';
import {
  anyValue,
  bool,
  type Decoder,
  def,
  describe,
  duration,
  entries,
  enumOf,
  fail,
  INVALID,
  type Invalid,
  int,
  isBoolean,
  isMap,
  isSeq,
  isString,
  type JsonSchema,
  list,
  located,
  map,
  type Out,
  obj,
  opt,
  pathText,
  record,
  req,
  size,
  str,
  union,
  variant,
  wrap,
} from './kit.js';
import { redactWebhookUrl } from './redact.js';
import { didYouMean } from './suggest.js';
import type {
  Command,
  EventKind,
  HealthPlan,
  ListenAddress,
  NotifyPlan,
  OnChange,
  Probe,
  ReadyPlan,
  RestartPolicy,
  Signal,
} from './types.js';

export const SERVICE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const EVENT_KINDS: readonly EventKind[] = [
  'app',
  'service',
  'stats',
  'maintenance',
  'config',
  'job',
  'health',
  'finish',
];
export const RESTART_POLICIES: readonly RestartPolicy[] = ['always', 'on-failure', 'never'];

// ---------------------------------------------------------------------------------------------------------
// values

const SIGNALS = Object.keys(constants.signals) as Signal[];
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/** A signal name, `TERM` or `SIGTERM` (any case), normalised to `SIGTERM`. */
function signal(opts: { catchable?: boolean } = {}): Decoder<Signal> {
  const expected = 'a signal name such as SIGTERM';
  return {
    expected,
    schema: () => ({
      anyOf: [
        { enum: [...SIGNALS, ...SIGNALS.map((s) => s.slice(3))] },
        { type: 'string', pattern: '\\$\\{' },
      ],
    }),
    decode(n, cx, path) {
      if (n.t !== 'scalar' || typeof n.value !== 'string') return fail(cx, n, path, `expected ${expected}`);
      const up = n.value.trim().toUpperCase();
      const name = up.startsWith('SIG') ? up : `SIG${up}`;
      if (!(SIGNALS as string[]).includes(name)) {
        return fail(cx, n, path, `unknown signal "${n.value}"${didYouMean(name, SIGNALS)}`);
      }
      if (opts.catchable && UNCATCHABLE.has(name)) {
        return fail(cx, n, path, `${name} cannot be caught, so tend can never forward it`);
      }
      return name as Signal;
    },
  };
}

const argItem = str({ numbers: true, expected: 'a string' });

const command: Decoder<Command> = union<Command>(
  [
    [isString, map(str({ nonEmpty: true }), (script) => ({ kind: 'shell', script }))],
    [
      isSeq,
      map(list(argItem, { nonEmpty: true, expected: 'a list of strings' }), (argv, n, cx, path) =>
        argv[0].trim() === ''
          ? fail(cx, n, path, 'the program (first item) must not be empty')
          : { kind: 'argv', argv },
      ),
    ],
  ],
  'a command: a string (run with sh -c) or a non-empty list of strings (the argv, run directly)',
);

/** A path, made absolute against the manifest's folder. */
const path_: Decoder<string> = map(str({ nonEmpty: true, expected: 'a path' }), (s, _n, cx) =>
  resolve(cx.dir, s),
);

function url(protocols: string[]): Decoder<string> {
  return map(
    str({ nonEmpty: true, expected: 'a URL', schema: { type: 'string', format: 'uri' } }),
    (s, n, cx, path) => {
      let u: URL;
      try {
        u = new URL(s);
      } catch {
        // never the value itself: a webhook's token may be in it, expanded from a ${VAR}
        return fail(
          cx,
          n,
          path,
          'invalid URL (not shown: it may hold a token; check the value and the variables in it)',
        );
      }
      if (!protocols.includes(u.protocol)) {
        return fail(
          cx,
          n,
          path,
          `expected a ${protocols.map((p) => p.slice(0, -1)).join(' or ')} URL, got ${JSON.stringify(redactWebhookUrl(s))}`,
        );
      }
      return s;
    },
  );
}

const httpUrl = url(['http:', 'https:']);

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]*):(\d{1,5})$/;

function hostPort(s: string, minPort: number): { host: string; port: number } | string {
  const m = HOST_PORT.exec(s.trim());
  if (!m) return `expected "host:port", got ${JSON.stringify(s)}`;
  const port = Number(m[2]);
  if (port < minPort || port > 65535) return `port must be between ${minPort} and 65535, got ${port}`;
  return { host: m[1].replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port };
}

const tcpTarget: Decoder<{ host: string; port: number }> = map(
  str({ nonEmpty: true, expected: '"host:port"' }),
  (s, n, cx, path) => {
    const r = hostPort(s, 1);
    return typeof r === 'string' ? fail(cx, n, path, r) : r;
  },
);

/** `host:port` for the HTTP listener; a bare port means loopback. Port 0 picks a free one (handy in tests). */
const listenAddress: Decoder<string> = union<string>(
  [
    [
      (n) => n.t === 'scalar' && typeof n.value === 'number',
      map(int({ min: 0, max: 65535 }), (p) => `127.0.0.1:${p}`),
    ],
    [
      isString,
      map(str({ nonEmpty: true }), (s, n, cx, path) => {
        // "7070" (what `http: ${PORT}` gives) means what the number 7070 means: loopback
        if (/^\s*\d+\s*$/.test(s)) {
          const p = Number(s);
          return p <= 65535
            ? `127.0.0.1:${p}`
            : fail(cx, n, path, `port must be between 0 and 65535, got ${p}`);
        }
        const r = hostPort(s, 0);
        return typeof r === 'string' ? fail(cx, n, path, r) : s.trim();
      }),
    ],
  ],
  '"host:port" (e.g. 127.0.0.1:7070) or a port number',
);

/** The KV URL, kept as written except that a relative `file:` path becomes absolute. */
const kvUrl: Decoder<string> = map(str({ nonEmpty: true, expected: 'a KV URL' }), (s, n, cx, path) => {
  const expected = 'expected a KV URL such as file:./kv, etcd://127.0.0.1:2379 or consul://127.0.0.1:8500';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/.exec(s.trim());
  if (!m) return fail(cx, n, path, `${expected}, got ${JSON.stringify(s)}`);
  const scheme = m[1].toLowerCase();
  if (scheme === 'file') {
    // file:./kv, file:/abs/kv and file:///abs/kv all name a local path.
    const p = m[2].startsWith('//') ? m[2].slice(2) : m[2];
    if (p === '') return fail(cx, n, path, `${expected}; file: needs a path`);
    return `file:${resolve(cx.dir, p)}`;
  }
  // The schemes src/kv understands; `s` is the TLS variant.
  const known = ['file', 'etcd', 'etcds', 'consul', 'consuls'];
  if (!known.includes(scheme)) {
    return fail(cx, n, path, `unknown KV backend "${m[1]}"${didYouMean(scheme, known)}; ${expected}`);
  }
  return s.trim();
});

const regex: Decoder<string> = map(
  str({ nonEmpty: true, expected: 'a regular expression' }),
  (s, n, cx, path) => {
    try {
      new RegExp(s);
      return s;
    } catch (e) {
      return fail(
        cx,
        n,
        path,
        `invalid regular expression ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`,
      );
    }
  },
);

const CRON_NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** 5 fields (minute first) or 6 (seconds first); `@daily` style nicknames become their 5-field form. */
const cron: Decoder<string> = map(
  str({
    nonEmpty: true,
    expected: 'a cron expression',
    schema: {
      type: 'string',
      pattern:
        '^\\s*(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|\\S+(\\s+\\S+){4,5})\\s*$|\\$\\{',
    },
  }),
  (s, n, cx, path) => {
    const text = s.trim().replace(/\s+/g, ' ');
    const expr = CRON_NICKNAMES[text.toLowerCase()] ?? text;
    const fields = expr.split(' ');
    if (fields.length < 5 || fields.length > 6) {
      return fail(
        cx,
        n,
        path,
        `invalid cron expression ${JSON.stringify(s)}: expected 5 fields (minute hour day month weekday) or 6 (seconds first), got ${fields.length}`,
      );
    }
    if (!fields.every((f) => /^[0-9A-Za-z*/,?#-]+$/.test(f))) {
      return fail(cx, n, path, `invalid cron expression ${JSON.stringify(s)}: unexpected characters`);
    }
    try {
      const c = new Cron(expr, { paused: true });
      if (!c.nextRun()) return fail(cx, n, path, `cron expression ${JSON.stringify(s)} never matches a date`);
    } catch (e) {
      return fail(
        cx,
        n,
        path,
        `invalid cron expression ${JSON.stringify(s)}: ${(e as Error).message.replace(/^CronPattern: /, '')}`,
      );
    }
    return expr;
  },
);

/**
 * File mode as octal text. YAML 1.2 reads an unquoted `0640` as decimal 640, so numbers are read from their
 * spelling, like chmod does: `0640`, `640` and `0o640` all mean rw-r-----.
 */
const perms: Decoder<number> = {
  expected: 'an octal file mode such as "0640"',
  schema: () => ({ anyOf: [{ type: 'string', pattern: '^(0o?)?[0-7]{3,4}$|\\$\\{' }, { type: 'integer' }] }),
  decode(n, cx, path) {
    if (n.t === 'scalar' && (typeof n.value === 'string' || typeof n.value === 'number')) {
      const text = (typeof n.value === 'number' ? n.raw : n.value).trim().replace(/^0o/i, '');
      if (/^[0-7]{3,4}$/.test(text)) return Number.parseInt(text, 8);
    }
    return fail(
      cx,
      n,
      path,
      `expected an octal file mode such as "0640", got ${n.t === 'scalar' ? JSON.stringify(n.value) : `a ${n.t === 'seq' ? 'list' : 'map'}`}`,
    );
  },
};

const kvKey: Decoder<string> = map(str({ nonEmpty: true, expected: 'a KV key' }), (s, n, cx, path) => {
  for (const m of s.matchAll(/\{([^}]*)\}/g)) {
    if (m[1] !== 'service' && m[1] !== 'app') {
      return fail(
        cx,
        n,
        path,
        `unknown placeholder "{${m[1]}}" in key; use {service} or {app}${didYouMean(m[1], ['service', 'app'])}`,
      );
    }
  }
  return s;
});

const envName = (what: string): Decoder<string> =>
  map(str({ nonEmpty: true, expected: `${what} name` }), (s, n, cx, path) =>
    ENV_NAME.test(s) ? s : fail(cx, n, path, `${JSON.stringify(s)} is not a valid environment variable name`),
  );

/** Environment values: numbers and booleans keep their spelling, an empty value is an empty string. */
const envValue: Decoder<string> = {
  expected: 'a string',
  schema: () => ({ anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }] }),
  decode(n, cx, path) {
    if (n.t !== 'scalar')
      return fail(
        cx,
        n,
        path,
        `expected a string, number or boolean, got a ${n.t === 'seq' ? 'list' : 'map'}`,
      );
    return n.value === null ? '' : typeof n.value === 'string' ? n.value : n.raw;
  },
};

const envMap = record(envValue, {
  expected: 'a map of environment variables',
  keySchema: { pattern: '^[^=]+$' },
  key: (k, pos, cx, path) => {
    if (k !== '' && !k.includes('=') && !k.includes('\0')) return true;
    cx.error(pos, `${pathText(path)}: ${JSON.stringify(k)} is not a valid environment variable name`);
    return false;
  },
});

const serviceName: Decoder<string> = map(
  str({ nonEmpty: true, expected: 'a service name' }),
  (s, n, cx, path) =>
    SERVICE_NAME.test(s) ? s : fail(cx, n, path, `invalid service name ${JSON.stringify(s)}`),
);

/** `short` written alone means `{ key: short }`, so shorthands share the long form's defaults. */
function orShort<T>(key: string, full: Decoder<T>, short: Decoder<unknown>): Decoder<T> {
  return {
    expected: `${short.expected}, or ${full.expected}`,
    schema: () => ({ anyOf: [short.schema(), full.schema()] }),
    decode(n, cx, path) {
      if (n.t === 'map' || (n.t === 'scalar' && n.value === null)) return full.decode(n, cx, path);
      // Checked on its own first, so an error names the key the user wrote (`restart`, not `restart.policy`).
      if (short.decode(n, cx, path) === INVALID) return INVALID;
      return full.decode(wrap(key, n), cx, path);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// services

const onChange: Decoder<OnChange> = union<OnChange>(
  [
    [isString, map(enumOf(['restart', 'reload', 'none'] as const), (kind) => ({ kind }))],
    [
      isMap,
      variant<OnChange>(
        {
          signal: map(obj({ signal: req(signal(), 'signal sent to the service') }), (r) => ({
            kind: 'signal',
            signal: r.signal,
          })),
          exec: map(obj({ exec: req(command, 'command run after the file changed') }), (r) => ({
            kind: 'exec',
            command: r.exec,
          })),
        },
        { noun: 'on_change action' },
      ),
    ],
  ],
  'restart, reload, none, { signal: SIGNAL } or { exec: COMMAND }',
);

const waitObj = map(
  obj({
    min: opt(duration(), 'quiet time after the last change before rendering (default 0s)'),
    max: opt(duration(), 'render at the latest this long after the first change (default 4 × min)'),
  }),
  (r, n, cx, path) => {
    const minMs = r.min ?? 0;
    const maxMs = r.max ?? 4 * minMs;
    if (maxMs < minMs) return fail(cx, n, path, 'max must not be less than min');
    return { minMs, maxMs };
  },
);
const wait = orShort('min', waitObj, duration());

/**
 * A template function name: one of consul-template's map as tend binds it (template/names.ts, a plain list a test
 * keeps equal to the function map, so that a manifest loads without the engine), or, for `allow`, one of those off
 * by default.
 */
function templateFunction(which: 'any' | 'disabled'): Decoder<string> {
  const expected =
    which === 'any'
      ? 'a template function name'
      : `a function that is off by default (${DISABLED_BY_DEFAULT.join(', ')})`;
  return {
    expected,
    schema: () =>
      which === 'any'
        ? { type: 'string', description: 'a function of docs/templates.md' }
        : { enum: [...DISABLED_BY_DEFAULT] },
    decode(n, cx, path) {
      if (n.t !== 'scalar' || typeof n.value !== 'string' || n.value.trim() === '') {
        return fail(cx, n, path, `expected ${expected}, got ${describe(n)}`);
      }
      const name = n.value.trim();
      const all = FUNCTION_NAMES;
      if (!all.includes(name)) {
        const candidates = which === 'any' ? all : DISABLED_BY_DEFAULT;
        return fail(cx, n, path, `unknown template function "${name}"${didYouMean(name, candidates)}`);
      }
      if (which === 'disabled' && !DISABLED_BY_DEFAULT.includes(name)) {
        return fail(
          cx,
          n,
          path,
          `"${name}" is always allowed; allow lists only the functions that are off by default: ${DISABLED_BY_DEFAULT.join(', ')}`,
        );
      }
      return name;
    },
  };
}

const templateFunctions = obj({
  allow: def(
    list(templateFunction('disabled')),
    [],
    'functions off by default that this template may call: plugin (runs a program), writeToFile',
  ),
  deny: def(
    list(templateFunction('any')),
    [],
    "functions this template may not call (consul-template's function_denylist); a call fails naming this option",
  ),
});

/** `rollout:` of a service or a template: how a config change rolls through the fleet (docs/fleet.md) */
const rollout = obj(
  {
    max_parallel: def(
      int({ min: 1 }),
      1,
      'at most this many tends of the app apply a change to this service at once (a slot of a semaphore in the KV store)',
    ),
    ready_timeout: def(
      duration({ min: { ms: 1, why: 'the service must be given some time to become ready' } }),
      '60s',
      'the service must be ready this long after the change; otherwise this tend puts the previous file back and marks the change failed, and the other tends skip it',
    ),
  },
  { description: 'a rolling change: a semaphore in the KV store, a canary, and a halt on failure' },
);

const template = obj({
  source: req(path_, 'template file (Go text/template with consul-template functions)'),
  destination: req(path_, 'file written with the rendered text'),
  perms: def(
    perms,
    '0640',
    'file mode of the rendered file, octal as a string, e.g. "0600"; set before a byte is written, whatever mode the file had',
  ),
  user: opt(
    str({ nonEmpty: true, numbers: true }),
    "owner of the rendered file (name or uid; consul-template's user); default tend's user, whoever owned the file before",
  ),
  group: opt(
    str({ nonEmpty: true, numbers: true }),
    "group of the rendered file (name or gid); default the group of the service's user when tend runs as root, else tend's",
  ),
  on_change: opt(
    onChange,
    'what happens when the file changes: restart (default; none for jobs), reload, none, { signal }, { exec }',
  ),
  wait: def(wait, '0s', 'quiescence: { min, max }, or one duration meaning min (max = 4 × min)'),
  missing: def(
    enumOf(['wait', 'fail', 'empty'] as const),
    'wait',
    'what missing keys do: wait (hold the service), fail, or render empty',
  ),
  missing_timeout: def(duration(), '5m', 'how long "missing: wait" waits before it fails'),
  sentinel: opt(str({ nonEmpty: true }), 'text that, found in the output, counts as missing config'),
  check: opt(
    str({ nonEmpty: true }),
    'shell command validating the new file ($TEND_CHECK_FILE) before it goes live',
  ),
  left_delimiter: def(str({ nonEmpty: true }), '{{', 'left action delimiter'),
  right_delimiter: def(str({ nonEmpty: true }), '}}', 'right action delimiter'),
  err_missing_key: def(
    bool(),
    false,
    "a map key the template reads that is not there fails the render (consul-template's err_missing_key); otherwise it reads as Go's zero value",
  ),
  functions: def(
    templateFunctions,
    {},
    'which functions this template may call: { allow: [plugin, writeToFile], deny: [names] }',
  ),
  rollout: opt(
    rollout,
    "roll this template's changes through the fleet: { max_parallel, ready_timeout } (overrides the service's rollout for the restart or reload it causes)",
  ),
});

/** The shortest time between probe or monitor runs: below it a check loop would eat a core. */
const PROBE_FLOOR = { ms: 100, why: 'a shorter interval makes the check loop spin' };

const readyShape = {
  interval: def(duration({ min: PROBE_FLOOR }), '250ms', 'time between attempts until ready'),
  timeout: def(duration(), '60s', 'give up (a failed start) after this long'),
};
const toReady = (probe: Probe, r: { interval: number; timeout: number }): ReadyPlan => ({
  probe,
  intervalMs: r.interval,
  timeoutMs: r.timeout,
});
const ready = variant<ReadyPlan>(
  {
    http: map(obj({ http: req(httpUrl, 'ready on an HTTP 2xx answer from this URL'), ...readyShape }), (r) =>
      toReady({ kind: 'http', url: r.http }, r),
    ),
    tcp: map(
      obj({ tcp: req(tcpTarget, 'ready when "host:port" accepts a connection'), ...readyShape }),
      (r) => toReady({ kind: 'tcp', ...r.tcp }, r),
    ),
    exec: map(obj({ exec: req(command, 'ready when this command exits 0'), ...readyShape }), (r) =>
      toReady({ kind: 'exec', command: r.exec }, r),
    ),
    log: map(
      obj({ log: req(regex, 'ready when a line of output matches this regular expression'), ...readyShape }),
      (r) => toReady({ kind: 'log', pattern: r.log }, r),
    ),
  },
  { noun: 'ready check' },
);

const healthShape = {
  interval: def(duration({ min: PROBE_FLOOR }), '10s', 'time between checks'),
  timeout: def(duration(), '2s', 'time one check may take'),
  failures: def(int({ min: 1 }), 3, 'failures in a row that make the service unhealthy and restart it'),
  grace: def(duration(), '0s', 'delay after start before the first check'),
};
type HealthProbe = HealthPlan['probe'];
const toHealth = (
  probe: HealthProbe,
  r: { interval: number; timeout: number; failures: number; grace: number },
): HealthPlan => ({
  probe,
  intervalMs: r.interval,
  timeoutMs: r.timeout,
  failures: r.failures,
  graceMs: r.grace,
});
const health = variant<HealthPlan>(
  {
    http: map(
      obj({ http: req(httpUrl, 'healthy on an HTTP 2xx answer from this URL'), ...healthShape }),
      (r) => toHealth({ kind: 'http', url: r.http }, r),
    ),
    tcp: map(
      obj({ tcp: req(tcpTarget, 'healthy when "host:port" accepts a connection'), ...healthShape }),
      (r) => toHealth({ kind: 'tcp', ...r.tcp }, r),
    ),
    exec: map(obj({ exec: req(command, 'healthy when this command exits 0'), ...healthShape }), (r) =>
      toHealth({ kind: 'exec', command: r.exec }, r),
    ),
  },
  { noun: 'health check', hints: { log: 'a health check cannot watch the log; use http, tcp or exec' } },
);

const restartObj = obj({
  policy: opt(enumOf(RESTART_POLICIES), 'always (default), on-failure, or never (the default for jobs)'),
  backoff: def(
    map(
      obj({
        initial: def(duration(), '100ms', 'first delay when a service keeps failing'),
        max: def(duration(), '30s', 'longest delay'),
      }),
      (r, n, cx, path) =>
        r.max < r.initial
          ? fail(cx, n, path, 'max must not be less than initial')
          : { initialMs: r.initial, maxMs: r.max },
    ),
    {},
    'exponential backoff with jitter between restarts',
  ),
  max_failures: def(
    int({ min: 0 }),
    5,
    'failed starts (runs shorter than min_uptime) within window that make the service failed; 0 = never give up',
  ),
  min_uptime: def(
    duration(),
    '1s',
    'a run shorter than this is a failed start and counts toward max_failures; a longer one is restarted (with backoff) forever',
  ),
  window: def(duration(), '10s', 'the window in which max_failures count'),
  cooldown: def(duration(), '5m', 'how long a failed service waits before it is tried again; 0s = never'),
  reset_after: def(duration(), '10s', 'uptime after which backoff and failure history are forgotten'),
  prevent_exit_codes: def(
    list(int({ min: 0, max: 255 })),
    [],
    'exit codes after which the service is not restarted (systemd RestartPreventExitStatus): it stays exited, saying why, until its config changes or it is started',
  ),
  success_exit_codes: def(
    list(int({ min: 0, max: 255 })),
    [],
    'exit codes that count as a clean exit besides 0 (supervisord exitcodes): on-failure does not restart them; an essential service ending with one ends tend with 0',
  ),
  overlap: def(
    union<number | false>(
      [
        [isBoolean, map(bool(), (b) => (b ? 0 : false))],
        [() => true, duration()],
      ],
      'true, false or a duration',
    ),
    false,
    'with listen: a restart starts the new process first; the old one gets its stop signal at once (true) or after this long (e.g. 2s), serving meanwhile',
  ),
});
const restart = orShort('policy', restartObj, enumOf(RESTART_POLICIES));

const logs = obj({
  file: opt(
    union<string | false>(
      [
        [
          isBoolean,
          map(bool(), (b, n, cx, path) => (b ? fail(cx, n, path, 'expected a path or false') : false)),
        ],
        [isString, path_],
      ],
      'a path or false',
    ),
    'log file (default <state_dir>/logs/<service>.log), or false for none',
  ),
  format: def(
    enumOf(['raw', 'json'] as const),
    'raw',
    'raw: the bytes the service wrote, as they came; json: one JSON object per line (time, service, stream, msg)',
  ),
  timestamps: opt(
    bool(),
    'put the time tend read each line in front of it (raw: `<ISO time> <stream> <text>`; json: the `time` field); default false for raw, true for json',
  ),
  max_size: def(
    map(size(), (b, n, cx, path) => (b > 0 ? b : fail(cx, n, path, 'must be greater than 0'))),
    '10MB',
    'rotate the file at this size',
  ),
  keep: def(int({ min: 0 }), 3, 'rotated files kept'),
  mode: def(
    perms,
    '0640',
    'file mode of a log file tend creates, octal as a string; "0644" lets every local user read the logs',
  ),
  stdout: def(bool(), true, "echo lines to tend's stdout, prefixed by the service name"),
});

const register = obj({
  name: opt(str({ nonEmpty: true }), 'name in discovery (default: the service name)'),
  port: req(int({ min: 1, max: 65535 }), 'port the service listens on'),
  address: opt(
    str({ nonEmpty: true }),
    "address to publish (default: the backend's choice, usually this host)",
  ),
  tags: def(list(str({ numbers: true })), [], 'tags'),
  meta: def(record(str({ numbers: true })), {}, 'metadata'),
  ttl: def(
    duration({
      min: { ms: 1000, why: 'tend refreshes a registration every TTL/3; etcd leases count whole seconds' },
    }),
    '10s',
    'TTL of the registration, kept alive by tend',
  ),
});

// sockets (socket activation)

/** What sd_listen_fds_with_names(3) accepts as a name: printable ASCII without ':', at most 255 bytes. */
const FD_NAME = /^[\x21-\x39\x3b-\x7e]{1,255}$/;
/** sun_path holds 108 bytes, the last one the terminating NUL. */
const UNIX_PATH_MAX = 107;

type SocketAddress = { text: string; bind: ListenAddress };
const socketAddress: Decoder<SocketAddress> = map<string, SocketAddress>(
  str({
    nonEmpty: true,
    numbers: true,
    expected: 'an address such as 127.0.0.1:8080, [::]:443 or unix:/run/app.sock',
  }),
  (raw, n, cx, path) => {
    const s = raw.trim();
    const bad = (why: string): Invalid =>
      fail(cx, n, path, `invalid listen address ${JSON.stringify(s)}: ${why}`);
    if (s.startsWith('unix:')) {
      const rest = s.slice('unix:'.length);
      if (rest === '' || rest === '@') return bad('give a path after "unix:", e.g. unix:/run/app.sock');
      // `unix:@name`: Linux's abstract namespace, no file on disk
      const p = rest.startsWith('@') ? rest : resolve(cx.dir, rest);
      if (Buffer.byteLength(p) > UNIX_PATH_MAX) {
        return bad(`a Unix socket path holds at most ${UNIX_PATH_MAX} bytes; use a shorter path`);
      }
      const bind: ListenAddress = { kind: 'unix', path: p };
      return { text: `unix:${p}`, bind };
    }
    let host: string;
    let portText: string;
    if (/^\d+$/.test(s)) {
      host = '0.0.0.0';
      portText = s;
    } else {
      const m = /^\[([^\]]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]]+):(\d+)$/.exec(s);
      if (!m) return bad('expected HOST:PORT (IPv6 in brackets: [::]:443) or unix:PATH');
      [, host, portText] = m;
    }
    const port = Number(portText);
    if (port < 1 || port > 65535) return bad('the port must be between 1 and 65535');
    const tcp = (family: 4 | 6): { text: string; bind: ListenAddress } => ({
      text: family === 4 ? `${host}:${port}` : `[${host}]:${port}`,
      bind: { kind: 'tcp', host, port, family },
    });
    if (isIPv4(host)) return tcp(4);
    if (isIPv6(host)) return tcp(6);
    return bad('the host must be an IP address (0.0.0.0 for every IPv4 interface, [::] for every interface)');
  },
);

const listenObj = map(
  obj({
    address: req(socketAddress, '127.0.0.1:8080, [::]:443, or unix:PATH (unix:@NAME: abstract)'),
    name: opt(
      str({ nonEmpty: true }),
      'its name in LISTEN_FDNAMES (default: the service name); printable ASCII, no ":"',
    ),
    backlog: def(
      int({ min: 1, max: 65535 }),
      4096,
      'connections the kernel queues while the service is down or busy (capped by net.core.somaxconn)',
    ),
    mode: opt(perms, 'file mode of a Unix socket, octal as a string, e.g. "0660"'),
  }),
  (l, n, cx, path) => {
    if (l.name !== undefined && !FD_NAME.test(l.name)) {
      return fail(
        cx,
        n,
        path,
        `invalid name ${JSON.stringify(l.name)}: use printable ASCII without ":" or spaces`,
      );
    }
    if (l.mode !== undefined && (l.address.bind.kind !== 'unix' || l.address.bind.path.startsWith('@'))) {
      return fail(cx, n, path, '"mode" applies to a Unix socket file only (unix:/path)');
    }
    return l;
  },
);
const listenEntry = orShort('address', listenObj, socketAddress);

const serviceObj = obj(
  {
    command: req(command, 'string → run with sh -c; list → argv, run directly'),
    cwd: opt(path_, "working directory (default: the manifest's folder)"),
    enabled: def(bool(), true, 'false (or "false", "no", "0" after interpolation) leaves the service off'),
    env: def(envMap, {}, 'environment variables added to the service'),
    env_from: def(
      list(obj({ prefix: req(str({ nonEmpty: true }), 'KV prefix whose keys become variables') })),
      [],
      'KV prefixes turned into environment variables (envconsul)',
    ),
    after: def(list(located(serviceName)), [], 'local services that must be ready first'),
    requires: def(
      list(located(str({ nonEmpty: true }))),
      [],
      'discovered services that must be healthy first',
    ),
    requires_timeout: def(duration(), '0s', 'how long to wait for requires; 0s = forever'),
    templates: def(list(template), [], 'files rendered from templates'),
    ready: opt(ready, 'when the service counts as ready: one of http, tcp, exec, log'),
    health: opt(health, 'checks after ready: one of http, tcp, exec'),
    restart: def(
      restart,
      {},
      'a policy (always, on-failure, never) or { policy, backoff, max_failures, ... }',
    ),
    stop: def(
      obj({
        signal: def(signal(), 'SIGTERM', 'signal sent to the process group'),
        timeout: def(duration(), '10s', 'SIGKILL after this long'),
      }),
      {},
      'how the service is stopped',
    ),
    reload_signal: def(signal(), 'SIGHUP', 'signal for on_change: reload'),
    rollout: opt(
      rollout,
      'roll config changes that restart or reload this service through the fleet, a few tends at a time: { max_parallel: 1, ready_timeout: 60s } (etcd stores)',
    ),
    on_settings_change: opt(
      onChange,
      'what a settings change under settings.kv_prefix does to this service (default: settings.on_change; none for jobs)',
    ),
    signal_group: def(
      bool(),
      false,
      "send reload and forwarded signals to the service's whole process group, not only its main process",
    ),
    signals: def(
      list(signal({ catchable: true })),
      [],
      'signals tend forwards to this service, e.g. [SIGUSR1]',
    ),
    register: opt(register, 'publish in discovery while ready'),
    finish: opt(command, 'runs after each exit, with TEND_EXIT_CODE, TEND_EXIT_SIGNAL, TEND_SERVICE'),
    finish_timeout: def(duration(), '30s', 'time the finish command may take'),
    logs: def(logs, {}, 'where output goes'),
    essential: def(bool(), false, 'its end stops the stack; tend exits with its code'),
    schedule: opt(cron, 'cron expression (5 fields, or 6 with seconds): makes the service a job'),
    user: opt(
      str({ nonEmpty: true, numbers: true }),
      'run the service and its probes, checks, on_change exec and finish as this user and its groups: name, name:group, uid or uid:gid (tend must run as root)',
    ),
    listen: def(
      map(list(listenEntry), (ls, n, cx, path) => {
        const seen = new Set<string>();
        for (const l of ls) {
          if (seen.has(l.address.text)) return fail(cx, n, path, `${l.address.text} is listed twice`);
          seen.add(l.address.text);
        }
        return ls;
      }),
      [],
      'sockets tend binds and passes to every start as fds 3, 4, … (LISTEN_FDS, sd_listen_fds); they stay open across restarts',
    ),
  },
  {
    description: 'a service',
    // docker-compose spellings, since many manifests start as a compose file
    hints: {
      depends_on: 'tend calls it "after"',
      environment: 'tend calls it "env"',
      env_file: 'use "env" (or "env_from" for KV keys)',
      healthcheck: 'tend calls it "health"',
      working_dir: 'tend calls it "cwd"',
      entrypoint: 'put the whole command in "command"',
      stop_signal: 'use stop: { signal: ... }',
      stop_grace_period: 'use stop: { timeout: ... }',
      image: 'tend runs commands, not images',
    },
  },
);

const service = map(serviceObj, (s, n, cx, path) =>
  s.restart.overlap !== false && s.listen.length === 0
    ? fail(
        cx,
        n,
        path,
        'restart.overlap needs listen: (the new process can only accept beside the old one on a socket tend holds)',
      )
    : s,
);

const services = map(
  entries(service, {
    expected: 'a map of services',
    keySchema: { pattern: SERVICE_NAME.source },
    key: (k, pos, cx) => {
      if (SERVICE_NAME.test(k)) return true;
      cx.error(
        pos,
        `invalid service name ${JSON.stringify(k)}: use letters, digits, "_", "." and "-", starting with a letter or digit`,
      );
      return false;
    },
  }),
  (es, n, cx, path) => (es.length > 0 ? es : fail(cx, n, path, 'needs at least one service')),
  (s) => ({ ...s, minProperties: 1 }),
);

// ---------------------------------------------------------------------------------------------------------
// top level

const stageObj = obj({
  command: req(command, 'string → sh -c; list → argv'),
  timeout: def(duration(), '5m', 'the stage fails after this long'),
});
const stage = map(orShort('command', stageObj, command), (r) => ({
  command: r.command,
  timeoutMs: r.timeout,
}));

const monitor = map(
  orShort(
    'command',
    obj({
      command: req(command, 'string → sh -c; list → argv'),
      interval: def(duration({ min: PROBE_FLOOR }), '30s', 'time between runs'),
      timeout: def(duration(), '10s', 'time one run may take'),
    }),
    command,
  ),
  (r) => ({ command: r.command, timeoutMs: r.timeout, intervalMs: r.interval }),
);

const events = opt(
  list(enumOf(EVENT_KINDS)),
  'event kinds this sink receives (default: all; an exec sink picks its own default)',
);
const sinks: Record<string, Decoder<NotifyPlan>> = {
  stdout: map(
    obj({
      stdout: req(
        bool(),
        "true: events as lines on tend's stdout; `- stdout` (a bare string in the list) is the same sink",
      ),
      events,
    }),
    (r, n, cx, path) =>
      r.stdout
        ? { kind: 'stdout', events: r.events }
        : fail(cx, n, path, 'stdout: false is not a sink; remove it'),
  ),
  webhook: map(
    obj({
      webhook: req(httpUrl, 'URL that receives each event as a JSON POST'),
      timeout: def(duration(), '5s', 'time one request may take'),
      queue: def(
        int({ min: 1 }),
        1000,
        'events kept while the webhook is slow or down; older ones are dropped',
      ),
      headers: def(record(str({ numbers: true })), {}, 'extra request headers'),
      events,
    }),
    (r) => ({
      kind: 'webhook',
      url: r.webhook,
      timeoutMs: r.timeout,
      queue: r.queue,
      headers: r.headers,
      events: r.events,
    }),
  ),
  exec: map(
    obj({
      exec: req(command, 'called with the new state as argument and the event JSON on stdin'),
      timeout: def(duration(), '10s', 'time one call may take'),
      events,
    }),
    (r) => ({ kind: 'exec', command: r.exec, timeoutMs: r.timeout, events: r.events }),
  ),
  file: map(obj({ file: req(path_, 'JSON lines file the events are appended to'), events }), (r) => ({
    kind: 'file',
    path: r.file,
    events: r.events,
  })),
  kv: map(
    obj({ kv: req(kvKey, 'KV key written with the latest event; {service} and {app} are replaced'), events }),
    (r) => ({
      kind: 'kv',
      key: r.kv,
      events: r.events,
    }),
  ),
};
const notifySink = union<NotifyPlan>(
  [
    [isString, map(enumOf(['stdout'] as const, '"stdout"'), () => ({ kind: 'stdout' }))],
    [isMap, variant(sinks, { noun: 'notify sink' })],
  ],
  '"stdout" or a map with one of webhook, exec, file, kv',
);

const settings = obj({
  defaults: opt(
    union<{ file: string } | { inline: Record<string, unknown> }>(
      [
        [isString, map(path_, (file) => ({ file }))],
        [isMap, map(anyValue(), (inline) => ({ inline }))],
      ],
      'a path to a JSON file or an inline map',
    ),
    'defaults: a JSON file, or an inline map',
  ),
  files: def(list(path_), [], 'JSON files merged over the defaults, in order'),
  schema: opt(path_, 'JSON Schema that validates and coerces the settings'),
  env: def(envName('an environment variable'), 'CFG', 'environment variable holding a JSON override'),
  kv_prefix: opt(str({ nonEmpty: true }), 'KV prefix overlaid last'),
  on_change: def(
    onChange,
    'restart',
    'what a change under kv_prefix does to each long-running service (its own on_settings_change wins): restart (default), reload, none, { signal }, { exec }',
  ),
});

export const manifest = obj(
  {
    name: opt(str({ nonEmpty: true }), "the app's name (default: the manifest folder's name)"),
    data_dir: def(path_, './data', 'persistent data; the firstboot marker lives here'),
    state_dir: def(path_, './.tend', 'socket, pid file, state, default log folder'),
    http: opt(
      listenAddress,
      'TCP listener for /healthz, /readyz, /metrics, the API and the dashboard; a bare port (7070 or "7070") is 127.0.0.1 only, ":7070" every interface',
    ),
    kv: def(kvUrl, 'file:./kv', 'KV store: file:PATH, etcd://HOST:PORT or consul://HOST:PORT'),
    settings: def(settings, {}, "the application's own JSON configuration"),
    stages: def(
      obj({
        boot: opt(stage, 'runs first, every start'),
        firstboot: opt(stage, 'runs once, when data_dir has no firstboot marker'),
        upgrade: opt(
          stage,
          'runs on every start, after firstboot and before the services (schema migrations)',
        ),
        warmup: opt(stage, 'runs after services are up, before the app is UP'),
        monitor: opt(
          monitor,
          'runs every interval while UP; JSON on stdout becomes a stats event; a non-zero exit restarts the services (RESTARTING)',
        ),
      }),
      {},
      'app lifecycle commands: a command, or { command, timeout }',
    ),
    notify: def(
      list(notifySink),
      [],
      'where lifecycle events go: `- stdout` (short for `- stdout: true`) or maps with one of stdout, webhook, exec, file, kv',
    ),
    services: req(services, 'the services, by name'),
  },
  { description: 'tend.yaml: the services of one container or VM' },
);

export type RawManifest = Out<typeof manifest>;
export type RawService = Out<typeof service>;

/** The JSON Schema of tend.yaml, for editors (yaml-language-server) and `tend schema`. */
export function jsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'tend.yaml',
    ...manifest.schema(),
  };
}
