// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/** Malformed manifests: each error's exact line:column and message. */
import { describe, expect, test } from 'vitest';
import { loadManifest, ManifestError } from '../../src/manifest/index.js';
import { errorsOf, writeManifest } from './helpers.js';

describe('YAML itself', () => {
  test('bad syntax gives the parser position', () => {
    expect(errorsOf('services:\n  web:\n    command: [a, b\n')).toEqual([
      '4:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  test('tabs as indentation', () => {
    expect(errorsOf('services:\n\tweb: 1\n')).toEqual(['2:1: YAML: Tabs are not allowed as indentation']);
  });

  test('a duplicate service name', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n  web:\n    command: b\n')).toEqual([
      '4:3: duplicate key "web" (first defined at line 2)',
    ]);
  });

  test('a duplicate key inside a service', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    command: b\n')).toEqual([
      '4:5: duplicate key "command" (first defined at line 3)',
    ]);
  });

  test('a manifest that is not a map', () => {
    expect(errorsOf('- a\n')).toEqual(['1:1: the manifest: expected a map, got a list']);
  });

  test('an empty file', () => {
    expect(errorsOf('')).toEqual(['1:1: missing required key "services" at top level']);
  });
});

describe('types (pointing at the value)', () => {
  test('command as a number', () => {
    expect(errorsOf('services:\n  web:\n    command: 42\n')).toEqual([
      '3:14: services.web.command: expected a command: a string (run with sh -c) or a non-empty list of strings (the argv, run directly), got the number 42',
    ]);
  });

  test('an empty argv list', () => {
    expect(errorsOf('services:\n  web:\n    command: []\n')).toEqual([
      '3:14: services.web.command: must not be an empty list',
    ]);
  });

  test('env as a list', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    env: [A=1]\n')).toEqual([
      '4:10: services.web.env: expected a map of environment variables, got a list',
    ]);
  });

  test('enabled that is not a boolean', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    enabled: maybe\n')).toEqual([
      '4:14: services.web.enabled: expected true or false (or yes/no, on/off, 1/0), got "maybe"',
    ]);
  });

  test('a port out of range', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    register: { port: 70000 }\n')).toEqual([
      '4:23: services.web.register.port: must be between 1 and 65535, got 70000',
    ]);
  });

  test('a count that is not an integer', () => {
    expect(
      errorsOf('services:\n  web:\n    command: a\n    health: { tcp: ":80", failures: 2.5 }\n'),
    ).toEqual(['4:37: services.web.health.failures: expected an integer, got the number 2.5']);
  });

  test('a negative keep', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    logs: { keep: -1 }\n')).toEqual([
      '4:19: services.web.logs.keep: must be at least 0, got -1',
    ]);
  });
});

describe('unknown and missing keys', () => {
  test('unknown key at top level, with did-you-mean (and no second "missing" error)', () => {
    expect(errorsOf('servics:\n  web:\n    command: a\n')).toEqual([
      '1:1: unknown key "servics" at top level; did you mean "services"?',
    ]);
  });

  test('unknown key in a service', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    restat: always\n')).toEqual([
      '4:5: unknown key "restat" in service "web"; did you mean "restart"?',
    ]);
  });

  test('unknown keys in restart, including a dash for an underscore', () => {
    expect(
      errorsOf(
        'services:\n  web:\n    command: a\n    restart:\n      polcy: always\n      max-failures: 3\n',
      ),
    ).toEqual([
      '5:7: unknown key "polcy" in services.web.restart; did you mean "policy"?',
      '6:7: unknown key "max-failures" in services.web.restart; did you mean "max_failures"?',
    ]);
  });

  test('an unknown key with nothing close lists the valid ones when there are few', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    stop: { sgnl: TERM, zzz: 1 }\n')).toEqual([
      '4:13: unknown key "sgnl" in services.web.stop; did you mean "signal"?',
      '4:25: unknown key "zzz" in services.web.stop; valid keys: signal, timeout',
    ]);
  });

  test('missing command points at the service map', () => {
    expect(errorsOf('services:\n  web:\n    env: { A: 1 }\n')).toEqual([
      '3:5: missing required key "command" in service "web"',
    ]);
  });

  test('an empty service points at its name', () => {
    expect(errorsOf('services:\n  web:\n')).toEqual(['2:3: missing required key "command" in service "web"']);
  });

  test('a required key with no value', () => {
    expect(errorsOf('services:\n  web:\n    command:\n')).toEqual([
      '3:5: services.web.command: needs a value',
    ]);
  });

  test('no services at all', () => {
    expect(errorsOf('services: {}\n')).toEqual(['1:11: services: needs at least one service']);
  });
});

describe('values', () => {
  test('a duration with words', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    stop: { timeout: 10 seconds }\n')).toEqual([
      '4:22: services.web.stop.timeout: invalid duration "10 seconds": expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s',
    ]);
  });

  test('a duration without a unit', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    stop: { timeout: 10 }\n')).toEqual([
      '4:22: services.web.stop.timeout: invalid duration "10": add a unit, e.g. "10s" or "10ms"',
    ]);
  });

  test('a bad size', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    logs: { max_size: 10XB }\n')).toEqual([
      '4:23: services.web.logs.max_size: invalid size "10XB": expected a number followed by a unit (B, KB, MB, GB, TB; binary, 1KB = 1024B), e.g. 512B or 10MB',
    ]);
  });

  test('a bad signal name', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    stop: { signal: SIGTREM }\n')).toEqual([
      '4:21: services.web.stop.signal: unknown signal "SIGTREM"; did you mean "SIGTERM"?',
    ]);
  });

  test('a signal tend can never forward', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    signals: [USR1, KILL]\n')).toEqual([
      '4:21: services.web.signals[1]: SIGKILL cannot be caught, so tend can never forward it',
    ]);
  });

  test('bad perms', () => {
    const yaml =
      'services:\n  web:\n    command: a\n    templates:\n      - source: a.tmpl\n        destination: a\n        perms: "0999"\n';
    expect(errorsOf(yaml)).toEqual([
      '7:16: services.web.templates[0].perms: expected an octal file mode such as "0640", got "0999"',
    ]);
  });

  test('a template without a destination', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    templates:\n      - source: a.tmpl\n')).toEqual([
      '5:9: missing required key "destination" in services.web.templates[0]',
    ]);
  });

  test('a bad regex in ready.log', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    ready: { log: "(unclosed" }\n')).toEqual([
      '4:19: services.web.ready.log: invalid regular expression /(unclosed/: Unterminated group',
    ]);
  });

  test('a cron expression with a value out of range', () => {
    expect(errorsOf('services:\n  job:\n    command: a\n    schedule: "61 * * * *"\n')).toEqual([
      '4:15: services.job.schedule: invalid cron expression "61 * * * *": Invalid value for minute: 61',
    ]);
  });

  test('a cron expression with too few fields', () => {
    expect(errorsOf('services:\n  job:\n    command: a\n    schedule: "* * * *"\n')).toEqual([
      '4:15: services.job.schedule: invalid cron expression "* * * *": expected 5 fields (minute hour day month weekday) or 6 (seconds first), got 4',
    ]);
  });

  test('a cron expression that never fires', () => {
    expect(errorsOf('services:\n  job:\n    command: a\n    schedule: "0 0 30 2 *"\n')).toEqual([
      '4:15: services.job.schedule: cron expression "0 0 30 2 *" never matches a date',
    ]);
  });

  test('a restart policy shorthand that is misspelt', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    restart: alwyas\n')).toEqual([
      '4:14: services.web.restart: expected "always", "on-failure" or "never", got "alwyas"; did you mean "always"?',
    ]);
  });

  test('backoff max below initial', () => {
    expect(
      errorsOf('services:\n  web:\n    command: a\n    restart: { backoff: { initial: 5s, max: 1s } }\n'),
    ).toEqual(['4:25: services.web.restart.backoff: max must not be less than initial']);
  });

  test('an unknown KV backend', () => {
    expect(errorsOf('kv: redis://x\nservices:\n  web:\n    command: a\n')).toEqual([
      '1:5: kv: unknown KV backend "redis"; expected a KV URL such as file:./kv, etcd://127.0.0.1:2379 or consul://127.0.0.1:8500',
    ]);
  });

  test('a bad listener address', () => {
    expect(errorsOf('http: localhost\nservices:\n  web:\n    command: a\n')).toEqual([
      '1:7: http: expected "host:port", got "localhost"',
    ]);
  });
});

describe('probes and sinks (one of several kinds)', () => {
  test('two kinds at once', () => {
    expect(
      errorsOf('services:\n  web:\n    command: a\n    ready: { http: "http://x", tcp: ":80" }\n'),
    ).toEqual([
      '4:32: services.web.ready: "http" and "tcp" cannot be combined; a ready check has exactly one of "http", "tcp", "exec" or "log"',
    ]);
  });

  test('no kind', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    ready: { timeout: 5s }\n')).toEqual([
      '4:12: services.web.ready: a ready check needs one of "http", "tcp", "exec" or "log"',
    ]);
  });

  test('a misspelt kind', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    ready: { htp: "http://x" }\n')).toEqual([
      '4:14: unknown key "htp" in services.web.ready; did you mean "http"?',
    ]);
  });

  test('log is not a health check', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    health: { log: "x" }\n')).toEqual([
      '4:15: unknown key "log" in services.web.health: a health check cannot watch the log; use http, tcp or exec',
    ]);
  });

  test('notify sinks', () => {
    const yaml =
      'notify:\n  - stdot\n  - { webhook: "ftp://x" }\n  - { file: x, queue: 3 }\n  - { kv: "a/{svc}" }\nservices:\n  web:\n    command: a\n';
    expect(errorsOf(yaml)).toEqual([
      '2:5: notify[0]: expected "stdout", got "stdot"; did you mean "stdout"?',
      '3:16: notify[1].webhook: expected a http or https URL, got "ftp://x/"',
      '4:16: unknown key "queue" in notify[2]; valid keys: file, events',
      '5:11: notify[3].kv: unknown placeholder "{svc}" in key; use {service} or {app}',
    ]);
  });

  test('an unknown event kind', () => {
    expect(
      errorsOf('notify:\n  - { stdout: true, events: [app, sevice] }\nservices:\n  web:\n    command: a\n'),
    ).toEqual([
      '2:35: notify[0].events[1]: expected "app", "service", "stats", "maintenance", "config", "job", "health" or "finish", got "sevice"; did you mean "service"?',
    ]);
  });
});

describe('services together', () => {
  test('invalid service names', () => {
    expect(errorsOf('services:\n  -web:\n    command: a\n  "my svc":\n    command: b\n')).toEqual([
      '2:3: invalid service name "-web": use letters, digits, "_", "." and "-", starting with a letter or digit',
      '4:3: invalid service name "my svc": use letters, digits, "_", "." and "-", starting with a letter or digit',
    ]);
  });

  test('a cycle in after is named', () => {
    const yaml =
      'services:\n  a:\n    command: a\n    after: [b]\n  b:\n    command: b\n    after: [c]\n  c:\n    command: c\n    after: [a]\n';
    expect(errorsOf(yaml)).toEqual(['4:13: cycle in "after": a → b → c → a']);
  });

  test('a two-service cycle reads from the service written first', () => {
    const yaml =
      'services:\n  x:\n    command: a\n  b:\n    command: b\n    after: [a]\n  a:\n    command: c\n    after: [b]\n';
    expect(errorsOf(yaml)).toEqual(['6:13: cycle in "after": b → a → b']);
  });

  test('after naming an unknown service', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    after: [dv]\n  db:\n    command: b\n')).toEqual([
      '4:13: service "web": "after" names unknown service "dv"; did you mean "db"?',
    ]);
  });

  test('mistakes in after are listed together with the other errors, not after they are fixed', () => {
    const yaml =
      'services:\n  web:\n    comand: a\n    after: [db, web]\n  db:\n    command: b\n    after: [wbe]\n  q:\n    command: 3\n    after: [cache, q2]\n  q2:\n    command: c\n    after: [q]\n';
    expect(errorsOf(yaml)).toEqual([
      '3:5: unknown key "comand" in service "web"; did you mean "command"?',
      '4:17: service "web" lists itself in "after"',
      '7:13: service "db": "after" names unknown service "wbe"; did you mean "web"?',
      '9:14: services.q.command: expected a command: a string (run with sh -c) or a non-empty list of strings (the argv, run directly), got the number 3',
      '10:13: service "q": "after" names unknown service "cache"',
      '10:20: cycle in "after": q → q2 → q',
    ]);
  });

  test('after naming itself', () => {
    expect(errorsOf('services:\n  web:\n    command: a\n    after: [web]\n')).toEqual([
      '4:13: service "web" lists itself in "after"',
    ]);
  });

  test('an unknown --only name', () => {
    expect(
      errorsOf('name: x\nservices:\n  web:\n    command: a\n  worker:\n    command: b\n', {
        only: ['wrker'],
      }),
    ).toEqual(['2:1: unknown service "wrker" in --only; did you mean "worker"?']);
  });

  test('jobs cannot be essential or health-checked', () => {
    const yaml =
      'services:\n  job:\n    command: a\n    schedule: "@daily"\n    essential: true\n    health: { tcp: ":80" }\n    ready: { tcp: ":80" }\n';
    expect(errorsOf(yaml)).toEqual([
      '5:5: service "job" is a job (schedule) and cannot be essential',
      '6:5: service "job" is a job (schedule) and cannot have a health check',
      '7:5: service "job" is a job (schedule) and cannot have a ready check',
    ]);
  });
});

describe('interpolation errors', () => {
  test('required variables and unclosed expressions', () => {
    expect(errorsOf('services:\n  web:\n    command: "echo ${A:?set A please} ${B"\n')).toEqual([
      '3:20: variable "A" is required: set A please',
      '3:39: invalid interpolation "${B": missing "}"',
    ]);
  });

  test('a required value that interpolates to nothing', () => {
    expect(errorsOf('services:\n  web:\n    command: ${CMD}\n')).toEqual([
      '3:14: services.web.command: is empty after interpolation',
    ]);
  });
});

test('every error at once, in file order', () => {
  const yaml = [
    'name: x', //                              1
    'services:', //                            2
    '  web:', //                               3
    '    command: 1', //                       4
    '    enabled: maybe', //                   5
    '    restart: sometimes', //               6
    '    stop: { timeout: 10 }', //            7
    '  db:', //                                8
    '    comand: x', //                        9
    '    logs: { max_size: 10 MB }', //        10
    'notify: [stdot]', //                      11
    'stages:', //                              12
    '  boot: { command: x, timout: 5m }', //   13
    '',
  ].join('\n');
  expect(errorsOf(yaml)).toEqual([
    '4:14: services.web.command: expected a command: a string (run with sh -c) or a non-empty list of strings (the argv, run directly), got the number 1',
    '5:14: services.web.enabled: expected true or false (or yes/no, on/off, 1/0), got "maybe"',
    '6:14: services.web.restart: expected "always", "on-failure" or "never", got "sometimes"',
    '7:22: services.web.stop.timeout: invalid duration "10": add a unit, e.g. "10s" or "10ms"',
    '9:5: unknown key "comand" in service "db"; did you mean "command"?',
    '10:23: services.db.logs.max_size: invalid size "10 MB": expected a number followed by a unit (B, KB, MB, GB, TB; binary, 1KB = 1024B), e.g. 512B or 10MB',
    '11:10: notify[0]: expected "stdout", got "stdot"; did you mean "stdout"?',
    '13:23: unknown key "timout" in stages.boot; did you mean "timeout"?',
  ]);
});

test('ManifestError carries structured errors and a file:line:column message', () => {
  const file = writeManifest('services:\n  web:\n    command: a\n    restat: always\n    env: [x]\n');
  let caught: unknown;
  try {
    loadManifest(file, { env: {} });
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ManifestError);
  const e = caught as ManifestError;
  expect(e.errors).toEqual([
    { file, line: 4, column: 5, message: 'unknown key "restat" in service "web"; did you mean "restart"?' },
    {
      file,
      line: 5,
      column: 10,
      message: 'services.web.env: expected a map of environment variables, got a list',
    },
  ]);
  expect(e.message).toBe(
    `${file}:4:5: unknown key "restat" in service "web"; did you mean "restart"?\n` +
      `${file}:5:10: services.web.env: expected a map of environment variables, got a list`,
  );
});

test('a missing file is a ManifestError without a position', () => {
  expect(() => loadManifest('/nonexistent/tend.yaml')).toThrow(
    new ManifestError([
      {
        file: '/nonexistent/tend.yaml',
        line: 0,
        column: 0,
        message: 'cannot read the manifest: no such file',
      },
    ]),
  );
  try {
    loadManifest('/nonexistent/tend.yaml');
  } catch (e) {
    expect((e as Error).message).toBe('/nonexistent/tend.yaml: cannot read the manifest: no such file');
  }
});

test('two enabled services rendering the same file', () => {
  const yaml = [
    'services:',
    '  a:',
    '    command: x',
    '    templates: [{ source: a.tmpl, destination: out.conf }]',
    '  b:',
    '    command: x',
    '    templates:',
    '      - source: b.tmpl',
    '        destination: ./out.conf',
    '  c:',
    '    command: x',
    '    enabled: false',
    '    templates: [{ source: c.tmpl, destination: out.conf }]',
    '',
  ].join('\n');
  const [e, ...rest] = errorsOf(yaml);
  expect(rest).toEqual([]);
  expect(e).toMatch(
    /^9:9: services\.b\.templates\[0\]\.destination: \/.*\/out\.conf is also written by services\.a\.templates\[0\]$/,
  );
});

test('checks across services still run when a ${...} is malformed', () => {
  expect(errorsOf('services:\n  web:\n    command: x\n    env: { A: "${" }\n    after: [nope]\n')).toEqual([
    '4:16: invalid interpolation "${": expected a variable name after "${"',
    '5:13: service "web": "after" names unknown service "nope"',
  ]);
  // A value whose interpolation failed is not reported a second time as empty or mistyped.
  expect(errorsOf('services:\n  web:\n    command: "${"\n    enabled: "${X:?say yes or no}"\n')).toEqual([
    '3:15: invalid interpolation "${": expected a variable name after "${"',
    '4:15: variable "X" is required: say yes or no',
  ]);
});

test('a KV scheme close to a known one', () => {
  expect(errorsOf('kv: etdc://h:2379\nservices:\n  a:\n    command: x\n')).toEqual([
    '1:5: kv: unknown KV backend "etdc"; did you mean "etcd"?; expected a KV URL such as file:./kv, etcd://127.0.0.1:2379 or consul://127.0.0.1:8500',
  ]);
});

test('compose spellings get a pointer to the tend key', () => {
  expect(
    errorsOf('services:\n  web:\n    command: x\n    depends_on: [db]\n    environment: { A: 1 }\n'),
  ).toEqual([
    '4:5: unknown key "depends_on" in service "web": tend calls it "after"',
    '5:5: unknown key "environment" in service "web": tend calls it "env"',
  ]);
});
