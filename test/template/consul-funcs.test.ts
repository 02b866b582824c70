/**
 * consul-template's functions, checked against the outputs its documentation gives, and the
 * dependency tracking of the multi-pass render model.
 */
import { describe, expect, it } from 'vitest';
import {
  memorySource,
  parseConsulTemplate,
  renderWithSource,
  TemplateError,
  type TemplateSource,
} from '../../src/template/index.js';

const src = memorySource({
  kv: {
    'service/redis/maxconns': '15',
    'service/redis/minconns': '5',
    'service/redis/nested/config/value': 'value',
    'service/redis/folder/': '',
    'config/maxconns': '5',
    'config/minconns': '2',
    'config/admin/port': '1234',
    'groups/elasticsearch/a': '1',
    'groups/elasticsearch/b': '2',
    'groups/redis/a/b': '3',
    'user/info': '{"name":"alice","admin":true,"age":30,"langs":["go","ts"]}',
    'app/enabled': 'true',
    'empty/': '',
  },
  services: {
    web: [
      {
        Node: 'node1',
        Address: '10.0.0.1',
        Port: 8080,
        Tags: ['production', 'v1'],
        ServiceMeta: { version: '1' },
      },
      { Node: 'node2', Address: '10.0.0.2', Port: 8080, Tags: ['staging'] },
      { Node: 'node3', Address: '10.0.0.3', Port: 8081, Tags: ['production'], Status: 'critical' },
      { Node: 'node4', Address: '10.0.0.4', Port: 8082, Tags: ['production'], Status: 'warning' },
    ],
    db: [{ Node: 'node9', Address: '10.0.1.9', Port: 5432, Tags: ['primary'] }],
  },
  files: { '/etc/motd': 'hello from a file\n' },
  env: { HOME: '/home/app', EMPTY: '' },
});

function r(text: string, data: unknown = {}, source: TemplateSource = src) {
  return renderWithSource(text, data, source, { now: () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5)) });
}

function out(text: string, data: unknown = {}): string {
  const res = r(text, data);
  expect(res.missing).toEqual([]);
  return res.output;
}

describe('KV functions', () => {
  it('key, keyOrDefault, keyExists', () => {
    expect(out('{{ key "service/redis/maxconns" }}')).toBe('15');
    expect(out('{{ keyOrDefault "service/redis/nope" "5" }}')).toBe('5');
    expect(out('{{ keyOrDefault "service/redis/maxconns" "5" }}')).toBe('15');
    expect(out('{{ keyExists "service/redis/maxconns" }} {{ keyExists "nope" }}')).toBe('true false');
    expect(out('{{ if keyExists "app/enabled" }}{{ key "app/enabled" | parseBool }}{{ end }}')).toBe('true');
  });

  it('ls lists top-level keys only, tree recurses and skips folders', () => {
    expect(out('{{ range ls "service/redis" }}{{ .Key }}:{{ .Value }}\n{{ end }}')).toBe(
      'maxconns:15\nminconns:5\n',
    );
    expect(out('{{ range tree "service/redis" }}{{ .Key }}={{ .Value }};{{ end }}')).toBe(
      'maxconns=15;minconns=5;nested/config/value=value;',
    );
    expect(out('{{ range tree "service/redis/" }}{{ .Path }} {{ end }}')).toBe(
      'service/redis/maxconns service/redis/minconns service/redis/nested/config/value ',
    );
  });

  it('byKey groups a tree by its top-level key', () => {
    expect(
      out(
        '{{ range $key, $pairs := tree "groups" | byKey }}{{ $key }}:{{ range $pair := $pairs }} {{ .Key }}={{ .Value }}{{ end }}\n{{ end }}',
      ),
    ).toBe('elasticsearch: a=1 b=2\nredis: a/b=3\n');
  });

  it('explode, toJSON, toJSONPretty, toYAML, toTOML (documented outputs)', () => {
    expect(out('{{ tree "config" | explode | toJSON }}')).toBe(
      '{"admin":{"port":"1234"},"maxconns":"5","minconns":"2"}',
    );
    expect(out('{{ tree "config" | explode | toJSONPretty }}')).toBe(
      '{\n  "admin": {\n    "port": "1234"\n  },\n  "maxconns": "5",\n  "minconns": "2"\n}',
    );
    expect(out('{{ tree "config" | explode | toYAML }}')).toBe(
      'admin:\n  port: "1234"\nmaxconns: "5"\nminconns: "2"',
    );
    expect(out('{{ tree "config" | explode | toTOML }}')).toBe(
      'maxconns = "5"\nminconns = "2"\n\n[admin]\n  port = "1234"',
    );
  });

  it('parseJSON gives float64 numbers like encoding/json', () => {
    expect(
      out(
        '{{ with $d := key "user/info" | parseJSON }}{{ $d.name }} {{ $d.age }} {{ printf "%T" $d.age }} {{ index $d.langs 1 }}{{ end }}',
      ),
    ).toBe('alice 30 float64 ts');
    expect(out('{{ (parseJSON "{\\"n\\": 1000000}").n }}')).toBe('1e+06');
    expect(out('{{ parseJSON "" }}')).toBe('map[]');
  });

  it('parseYAML', () => {
    expect(
      out(
        '{{ with parseYAML "a: 1\\nb: [x, y]\\nc: {d: true}" }}{{ .a }} {{ index .b 1 }} {{ .c.d }}{{ end }}',
      ),
    ).toBe('1 y true');
  });
});

describe('services', () => {
  it('service lists passing instances by default', () => {
    expect(out('{{ range service "web" }}server {{ .Name }} {{ .Address }}:{{ .Port }}\n{{ end }}')).toBe(
      'server web 10.0.0.1:8080\nserver web 10.0.0.2:8080\n',
    );
  });
  it('tag.name, @dc and status filters', () => {
    expect(out('{{ range service "production.web" }}{{ .Address }} {{ end }}')).toBe('10.0.0.1 ');
    expect(out('{{ range service "web|passing,warning" }}{{ .Address }} {{ end }}')).toBe(
      '10.0.0.1 10.0.0.2 10.0.0.4 ',
    );
    expect(out('{{ range service "web" "any" }}{{ .Status }} {{ end }}')).toBe(
      'passing passing critical warning ',
    );
    expect(out('{{ range service "web@dc1" }}{{ .NodeDatacenter }} {{ end }}')).toBe('dc1 dc1 ');
    expect(out('{{ range service "web@dc2" }}x{{ else }}none{{ end }}')).toBe('none');
  });
  it('instance fields, Tags.Contains, contains, byTag', () => {
    expect(
      out('{{ range service "web" }}{{ if .Tags | contains "production" }}{{ .Node }}{{ end }}{{ end }}'),
    ).toBe('node1');
    expect(out('{{ range service "web" }}{{ .Tags.Contains "staging" }} {{ end }}')).toBe('false true ');
    expect(
      out('{{ range service "web" }}{{ .ID }}/{{ .ServiceMeta.version }}/{{ join "," .Tags }} {{ end }}'),
    ).toBe('web/1/production,v1 web-1//staging ');
    expect(
      out(
        '{{ range $tag, $services := service "web|any" | byTag }}{{ $tag }}:{{ range $services }} {{ .Address }}{{ end }}\n{{ end }}',
      ),
    ).toBe('production: 10.0.0.1 10.0.0.3 10.0.0.4\nstaging: 10.0.0.2\nv1: 10.0.0.1\n');
  });
  it('services lists the catalog', () => {
    expect(out('{{ range services }}{{ .Name }}: {{ .Tags | join "," }}\n{{ end }}')).toBe(
      'db: primary\nweb: production,staging,v1\n',
    );
  });
  it('rejects a bad service query', () => {
    expect(() => r('{{ service "web|bogus" }}')).toThrow(/invalid filter/);
  });
});

describe('strings, lists, numbers', () => {
  it('documented examples', () => {
    expect(out('{{ "hello\\nworld" | indent 4 }}')).toBe('    hello\n    world');
    expect(out('{{ range $i := loop 5 }}{{ $i }} {{ end }}')).toBe('0 1 2 3 4 ');
    expect(out('{{ range $i := loop 5 8 }}{{ $i }}{{ end }}')).toBe('567');
    expect(out('{{ "a:b:c" | replaceAll ":" "_" }}')).toBe('a_b_c');
    expect(out('{{ "foo-bar.baz" | regexReplaceAll "[^a-zA-Z0-9]" "" }}')).toBe('foobarbaz');
    expect(out('{{ "foo.bar" | regexReplaceAll "(\\\\w+)\\\\.(\\\\w+)" "$2.$1" }}')).toBe('bar.foo');
    expect(out('{{ "foo123" | regexMatch "^foo[0-9]+$" }}')).toBe('true');
    expect(out('{{ range ("a,b,c" | split ",") }}[{{ . }}]{{ end }}')).toBe('[a][b][c]');
    expect(out('{{ "a,b" | split "," | join "; " }}')).toBe('a; b');
    expect(
      out(
        '{{ "  x  " | trimSpace }}|{{ "xxhixx" | trim "x" }}|{{ "pre-x" | trimPrefix "pre-" }}|{{ "x.conf" | trimSuffix ".conf" }}',
      ),
    ).toBe('x|hi|x|x');
    expect(out('{{ "hello world" | toTitle }} {{ "MiXeD" | toLower }} {{ "up" | toUpper }}')).toBe(
      'Hello World mixed UP',
    );
    expect(out('{{ "hello" | base64Encode }} {{ "aGVsbG8=" | base64Decode }}')).toBe('aGVsbG8= hello');
    expect(out('{{ "bladibla" | sha256Hex }}')).toBe(
      '54cf4c66bcabb5c20e25331c01dd600b73369e97a947861bd8d3a0e0b8b3d70b',
    );
    expect(out('{{ "hello" | md5sum }}')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(
      out(
        '{{ "true" | parseBool }} {{ "42" | parseInt }} {{ "1.5" | parseFloat }} {{ "2" | parseFloat | printf "%T" }}',
      ),
    ).toBe('true 42 1.5 float64');
  });
  it('contains / in / containsAll / containsAny / containsNone', () => {
    expect(
      out('{{ in .l "b" }} {{ .l | contains "z" }} {{ "hello" | contains "ell" }}', { l: ['a', 'b'] }),
    ).toBe('true false true');
    const data = { want: ['a', 'b'], have: ['a', 'b', 'c'], none: ['x'] };
    expect(
      out('{{ containsAll .want .have }} {{ containsAny .none .have }} {{ containsNone .none .have }}', data),
    ).toBe('true false true');
  });
  it('math follows consul-template argument order (the piped value comes last)', () => {
    expect(
      out('{{ add 1 2 }} {{ subtract 2 5 }} {{ multiply 2 5 }} {{ divide 2 10 }} {{ modulo 2 5 }}'),
    ).toBe('3 3 10 5 1');
    expect(out('{{ 10 | subtract 3 }} {{ minimum 2 5 }} {{ maximum 2 5 }} {{ add 1.5 2 }}')).toBe(
      '7 2 5 3.5',
    );
    expect(() => r('{{ divide 0 10 }}')).toThrow(
      'error calling divide: runtime error: integer divide by zero',
    );
    expect(() => r('{{ add "a" 1 }}')).toThrow('add: unknown type for "a" (string)');
  });
  it('mergeMap keeps the destination, mergeMapWithOverride lets the source win', () => {
    const d = { a: { x: '1', y: '2' }, b: { x: '9', z: '3' } };
    expect(out('{{ mergeMap .a .b | toJSON }}', d)).toBe('{"x":"1","y":"2","z":"3"}');
    expect(out('{{ mergeMapWithOverride .a .b | toJSON }}', d)).toBe('{"x":"9","y":"2","z":"3"}');
  });
  it('timestamp, env, file, scratch, executeTemplate', () => {
    expect(out('{{ timestamp }} {{ timestamp "2006-01-02 15:04" }} {{ timestamp "unix" }}')).toBe(
      '2024-01-02T03:04:05Z 2024-01-02 03:04 1704164645',
    );
    expect(
      out('{{ env "HOME" }}|{{ env "NOPE" }}|{{ envOrDefault "NOPE" "d" }}|{{ envOrDefault "EMPTY" "d" }}'),
    ).toBe('/home/app||d|');
    expect(() => r('{{ mustEnv "EMPTY" }}')).toThrow('required environment variable EMPTY is empty');
    expect(out('{{ file "/etc/motd" }}')).toBe('hello from a file\n');
    expect(
      out(
        '{{ scratch.Set "foo" "bar" }}{{ scratch.Get "foo" }} {{ scratch.Key "foo" }} {{ scratch.Key "x" }}',
      ),
    ).toBe('bar true false');
    expect(out('{{ scratch.SetX "a" 1 }}{{ scratch.SetX "a" 2 }}{{ scratch.Get "a" }}')).toBe('1');
    expect(
      out('{{ scratch.MapSet "m" "b" 2 }}{{ scratch.MapSet "m" "a" 1 }}{{ scratch.MapValues "m" }}'),
    ).toBe('[1 2]');
    expect(out('{{ define "custom" }}<{{ . }}>{{ end }}{{ executeTemplate "custom" 42 }}')).toBe('<42>');
    expect(() => r('{{ define "c" }}{{ .x.y }}{{ end }}{{ executeTemplate "c" 1 }}')).toThrow(
      'template: template:1:38: executing "template" at <executeTemplate "c" 1>: error calling executeTemplate: template: template:1:21: executing "c" at <.x.y>: can\'t evaluate field x in type int',
    );
  });
  it('plugin and writeToFile are disabled unless enabled', () => {
    expect(() => r('{{ plugin "echo" "hi" }}')).toThrow(
      'error calling plugin: plugin is disabled: it reaches outside the template, so a template must allow it with `functions: { allow: [plugin] }`',
    );
    expect(() => r('{{ "x" | writeToFile "/tmp/x" "" "" "0644" }}')).toThrow(
      'error calling writeToFile: writeToFile is disabled',
    );
    const written: string[] = [];
    const res = renderWithSource(
      '{{ plugin "echo" "a" }}{{ "x" | writeToFile "/tmp/x" "" "" "0644" }}',
      {},
      src,
      {
        allowPlugin: true,
        runPlugin: (name, args) => `${name}:${args.join(',')}\n`,
        allowWriteToFile: true,
        writeFile: (p, c, m) => written.push(`${p}:${c}:${m.toString(8)}`),
      },
    );
    expect(res.output).toBe('echo:a');
    expect(written).toEqual(['/tmp/x:x:644']);
  });
  it('argument errors read like consul-template under Go', () => {
    expect(() => r('{{ key }}')).toThrow('wrong number of args for key: want 1 got 0');
    expect(() => r('{{ key 1 }}')).toThrow('expected string; found 1');
    expect(() => r('{{ join "," .l }}', { l: ['a'] })).toThrow(
      'wrong type for value; expected []string; got []interface {}',
    );
    expect(() => r('{{ nosuch }}')).toThrow('template: template:1: function "nosuch" not defined');
  });
});

describe('dependency tracking (multi-pass)', () => {
  it('key on an absent key blocks; keyOrDefault does not, but is a dependency', () => {
    const res = r('{{ key "a/missing" }}{{ keyOrDefault "b/missing" "d" }}{{ key "config/maxconns" }}');
    expect(res.output).toBe('d5');
    expect(res.missing).toEqual(['key:a/missing']);
    expect(res.deps.keys).toEqual(['a/missing', 'b/missing', 'config/maxconns']);
  });
  it('safeLs / safeTree block on an empty prefix, ls / tree do not', () => {
    const res = r('{{ ls "empty" }}{{ tree "nothing" }}{{ safeLs "empty" }}{{ safeTree "nothing2" }}');
    expect(res.missing).toEqual(['prefix:empty', 'prefix:nothing2']);
    expect(res.deps.prefixes).toEqual(['empty', 'nothing', 'nothing2']);
  });
  it('renders again once a snapshot has what was missing', () => {
    const kv = new Map<string, string>();
    const known = new Set<string>();
    const lazy: TemplateSource = {
      key: (p) => (known.has(p) ? (kv.get(p) ?? null) : undefined),
      list: (p) =>
        known.has(`prefix:${p}`)
          ? [...kv].filter(([k]) => k.startsWith(p)).map(([key, value]) => ({ key, value }))
          : undefined,
      services: () => undefined,
      service: (name) => (known.has(`service:${name}`) ? [] : undefined),
      file: () => undefined,
      env: () => undefined,
    };
    const tpl = parseConsulTemplate(
      'app.conf',
      'port={{ keyOrDefault "app/port" "80" }}\n{{ range tree "app/hosts" }}host={{ .Value }}\n{{ end }}{{ range service "db" }}db{{ end }}',
    );
    const first = renderWithSource(tpl, {}, lazy);
    expect(first.missing).toEqual(['key:app/port', 'prefix:app/hosts', 'service:db']);
    kv.set('app/port', '8080');
    kv.set('app/hosts/a', 'h1');
    known.add('app/port');
    known.add('prefix:app/hosts');
    known.add('service:db');
    const second = renderWithSource(tpl, {}, lazy);
    expect(second.missing).toEqual([]);
    expect(second.output).toBe('port=8080\nhost=h1\n');
    expect(second.deps).toMatchObject({ keys: ['app/port'], prefixes: ['app/hosts'], services: ['db'] });
  });
  it('an execution error while data is missing is reported, not thrown', () => {
    const lazy: TemplateSource = { ...src, key: () => undefined };
    const res = renderWithSource('{{ index (key "x" | split ",") 1 }}', {}, lazy);
    expect(res.missing).toEqual(['key:x']);
    expect(res.error).toBeInstanceOf(TemplateError);
  });
  it('tracks files, env and catalogs', () => {
    const res = r('{{ file "/etc/motd" }}{{ file "/nope" }}{{ env "HOME" }}{{ services }}');
    expect(res.deps.files).toEqual(['/etc/motd', '/nope']);
    expect(res.deps.env).toEqual(['HOME']);
    expect(res.deps.catalogs).toEqual(['']);
    expect(res.missing).toEqual(['file:/nope']);
  });
});
