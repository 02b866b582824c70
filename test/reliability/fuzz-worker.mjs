// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/**
 * One fast-check property of fuzz.reliability.ts, run in a worker thread against the test run's build, so
 * that a hang (a synchronous loop that never returns) can be detected and the worker killed: before each
 * input the worker posts it, and the test fails with the last input posted when it goes quiet.
 *
 * workerData: { dist, property, numRuns, seed, specExample }
 * messages:   { t: 'try', input } before each run; { t: 'done', runs, outcomes } or { t: 'fail', message }
 */
import { parentPort, workerData } from 'node:worker_threads';
import fc from 'fast-check';

const { dist, property, numRuns, seed, specExample } = workerData;
const manifest = await import(`${dist}/manifest/index.js`);
const template = await import(`${dist}/template/index.js`);

let runs = 0;
/** what the inputs became: ok, or which documented error */
const outcomes = {};
const count = (k) => {
  outcomes[k] = (outcomes[k] ?? 0) + 1;
};
const beat = (input) => {
  runs++;
  parentPort.postMessage({ t: 'try', input: String(input).slice(0, 2000) });
};

// ── durations and sizes ──────────────────────────────────────────────────────────────────────────────────

const unitTokens = (units) => [
  '0',
  '1',
  '7',
  '10',
  '999',
  '12345678901234567890',
  '.',
  '.5',
  '5.',
  '1.5',
  '-',
  '+',
  ' ',
  '\t',
  'e3',
  '1e3',
  '_',
  ',',
  '٣',
  '１',
  'µ',
  'Infinity',
  'NaN',
  '0x10',
  ...units,
];
const soup = (tokens) => fc.array(fc.constantFrom(...tokens), { maxLength: 8 }).map((t) => t.join(''));

const DUR_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS = { B: 1, KB: 1024, KiB: 1024, MB: 1024 ** 2, MiB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function unitProperty(parse, format, units, kind) {
  const valid = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...Object.keys(units))), {
      minLength: 1,
      maxLength: kind === 'duration' ? 4 : 1,
    })
    .map((parts) => ({
      text: parts
        .map(([n, u]) => `${n}${kind === 'size' && Math.random() < 0.3 ? u.toLowerCase() : u}`)
        .join(''),
      want: parts.reduce((sum, [n, u]) => sum + n * units[u], 0),
    }));
  const any = fc.oneof(fc.string({ maxLength: 20, unit: 'binary' }), soup(unitTokens(Object.keys(units))));
  return fc.property(
    fc.oneof(
      any.map((text) => ({ text })),
      valid,
    ),
    ({ text, want }) => {
      beat(text);
      let v;
      try {
        v = parse(text);
      } catch (e) {
        if (!(e instanceof manifest.UnitError))
          throw new Error(`${JSON.stringify(text)}: threw ${e?.name}: ${e?.message}`);
        if (typeof e.message !== 'string' || !e.message.includes(`invalid ${kind}`))
          throw new Error(`${JSON.stringify(text)}: UnitError without the documented message: ${e.message}`);
        if (want !== undefined && Number.isSafeInteger(want))
          throw new Error(`${JSON.stringify(text)} is valid (${want}) but was refused: ${e.message}`);
        count('UnitError');
        return;
      }
      if (!Number.isSafeInteger(v) || v < 0)
        throw new Error(`${JSON.stringify(text)} → ${v}: not a whole, safe, non-negative number`);
      if (want !== undefined && v !== want) throw new Error(`${JSON.stringify(text)} → ${v}, want ${want}`);
      if (parse(format(v)) !== v) throw new Error(`${v} → ${format(v)} does not read back`);
      count('ok');
    },
  );
}

// ── the manifest loader ──────────────────────────────────────────────────────────────────────────────────

const KEYS = [
  'name',
  'data_dir',
  'state_dir',
  'http',
  'kv',
  'settings',
  'defaults',
  'schema',
  'env',
  'kv_prefix',
  'stages',
  'boot',
  'monitor',
  'interval',
  'timeout',
  'notify',
  'webhook',
  'exec',
  'file',
  'events',
  'services',
  'web',
  'db',
  'command',
  'enabled',
  'env_from',
  'prefix',
  'after',
  'requires',
  'templates',
  'source',
  'destination',
  'perms',
  'on_change',
  'wait',
  'min',
  'max',
  'missing',
  'sentinel',
  'check',
  'ready',
  'health',
  'tcp',
  'log',
  'restart',
  'policy',
  'backoff',
  'initial',
  'max_failures',
  'stop',
  'signal',
  'reload_signal',
  'register',
  'port',
  'tags',
  'finish',
  'logs',
  'max_size',
  'keep',
  'stdout',
  'format',
  'essential',
  'schedule',
  'signals',
  'x-common',
  '<<',
  'restat',
  '"quoted key"',
  '? complex',
];
const VALUES = [
  'true',
  'no',
  'null',
  '~',
  '0',
  '-1',
  '1e400',
  '0640',
  '0o640',
  '10s',
  '1m30s',
  '10',
  '50MB',
  '1.5GB',
  'always',
  'on-failure',
  'never',
  'restart',
  '{ signal: SIGUSR2 }',
  'SIGKILL',
  'TERM',
  '"*/5 * * * *"',
  '"0 0 30 2 *"',
  '"@daily"',
  'exec sleep 60',
  '[sh, -c, "exit 1"]',
  '[]',
  '{}',
  '[db]',
  '[web, web]',
  'http://127.0.0.1:8080/ready',
  'etcd://127.0.0.1:2379',
  'consul://x',
  'ftp://nope',
  '7070',
  '127.0.0.1:0',
  '[::1]:99999',
  '${VAR}',
  '${VAR:-x}',
  '${UNSET:?it is required}',
  '${VAR:+alt}',
  '${',
  '$$',
  '${VAR',
  '${${VAR}}',
  '&anchor x',
  '*anchor',
  '*nowhere',
  '!!binary aGVsbG8=',
  '!!int x',
  '!custom tag',
  '|',
  '>-',
  '"unterminated',
  "'single'",
  '"\\u0000"',
  '\u0000',
  '\uFEFF',
  'é☃',
  '#comment',
];
const LINES = ['---', '...', '%YAML 1.2', '', '\t', '- ', '  - ', '{', '}', '[', ']', ',', '? '];

const indent = fc.constantFrom('', '  ', '    ', '      ', '        ', ' ', '\t');
const yamlLine = fc.oneof(
  fc
    .tuple(indent, fc.constantFrom(...KEYS), fc.constantFrom(...VALUES, ''))
    .map(([i, k, v]) => `${i}${k}: ${v}`),
  fc.tuple(indent, fc.constantFrom(...KEYS)).map(([i, k]) => `${i}${k}:`),
  fc.tuple(indent, fc.constantFrom(...VALUES)).map(([i, v]) => `${i}- ${v}`),
  fc.constantFrom(...LINES),
  fc.string({ maxLength: 12 }),
);
const soupManifest = fc.array(yamlLine, { maxLength: 30 }).map((ls) => ls.join('\n'));

const BASE = `${specExample}
  db:
    command: exec sleep 60
  extra:
    command: [sleep, "60"]
    restart: { policy: on-failure, backoff: { initial: 100ms, max: 2s }, max_failures: 3, window: 10s }
    stop: { signal: SIGINT, timeout: 5s }
    logs: { file: ./logs/x.log, max_size: 1MB, keep: 2, format: json }
`;
// the mutations start from a manifest that loads: otherwise they would only ever explore errors
manifest.parseManifestText(BASE, '/nonexistent/fuzz/tend.yaml', { env: {} });
const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete'), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    op: fc.constant('insert'),
    at: fc.nat(),
    text: fc.oneof(
      fc.constantFrom(...VALUES, ...KEYS, ':', ' ', '\n', '  ', '- ', '{', '[', '#', '"', "'", '&a ', '*a'),
      fc.string({ maxLength: 6 }),
    ),
  }),
  fc.record({ op: fc.constant('dupline'), at: fc.nat() }),
  fc.record({ op: fc.constant('indent'), at: fc.nat(), by: fc.constantFrom('  ', ' ', '\t', '') }),
  fc.record({ op: fc.constant('swap'), at: fc.nat(), with: fc.nat() }),
);
const mutatedManifest = fc.array(mutation, { minLength: 1, maxLength: 6 }).map((ms) => {
  let text = BASE;
  for (const m of ms) {
    if (m.op === 'delete' || m.op === 'insert') {
      const at = m.at % (text.length + 1);
      text =
        m.op === 'delete'
          ? text.slice(0, at) + text.slice(at + m.len)
          : text.slice(0, at) + m.text + text.slice(at);
    } else {
      const lines = text.split('\n');
      const i = m.at % lines.length;
      if (m.op === 'dupline') lines.splice(i, 0, lines[i]);
      if (m.op === 'indent') lines[i] = m.by + lines[i].trimStart();
      if (m.op === 'swap')
        [lines[i], lines[m.with % lines.length]] = [lines[m.with % lines.length], lines[i]];
      text = lines.join('\n');
    }
  }
  return text;
});

// JSON is YAML: random shapes in the places of a manifest
const anyValue = fc.oneof(
  { depthSize: 'small' },
  fc.anything({ maxDepth: 3, maxKeys: 4 }),
  fc.constantFrom(...VALUES),
);
const shapedManifest = fc
  .record(
    {
      name: anyValue,
      http: anyValue,
      kv: anyValue,
      settings: anyValue,
      stages: fc.dictionary(
        fc.constantFrom('boot', 'firstboot', 'upgrade', 'warmup', 'monitor', 'bogus'),
        anyValue,
      ),
      notify: fc.array(anyValue, { maxLength: 3 }),
      services: fc.dictionary(
        fc.oneof(fc.constantFrom('web', 'db', 'a-b', '1x', '-bad', 'web'), fc.string({ maxLength: 5 })),
        fc.dictionary(fc.constantFrom(...KEYS.slice(20, 63)), anyValue, { maxKeys: 6 }),
        { maxKeys: 4 },
      ),
    },
    { requiredKeys: ['services'] },
  )
  .map((o) => JSON.stringify(o));

// a skeleton that loads, with random values at the leaves: most inputs reach build and defaults
const leaf = (good) =>
  fc.oneof(
    { weight: 60, arbitrary: fc.constant(good) },
    fc.constantFrom(...VALUES),
    fc.string({ maxLength: 6 }),
    fc.integer(),
    fc.double(),
  );
const leafManifest = fc
  .record({
    cmd: leaf('exec sleep 60'),
    policy: leaf('always'),
    initial: leaf('100ms'),
    max: leaf('30s'),
    failures: leaf(5),
    timeout: leaf('10s'),
    signal: leaf('SIGTERM'),
    size: leaf('10MB'),
    keep: leaf(3),
    after: leaf('db'),
    tplWait: leaf('1s'),
    perms: leaf('0640'),
    onChange: leaf('restart'),
    schedule: leaf('*/5 * * * *'),
    http: leaf('127.0.0.1:0'),
  })
  .map((v) => {
    const y = (x) => JSON.stringify(x);
    return `http: ${y(v.http)}
services:
  web:
    command: ${y(v.cmd)}
    restart: { policy: ${y(v.policy)}, backoff: { initial: ${y(v.initial)}, max: ${y(v.max)} }, max_failures: ${y(v.failures)} }
    stop: { signal: ${y(v.signal)}, timeout: ${y(v.timeout)} }
    logs: { max_size: ${y(v.size)}, keep: ${y(v.keep)} }
    after: [${y(v.after)}]
    templates:
      - { source: a.tmpl, destination: ./a.conf, wait: { min: ${y(v.tplWait)} }, perms: ${y(v.perms)}, on_change: ${y(v.onChange)} }
  db:
    command: exec sleep 60
  job:
    schedule: ${y(v.schedule)}
    command: "true"
`;
  });

const envArb = fc.dictionary(
  fc.constantFrom('VAR', 'WEB_ENABLED', 'EMPTY', 'X'),
  fc.oneof(fc.constant(''), fc.string({ maxLength: 8 }), fc.constantFrom('true', '${VAR}', '$$', '}')),
);

function manifestProperty() {
  const text = fc.oneof(
    { weight: 3, arbitrary: mutatedManifest },
    { weight: 3, arbitrary: soupManifest },
    { weight: 2, arbitrary: shapedManifest },
    { weight: 3, arbitrary: leafManifest },
  );
  return fc.property(text, envArb, (t, env) => {
    beat(t);
    const file = '/nonexistent/fuzz/tend.yaml';
    let loaded;
    try {
      loaded = manifest.parseManifestText(t, file, { env });
    } catch (e) {
      if (!(e instanceof manifest.ManifestError)) throw new Error(`threw ${e?.name}: ${e?.stack ?? e}`);
      if (!Array.isArray(e.errors) || e.errors.length === 0) throw new Error('ManifestError without errors');
      const lines = t.split('\n').length;
      for (const i of e.errors) {
        if (i.file !== file) throw new Error(`issue in another file: ${JSON.stringify(i)}`);
        if (
          !Number.isInteger(i.line) ||
          !Number.isInteger(i.column) ||
          i.line < 0 ||
          i.column < 0 ||
          i.line > lines + 1
        )
          throw new Error(`issue without a position in the text: ${JSON.stringify(i)}`);
        if (typeof i.message !== 'string' || i.message.trim() === '')
          throw new Error(`issue without a message: ${JSON.stringify(i)}`);
      }
      if (e.message !== e.errors.map(manifest.formatIssue).join('\n'))
        throw new Error('message is not one file:line:column line per issue');
      count('ManifestError');
      return;
    }
    if (!loaded?.plan || typeof loaded.plan.services !== 'object' || !Array.isArray(loaded.warnings))
      throw new Error(`loaded without a plan: ${JSON.stringify(loaded).slice(0, 200)}`);
    for (const s of Object.values(loaded.plan.services)) {
      if (!Number.isFinite(s.stop.timeoutMs) || !Number.isFinite(s.restart.backoff.initialMs))
        throw new Error(`plan with a non-number duration: ${JSON.stringify(s).slice(0, 300)}`);
    }
    manifest.formatPlan(loaded.plan);
    count('ok');
  });
}

// ── the template engine ──────────────────────────────────────────────────────────────────────────────────

const TPL_TOKENS = [
  '{{',
  '}}',
  '{{- ',
  ' -}}',
  '{{/* c */}}',
  ' ',
  '\n',
  '.',
  '.a',
  '.b.c',
  '.l',
  '.m',
  '$',
  '$x :=',
  '$x =',
  '$i, $e :=',
  '|',
  '(',
  ')',
  'if',
  'else',
  'end',
  'range',
  'with',
  'define "t"',
  'template "t" .',
  'block "b" .',
  'break',
  'continue',
  '"s"',
  '`raw`',
  "'c'",
  '1',
  '-2',
  '3.5',
  '1e300',
  'true',
  'nil',
  'and',
  'or',
  'not',
  'len',
  'index',
  'slice',
  'printf',
  '"%v %d %s %q %x %08.3f %-5t %*d %[2]v %!"',
  'eq',
  'lt',
  'html',
  'js',
  'urlquery',
  'call',
  'key "a"',
  'key "j"',
  'key "bad"',
  'keyOrDefault "x" "d"',
  'keyExists "a"',
  'ls "p"',
  'tree "p"',
  'service "web"',
  'services',
  'env "HOME"',
  'toJSON',
  'toJSONPretty',
  'toYAML',
  'toTOML',
  'parseJSON',
  'parseYAML',
  'parseInt',
  'parseFloat',
  'parseBool',
  'split ","',
  'join ","',
  'replaceAll "a" "b"',
  'regexReplaceAll "a+" "x"',
  'regexMatch "^a"',
  'toLower',
  'toUpper',
  'toTitle',
  'trimSpace',
  'indent 2',
  'add 1',
  'subtract 1',
  'multiply 2',
  'divide 0',
  'modulo 0',
  'loop 3',
  'sha256Hex',
  'base64Encode',
  'base64Decode',
  'contains "a"',
  'in "a"',
  'byKey',
  'byTag',
  'explode',
  'timestamp',
  'plugin "x"',
  'sockaddr',
];
// a template: text, actions of one to four tokens, and balanced blocks (so most inputs reach the executor),
// with now and then a stray token that breaks the structure
const STRUCTURAL = [
  'if',
  'else',
  'end',
  'range',
  'with',
  'define "t"',
  'template "t" .',
  'block "b" .',
  'break',
  'continue',
];
const actionToken = fc.oneof(
  { weight: 9, arbitrary: fc.constantFrom(...TPL_TOKENS.filter((t) => !STRUCTURAL.includes(t))) },
  fc.constantFrom(...STRUCTURAL),
);
const action = fc
  .tuple(
    fc.constantFrom('{{', '{{- '),
    fc.array(actionToken, { minLength: 1, maxLength: 4 }),
    fc.constantFrom('}}', ' -}}'),
  )
  .map(([l, ts, r]) => `${l}${ts.join(' ')}${r}`);
const opener = fc.constantFrom(
  '{{ if .a }}',
  '{{ if not .n }}',
  '{{ range .l }}',
  '{{ range $k, $v := .m }}',
  '{{ range $i, $e := tree "p" }}{{ $e.Key }}={{ .Value }}',
  '{{ range ls "p" }}',
  '{{ with key "j" | parseJSON }}',
  '{{ with $x := keyOrDefault "bad" "{}" | parseJSON }}',
  '{{ range loop 3 }}',
);
const { tpl: tplArb } = fc.letrec((tie) => ({
  tpl: fc.array(tie('node'), { maxLength: 6 }).map((ns) => ns.join('')),
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('text', '\n', ' ', '{', '}'),
    action,
    fc
      .tuple(opener, tie('tpl'), fc.option(tie('tpl')))
      .map(([o, a, b]) => `${o}${a}${b === null ? '' : `{{ else }}${b}`}{{ end }}`),
    fc.constantFrom(
      '{{ end }}',
      '{{ else }}',
      '{{ break }}',
      '{{ define "t" }}x{{ end }}{{ template "t" . }}',
    ),
  ),
}));
const kvArb = fc.dictionary(
  fc.constantFrom('a', 'j', 'bad', 'p/x', 'p/y/z', 'p/', 'x'),
  fc.oneof(
    fc.string({ maxLength: 10 }),
    fc.constantFrom('{"x":[1,2]}', '{"x":', '[1,2', 'a,b,c', '12', '1e999', 'true', '\u0000', 'key: ['),
  ),
);
const data = { a: 1, b: { c: 'x' }, l: [1, 'two', null, [3]], m: { k: 'v', z: 0 } };

function templateProperty() {
  return fc.property(
    tplArb,
    kvArb,
    fc.constantFrom(undefined, ['[[', ']]'], ['<%', '%>']),
    (text, kv, delims) => {
      const t = delims ? text.replaceAll('{{', delims[0]).replaceAll('}}', delims[1]) : text;
      beat(t);
      const src = template.memorySource({ kv, env: { HOME: '/root' } });
      try {
        template.renderWithSource(t, data, src, {
          name: 'fuzz',
          leftDelim: delims?.[0],
          rightDelim: delims?.[1],
        });
        count('ok');
      } catch (e) {
        if (!(e instanceof template.TemplateError)) throw new Error(`threw ${e?.name}: ${e?.stack ?? e}`);
        if (!/^template: fuzz[:]/.test(e.message))
          throw new Error(`TemplateError not in Go's shape: ${e.message}`);
        count(`TemplateError:${e.kind}`);
      }
    },
  );
}

/**
 * regex functions with nested quantifiers on inputs long enough to make a backtracking engine explode: known
 * ReDoS shapes and generated ones (each explosive input costs the function's 1 s budget, so few runs)
 */
function regexProperty() {
  const known = fc.constantFrom('(a*)*b', '(a+)+$', '(a|aa)+$', '^(\\w+\\s?)*$', '(a|a)*c', '(.*a){20}');
  const atom = fc.constantFrom('a', 'a*', 'a+', '(a|a)', '(a|aa)', '\\w', '.', '[ab]', '(a?)');
  const quant = fc.constantFrom('*', '+', '{1,3}', '?', '');
  const generated = fc
    .tuple(fc.array(atom, { minLength: 1, maxLength: 3 }), quant, fc.constantFrom('b', '$', '!', 'c', ''))
    .map(([atoms, q, tail]) => `(${atoms.join('')})${q}${tail}`);
  const pattern = fc.oneof(known, generated);
  const input = fc
    .tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom('', '!', 'c', 'b'))
    .map(([n, t]) => 'a'.repeat(n) + t);
  return fc.property(pattern, input, fc.boolean(), (re, s, match) => {
    const text = match
      ? `{{ regexMatch ${JSON.stringify(re)} (key "k") }}`
      : `{{ regexReplaceAll ${JSON.stringify(re)} "x" (key "k") }}`;
    beat(`${text} with k=${JSON.stringify(s)}`);
    try {
      template.renderWithSource(text, data, template.memorySource({ kv: { k: s }, env: {} }), {
        name: 'fuzz',
      });
      count('ok');
    } catch (e) {
      if (!(e instanceof template.TemplateError)) throw new Error(`threw ${e?.name}: ${e?.message}`);
      count(/took over/.test(e.message) ? 'regexp budget' : 'TemplateError');
    }
  });
}

/** hand-made worst cases: alias bombs, deep nesting, huge inputs; documented errors only, each within the watchdog */
function pathologicalProperty() {
  const levels = 'abcdefghij'.split('');
  let laughs = 'x-a: &a [x,x,x,x,x,x,x,x,x]\n';
  for (let i = 1; i < levels.length; i++)
    laughs += `x-${levels[i]}: &${levels[i]} [${Array(9)
      .fill(`*${levels[i - 1]}`)
      .join(',')}]\n`;
  const web = 'services:\n  web:\n    command: exec sleep 1\n';
  const manifests = [
    laughs + web,
    `${laughs}${web}    env: { A: *j }\n`,
    `${laughs}services:\n  web:\n    <<: { command: *j }\n`,
    'services: &s\n  web:\n    command: exec sleep 1\n    env: *s\n',
    `services:\n  web:\n    command: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
    `services:\n  web:\n    command: "${'x'.repeat(2_000_000)}"\n`,
    `services:\n${Array.from({ length: 3000 }, (_, i) => `  s${i}:\n    command: x\n    after: [s${i + 1}]\n`).join('')}  s3000:\n    command: x\n    after: [s0]\n`,
    `services:\n  web:\n    command: x\n    env: { A: "${'${'.repeat(2000)}" }\n`,
  ].map((t) => ({ kind: 'manifest', t }));
  const templates = [
    `{{ ${'('.repeat(3000)}1${')'.repeat(3000)} }}`,
    `${'{{ if true }}'.repeat(3000)}x${'{{ end }}'.repeat(3000)}`,
    'x'.repeat(2_000_000),
    `{{ "${'a'.repeat(1_000_000)}" | toUpper | len }}`,
    '{{ range loop 100000 }}.{{ end }}',
    '{{ printf "%099999999d" 1 }}',
    '{{ "x" | indent 999999999 }}',
    `{{ ${'.a '.repeat(3000)}}}`,
    `{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}`,
  ].map((t) => ({ kind: 'template', t }));
  return fc.property(fc.constantFrom(...manifests, ...templates), ({ kind, t }) => {
    beat(`${kind}: ${t.slice(0, 200)}`);
    try {
      if (kind === 'manifest') manifest.parseManifestText(t, '/nonexistent/fuzz/tend.yaml', { env: {} });
      else template.renderWithSource(t, data, template.memorySource({ kv: {}, env: {} }), { name: 'fuzz' });
      count(`${kind} ok`);
    } catch (e) {
      const documented = kind === 'manifest' ? manifest.ManifestError : template.TemplateError;
      if (!(e instanceof documented))
        throw new Error(`${kind} ${JSON.stringify(t.slice(0, 80))}: threw ${e?.name}: ${e?.message}`);
      count(`${kind} ${e.name}`);
    }
  });
}

const properties = {
  pathological: pathologicalProperty,
  duration: () => unitProperty(manifest.parseDuration, manifest.formatDuration, DUR_UNITS, 'duration'),
  size: () => unitProperty(manifest.parseSize, manifest.formatSize, SIZE_UNITS, 'size'),
  manifest: manifestProperty,
  template: templateProperty,
  regexp: regexProperty,
};

const details = fc.check(properties[property](), { numRuns, seed, endOnFailure: true });
if (!details.failed) parentPort.postMessage({ t: 'done', runs, outcomes });
else {
  // the counterexample can be megabytes: its start, and the error it caused
  const example = JSON.stringify(details.counterexample ?? []);
  const error =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  const message = `after ${details.numRuns} inputs (seed ${details.seed}, path ${details.counterexamplePath}): ${error.slice(0, 2000)}\n  counterexample: ${example.length > 600 ? `${example.slice(0, 600)}… (${example.length} characters)` : example}`;
  parentPort.postMessage({ t: 'fail', message, runs, outcomes });
}
