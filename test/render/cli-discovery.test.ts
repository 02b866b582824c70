/**
 * `tend template` and `tend render` read the configured registry (here the file registry, `kv/.services/`), so
 * a discovery template can be tried without `tend up`: `service`, `services`, `nodes`, `node`; what needs Consul
 * fails saying so. The built CLI, as real processes.
 */
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend } from '../helpers/cli.js';
import { cleanup, project, read } from './harness.js';

afterEach(cleanup);

const doc = (o: Record<string, unknown>) =>
  JSON.stringify({ Tags: [], Meta: {}, Status: 'passing', TTL: '1h', ...o });

const registry = {
  'kv/.services/web/web-b-80.json': doc({
    ID: 'web-b-80',
    Name: 'web',
    Address: '10.0.0.2',
    Port: 80,
    Node: 'b',
    Tags: ['blue'],
  }),
  'kv/.services/web/web-a-80.json': doc({
    ID: 'web-a-80',
    Name: 'web',
    Address: '10.0.0.1',
    Port: 80,
    Node: 'a',
  }),
  'kv/.services/api/api-a-9000.json': doc({
    ID: 'api-a-9000',
    Name: 'api',
    Address: '10.0.0.1',
    Port: 9000,
    Node: 'a',
    Status: 'critical',
  }),
  [`kv/.services/db/db-${hostname()}-5432.json`]: doc({
    ID: `db-${hostname()}-5432`,
    Name: 'db',
    Address: '10.0.0.5',
    Port: 5432,
    Node: hostname(),
  }),
};

describe('tend template with a file registry', () => {
  it('renders service, services, nodes and node from kv/.services', () => {
    const dir = project({
      ...registry,
      'kv/app/name': 'shop',
      't.tmpl': [
        '{{ key "app/name" }}',
        '{{ range service "web" }}{{ .Node }}={{ .Address }}:{{ .Port }} {{ end }}',
        '{{ range service "api|any" }}{{ .ID }} {{ .Status }}{{ end }}',
        '{{ range services }}{{ .Name }}{{ .Tags }} {{ end }}',
        '{{ range nodes }}{{ .Node }}@{{ .Address }} {{ end }}',
        '{{ with node "a" }}{{ range .Services }}{{ .Service }}:{{ .Port }} {{ end }}{{ end }}',
        '{{ with node }}{{ .Node.Node }}{{ end }}',
        '{{ datacenters }}',
        '',
      ].join('\n'),
    });
    const r = runTend(['template', 't.tmpl'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'shop',
        'a=10.0.0.1:80 b=10.0.0.2:80 ',
        'api-a-9000 critical',
        'api[] db[] web[blue] ',
        // sorted by node name (this host's name included: it registered db)
        `${['a@10.0.0.1', 'b@10.0.0.2', `${hostname()}@10.0.0.5`].sort().join(' ')} `,
        'api:9000 web:80 ',
        hostname(),
        '[]',
        '',
      ].join('\n'),
    );
  });

  it('fails naming the backend for what needs Consul', () => {
    const dir = project({ ...registry, 't.tmpl': '{{ range connect "web" }}{{ .Address }}{{ end }}' });
    const r = runTend(['template', 't.tmpl'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('connect: needs Consul Connect (service mesh), which the file registry');
    expect(r.stdout).toBe('');
  });

  it('an empty registry renders no instances rather than waiting', () => {
    const dir = project({ 'kv/x': '1', 't.tmpl': '[{{ range service "web" }}x{{ end }}][{{ len nodes }}]' });
    const r = runTend(['template', 't.tmpl'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('[][0]');
  });
});

describe('tend render with a file registry', () => {
  it('renders a service template of the manifest from the registry', () => {
    const dir = project({
      ...registry,
      'tend.yaml': `
kv: file:./kv
services:
  proxy:
    command: exec sleep 60
    templates:
      - { source: upstreams.tmpl, destination: etc/upstreams.conf }
`,
      'upstreams.tmpl': '{{ range service "web" }}server {{ .Address }}:{{ .Port }};\n{{ end }}',
    });
    const r = runTend(['render'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(read(dir, 'etc/upstreams.conf')).toBe('server 10.0.0.1:80;\nserver 10.0.0.2:80;\n');
  });
});
