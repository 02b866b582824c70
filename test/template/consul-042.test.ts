/**
 * consul-template 0.42 behaviours tend follows: service queries as its dependency parser reads them, missing
 * keys as `missingkey=zero` (or an error with err_missing_key), byMeta and byPort, the per-template function
 * policy, the Vault and Nomad names, and the names from before 0.18.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverySource } from '../../src/render/index.js';
import { parseServiceQuery } from '../../src/template/consul.js';
import {
  memorySource,
  oldNamesUsed,
  parseConsulTemplate,
  renderWithSource,
  type TemplateSource,
  templateFunctionNames,
} from '../../src/template/index.js';

const src = memorySource({
  kv: { 'app/port': '8080', 'app/empty': '' },
  services: {
    redis: [
      { ID: 'redis-dev-1', Node: 'n1', Port: 6379, ServiceMeta: { environment: 'dev', shard_number: '1' } },
      {
        ID: 'redis-prod-1',
        Node: 'n2',
        Port: 6379,
        ServiceMeta: { environment: 'prod', shard_number: '1' },
        Status: 'warning',
      },
      {
        ID: 'redis-prod-2',
        Node: 'n3',
        Port: 6380,
        ServiceMeta: { environment: 'prod', shard_number: '2' },
        Status: 'critical',
      },
    ],
    cache: [
      { ID: 'cache-default', Node: 'n4', Port: 11211 },
      { ID: 'cache-a', Node: 'n5', Port: 11211, Namespace: 'team-a' },
    ],
  },
  env: {},
});

const r = (text: string, source: TemplateSource = src, opts = {}) => renderWithSource(text, {}, source, opts);
const out = (text: string, opts = {}) => r(text, src, opts).output;

describe('service queries as consul-template 0.42 parses them', () => {
  it('accepts any alongside other statuses (it means every status)', () => {
    expect(out('{{ range service "redis" "passing,any" }}{{ .ID }} {{ end }}')).toBe(
      'redis-dev-1 redis-prod-1 redis-prod-2 ',
    );
    expect(out('{{ range service "redis|warning,any" }}{{ .Status }} {{ end }}')).toBe(
      'passing warning critical ',
    );
  });
  it('ignores empty elements of a status list', () => {
    expect(out('{{ range service "redis" "passing,,warning" }}{{ .ID }} {{ end }}')).toBe(
      'redis-dev-1 redis-prod-1 ',
    );
    // Only empty elements: no status is accepted, as in consul-template.
    expect(out('{{ range service "redis|," }}{{ .ID }}{{ else }}none{{ end }}')).toBe('none');
  });
  it('parses ?ns=, ?peer=, ?partition= and ?sg= out of the name and hands them to the source', () => {
    expect(parseServiceQuery('db.web?ns=x&peer=y&partition=z@dc2~_agent|passing,any')).toEqual({
      name: 'web',
      tag: 'db',
      dc: 'dc2',
      near: '_agent',
      ns: 'x',
      peer: 'y',
      partition: 'z',
      statuses: ['any', 'passing'],
    });
    expect(parseServiceQuery('web?sg=group').samenessGroup).toBe('group');
    const seen: unknown[] = [];
    const spy: TemplateSource = {
      ...src,
      service: (name, opts) => {
        seen.push({ name, opts });
        return [];
      },
    };
    const res = r('{{ service "web?ns=x&peer=y&partition=z" }}', spy);
    expect(res.missing).toEqual([]);
    expect(seen).toEqual([{ name: 'web', opts: { ns: 'x', peer: 'y', partition: 'z' } }]);
    // A source with namespaces honours ?ns= (the memory source filters on Namespace).
    expect(out('{{ range service "cache?ns=team-a" }}{{ .ID }}{{ end }}')).toBe('cache-a');
  });
  it('refuses what consul-template refuses, with its messages', () => {
    expect(() => r('{{ service "web?color=red" }}')).toThrow(
      'error calling service: health.service: invalid query parameter key "color" in query "color=red": supported keys: ns,peer,partition',
    );
    expect(() => r('{{ service "web|bogus" }}')).toThrow(
      'error calling service: health.service: invalid filter: "bogus" in "web|bogus"',
    );
    expect(() => r('{{ service "web" "" }}')).toThrow('health.service: invalid format: "web|"');
    expect(() => r('{{ service "my web" }}')).toThrow('health.service: invalid format: "my web"');
    expect(() => r('{{ services "?color=red" }}')).toThrow('catalog.services: invalid query parameter key');
  });
  it("tend's registries refuse a namespace, partition, peer or sameness group instead of never completing", () => {
    const discovery = {
      watch: () => ({ close() {} }),
      watchServices: () => ({ close() {} }),
    } as unknown as Parameters<typeof discoverySource>[0];
    const ds = discoverySource(discovery, () => {});
    const source: TemplateSource = { ...src, service: ds.service, services: ds.services };
    expect(() => r('{{ service "web?ns=x&partition=z" }}', source)).toThrow(
      `error calling service: service "web": tend's service registries (file, etcd, Consul's default namespace) cannot honour ?ns=, ?partition=; remove it from the query (docs/templates.md)`,
    );
    expect(() => r('{{ services "?ns=x" }}', source)).toThrow('cannot honour ?ns=');
    // Without them the render waits for the registry's first answer, as before.
    expect(r('{{ service "web" }}', source).missing).toEqual(['service:web']);
    ds.close();
  });
});

describe('missing keys: missingkey=zero, or an error with err_missing_key', () => {
  it('a missing key of a map[string]string is "", of a map[string]interface{} still <no value>', () => {
    expect(out('[{{ (splitToMap "," ":" "a:x").b }}]')).toBe('[]');
    expect(out('[{{ range service "redis" }}{{ .ServiceMeta.nope }}{{ .NodeMeta.rack }}{{ end }}]')).toBe(
      '[]',
    );
    expect(out('[{{ (parseJSON "{}").b }}]')).toBe('[<no value>]');
  });
  it('err_missing_key turns a missing key into an error naming it', () => {
    const tpl = parseConsulTemplate('web.conf', '{{ (splitToMap "," ":" "a:x").b }}', {
      errMissingKey: true,
    });
    expect(() => renderWithSource(tpl, {}, src)).toThrow(
      // Go reports a chain's last argument as the place (checked against Go 1.19).
      'template: web.conf:1:23: executing "web.conf" at <"a:x">: map has no entry for key "b"',
    );
    expect(
      renderWithSource('{{ (splitToMap "," ":" "a:x").a }}', {}, src, { errMissingKey: true }).output,
    ).toBe('x');
    expect(() =>
      renderWithSource('{{ $m := splitToMap "," ":" "a:x" }}{{ $m.b }}', {}, src, { errMissingKey: true }),
    ).toThrow('template: template:1:41: executing "template" at <$m.b>: map has no entry for key "b"');
  });
});

describe('byMeta and byPort', () => {
  it("byMeta groups as consul-template's documentation shows", () => {
    expect(
      out(
        '{{ range $k, $v := service "redis|any" | byMeta "environment,shard_number|int" }}{{ $k }}:{{ range $v }} {{ .ID }}{{ end }}\n{{ end }}',
      ),
    ).toBe('dev_00001: redis-dev-1\nprod_00001: redis-prod-1\nprod_00002: redis-prod-2\n');
  });
  it('byMeta: missing values, characters outside [a-zA-Z0-9_-], negative and bad numbers', () => {
    const s = memorySource({
      services: {
        x: [
          { ID: 'a', Node: 'a', ServiceMeta: { env: 'pre prod', n: '-7' } },
          { ID: 'b', Node: 'b', ServiceMeta: { n: '' } },
          { ID: 'c', Node: 'c', ServiceMeta: { env: 'é', n: '123456' } },
        ],
      },
      env: {},
    });
    expect(
      renderWithSource(
        '{{ range $k, $v := service "x" | byMeta "env,n|int" }}{{ $k }}={{ len $v }} {{ end }}',
        {},
        s,
      ).output,
    ).toBe('__123456=1 _no_env__00000=1 pre_prod_-0007=1 ');
    const bad = memorySource({ services: { x: [{ ServiceMeta: { n: 'abc' } }] }, env: {} });
    expect(() => renderWithSource('{{ service "x" | byMeta "n|int" }}', {}, bad)).toThrow(
      'error calling byMeta: cannot parse abc as number : strconv.Atoi: parsing "abc": invalid syntax',
    );
  });
  it('byPort groups by port into a map[int][]interface{}', () => {
    expect(
      out(
        '{{ range $port, $s := service "redis|any" | byPort }}{{ $port }}:{{ range $s }} {{ .ID }}{{ end }}\n{{ end }}',
      ),
    ).toBe('6379: redis-dev-1 redis-prod-1\n6380: redis-prod-2\n');
    expect(
      out('{{ $m := service "redis|any" | byPort }}{{ printf "%T" $m }} {{ len (index $m 6379) }}'),
    ).toBe('map[int][]interface {} 2');
    expect(() => r('{{ services | byPort }}')).toThrow(
      'error calling byPort: byPort: wrong argument type []*dependency.CatalogSnippet',
    );
  });
});

describe('functions: { allow, deny } per template', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tend-tpl-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('plugin and writeToFile stay off by default, and allow turns them on (really running and writing)', () => {
    expect(() => r('{{ plugin "echo" "hi" }}')).toThrow('plugin is disabled');
    const file = join(dir, 'sub', 'out.txt');
    const tpl = parseConsulTemplate(
      't',
      `{{ plugin "echo" " a " "" "b" }}{{ "x" | writeToFile "${file}" "" "" "0600" "newline" }}`,
      {
        functions: { allow: ['plugin', 'writeToFile'] },
      },
    );
    expect(renderWithSource(tpl, {}, src).output).toBe('a b');
    expect(readFileSync(file, 'utf8')).toBe('x\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const append = parseConsulTemplate('t', `{{ "y" | writeToFile "${file}" "" "" "0644" "append" }}`, {
      functions: { allow: ['writeToFile'] },
    });
    renderWithSource(append, {}, src);
    expect(readFileSync(file, 'utf8')).toBe('x\ny');
  });
  it('a plugin that fails reports its status and output', () => {
    const tpl = parseConsulTemplate('t', '{{ plugin "sh" "-c" "echo out; echo err >&2; exit 3" }}', {
      functions: { allow: ['plugin'] },
    });
    expect(() => renderWithSource(tpl, {}, src)).toThrow(
      'error calling plugin: exec "sh": exit status 3\n\nstdout:\n\nout\n\n\nstderr:\n\nerr\n',
    );
  });
  it('deny removes any function, naming the option', () => {
    const tpl = parseConsulTemplate('t', '{{ env "HOME" }}', { functions: { deny: ['env'] } });
    expect(() => renderWithSource(tpl, {}, src)).toThrow(
      "error calling env: env is denied by this template's functions.deny in the manifest",
    );
    const both = parseConsulTemplate('t', '{{ plugin "echo" }}', {
      functions: { allow: ['plugin'], deny: ['plugin'] },
    });
    expect(() => renderWithSource(both, {}, src)).toThrow('plugin is denied');
  });
});

describe('Vault and Nomad', () => {
  it('their functions parse, and calling one says why it cannot run', () => {
    for (const [name, what] of [
      ['secret', 'Vault'],
      ['secrets', 'Vault'],
      ['pkiCert', 'Vault'],
      ['nomadService', 'Nomad'],
      ['nomadServices', 'Nomad'],
      ['nomadVar', 'Nomad'],
      ['nomadVarExists', 'Nomad'],
      ['nomadVarList', 'Nomad'],
      ['nomadVarListSafe', 'Nomad'],
    ]) {
      expect(() => r(`{{ ${name} "x" }}`)).toThrow(
        `error calling ${name}: ${name} needs ${what}, which tend does not support (docs/templates.md)`,
      );
    }
    // In a branch never taken they do nothing, as in a template shared with a Vault setup.
    expect(out('{{ if false }}{{ with secret "a" }}{{ .Data }}{{ end }}{{ end }}ok')).toBe('ok');
  });
});

describe('names from before consul-template 0.18', () => {
  it('key_or_default and key_exists render the same bytes as keyOrDefault and keyExists', () => {
    const old =
      '{{ key_or_default "app/port" "80" }} {{ key_or_default "app/nope" "80" }} {{ key_exists "app/port" }} {{ key_exists "nope" }}';
    const current =
      '{{ keyOrDefault "app/port" "80" }} {{ keyOrDefault "app/nope" "80" }} {{ keyExists "app/port" }} {{ keyExists "nope" }}';
    expect(out(old)).toBe('8080 80 true false');
    expect(out(old)).toBe(out(current));
    const empty = memorySource({ env: {} });
    expect(renderWithSource('{{ key_exists "x" }}', {}, { ...empty, key: () => undefined }).missing).toEqual([
      'key:x',
    ]);
  });
  it('oldNamesUsed lists the old names a template calls, not those in text, comments, strings or fields', () => {
    expect(
      oldNamesUsed(
        'key_exists here {{/* key_or_default */}}{{ "key_exists" }}{{ .key_exists }}{{ key_or_default "a" "b" }}',
      ),
    ).toEqual([{ old: 'key_or_default', current: 'keyOrDefault' }]);
    expect(oldNamesUsed('<% key_exists "a" %>', '<%', '%>')).toEqual([
      { old: 'key_exists', current: 'keyExists' },
    ]);
    expect(oldNamesUsed('{{ unterminated')).toEqual([]);
  });
  it('the function names are derived from the function map', () => {
    const names = templateFunctionNames();
    for (const n of [
      'key',
      'byMeta',
      'byPort',
      'key_or_default',
      'secret',
      'nomadVarListSafe',
      'writeToFile',
    ])
      expect(names).toContain(n);
  });
});
