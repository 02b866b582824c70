/**
 * consul-template 0.42's catalog functions in the engine: query syntax and errors as its dependency parsers
 * give them, sort orders (nodes by name then address, a node's services by name then ID, peerings by state,
 * partition, name), the Go types, a node the catalog lacks, and the multi-pass model (unknown = missing).
 */
import { describe, expect, it } from 'vitest';
import {
  memorySource,
  parseConsulTemplate,
  renderWithSource,
  type TemplateSource,
} from '../../src/template/index.js';

const CONSUL_NODES = [
  {
    ID: 'b1',
    Node: 'web2',
    Address: '10.0.0.9',
    Datacenter: 'dc1',
    TaggedAddresses: { lan: '10.0.0.9' },
    Meta: {},
  },
  {
    ID: 'a1',
    Node: 'web1',
    Address: '10.0.0.7',
    Datacenter: 'dc1',
    TaggedAddresses: {},
    Meta: { rack: 'r1' },
  },
  { ID: 'a0', Node: 'web1', Address: '10.0.0.3', Datacenter: 'dc1', TaggedAddresses: {}, Meta: {} },
];

function render(text: string, src: TemplateSource) {
  return renderWithSource(parseConsulTemplate('t', text), undefined, src);
}

const src = memorySource({
  env: {},
  services: {
    web: [
      { ID: 'web-b', Node: 'host-b', Address: '10.1.0.2', Port: 80, Tags: ['z', 'a'] },
      { ID: 'web-a', Node: 'host-a', Address: '10.1.0.1', Port: 80 },
    ],
    api: [{ ID: 'api-1', Node: 'host-a', Address: '10.1.0.1', Port: 9000, ServiceMeta: { v: '2' } }],
  },
  localNode: 'host-a',
  catalog: {
    'nodes@dc2': CONSUL_NODES,
    'nodes~_agent': CONSUL_NODES,
    peerings: [
      {
        ID: '2',
        Name: 'b',
        Partition: 'default',
        Meta: {},
        PeeringState: 'PENDING',
        PeerID: '',
        PeerServerName: '',
        PeerServerAddresses: [],
        Remote: { Partition: '', Datacenter: '' },
        StreamStatus: {
          ImportedServices: [],
          ExportedServices: [],
          LastHeartbeat: null,
          LastReceive: null,
          LastSend: null,
        },
      },
      {
        ID: '1',
        Name: 'c',
        Partition: 'default',
        Meta: { env: 'prod' },
        PeeringState: 'ACTIVE',
        PeerID: 'p1',
        PeerServerName: 'server.dc2.peering',
        PeerServerAddresses: ['10.2.0.1:8300'],
        Remote: { Partition: 'default', Datacenter: 'dc2' },
        StreamStatus: {
          ImportedServices: ['db'],
          ExportedServices: ['web'],
          LastHeartbeat: '2023-04-01T10:20:30.123Z',
          LastReceive: null,
          LastSend: '2023-04-01T10:20:30Z',
        },
      },
      {
        ID: '3',
        Name: 'a',
        Partition: 'default',
        Meta: {},
        PeeringState: 'ACTIVE',
        PeerID: '',
        PeerServerName: '',
        PeerServerAddresses: [],
        Remote: { Partition: '', Datacenter: '' },
        StreamStatus: {
          ImportedServices: [],
          ExportedServices: [],
          LastHeartbeat: null,
          LastReceive: null,
          LastSend: null,
        },
      },
    ],
  },
});

describe('nodes', () => {
  it('from instances: the hosts that registered them, sorted by name', () => {
    const r = render('{{ range nodes }}{{ .Node }} {{ .Address }}\n{{ end }}', src);
    expect(r.output).toBe('host-a 10.1.0.1\nhost-b 10.1.0.2\n');
  });
  it('sorts by name then address (consul-template ByNode), and keeps the order with ~near', () => {
    expect(render('{{ range nodes "@dc2" }}{{ .Node }}={{ .Address }} {{ end }}', src).output).toBe(
      'web1=10.0.0.3 web1=10.0.0.7 web2=10.0.0.9 ',
    );
    expect(render('{{ range nodes "~_agent" }}{{ .Node }}={{ .Address }} {{ end }}', src).output).toBe(
      'web2=10.0.0.9 web1=10.0.0.7 web1=10.0.0.3 ',
    );
  });
  it('has the fields and Go type of *dependency.Node; missing map keys read as zero', () => {
    const r = render(
      '{{ with index (nodes "@dc2") 1 }}{{ printf "%T" . }} {{ .ID }} {{ .Datacenter }} {{ .Meta.rack }}[{{ .Meta.nope }}]{{ end }}',
      src,
    );
    expect(r.output).toBe('*dependency.Node a1 dc1 r1[]');
  });
  it('refuses what the nodes parser refuses, with its message', () => {
    expect(() => render('{{ nodes "dc2" }}', src)).toThrow('catalog.nodes: invalid format: "dc2"');
  });
});

describe('node', () => {
  it('the local node without a name, with its services sorted by name then ID', () => {
    const r = render(
      '{{ with node }}{{ .Node.Node }} {{ .Node.Address }}:{{ range .Services }} {{ .Service }}/{{ .ID }}:{{ .Port }}{{ end }}{{ end }}',
      src,
    );
    expect(r.output).toBe('host-a 10.1.0.1: api/api-1:9000 web/web-a:80');
  });
  it('a named node; tags sorted as dependency.ServiceTags', () => {
    const r = render(
      '{{ with node "host-b" }}{{ range .Services }}{{ printf "%T" .Tags }} {{ .Tags }} {{ .Tags.Contains "z" }}{{ end }}{{ end }}',
      src,
    );
    expect(r.output).toBe('dependency.ServiceTags [a z] true');
  });
  it('a node the catalog lacks is an empty *CatalogNode: truthy, nil Node, no services', () => {
    const r = render(
      '{{ with node "ghost" }}found {{ len .Services }}{{ if not .Node }} nil{{ end }}{{ end }}',
      src,
    );
    expect(r.output).toBe('found 0 nil');
  });
  it('takes a datacenter as a second argument and refuses a bad one', () => {
    expect(render('{{ with node "host-b" "@dc1" }}{{ .Node.Node }}{{ end }}', src).output).toBe('host-b');
    expect(() => render('{{ node "a b" }}', src)).toThrow('catalog.node: invalid format: "a b"');
  });
});

describe('datacenters', () => {
  it('sorted; more than one argument is an error with consul-template text', () => {
    expect(render('{{ datacenters }}', src).output).toBe('[dc1]');
    expect(() => render('{{ datacenters true false }}', src)).toThrow(
      'datacenters: wrong number of arguments, expected 0 or 1, but got 2',
    );
  });
});

describe('peerings', () => {
  it('sorted by state, partition, name; times print as Go prints a *time.Time', () => {
    const r = render(
      '{{ range peerings }}{{ .Name }}:{{ .PeeringState }} {{ end }}|{{ with index peerings 1 }}{{ .StreamStatus.LastHeartbeat }} {{ .StreamStatus.LastSend }} {{ .StreamStatus.ImportedServices }} {{ .Remote.Datacenter }}{{ if not .StreamStatus.LastReceive }} none{{ end }}{{ end }}',
      src,
    );
    expect(r.output).toBe(
      'a:ACTIVE c:ACTIVE b:PENDING |2023-04-01 10:20:30.123 +0000 UTC 2023-04-01 10:20:30 +0000 UTC [db] dc2 none',
    );
  });
  it('refuses an unknown query parameter', () => {
    expect(() => render('{{ peerings "?foo=1" }}', src)).toThrow(
      'list.peering: invalid query parameter key "foo"',
    );
  });
});

describe('what needs Consul', () => {
  it.each([
    ['connect "web"', 'connect: needs Consul Connect'],
    ['caRoots', 'caRoots: needs Consul Connect'],
    ['caLeaf "web"', 'caLeaf: needs Consul Connect'],
    ['partitions', 'partitions: needs Consul Enterprise admin partitions'],
    ['exportedServices', 'exportedServices: needs Consul Enterprise admin partitions'],
    ['importedServices "p"', 'importedServices: needs Consul Enterprise admin partitions'],
  ])('%s over instances only fails naming what it needs', (call, msg) => {
    expect(() => render(`{{ ${call} }}`, src)).toThrow(msg);
  });
  it('caLeaf and connect with no name are nil/empty without asking', () => {
    expect(render('{{ caLeaf "" }}|{{ connect "" }}', src).output).toBe('<no value>|[]');
  });
});

describe('multi-pass', () => {
  it('an answer not known yet is missing and renders empty until known', () => {
    const base = memorySource({ env: {} });
    const pending: TemplateSource = { ...base, catalog: () => undefined };
    const r = renderWithSource(
      parseConsulTemplate('t', '{{ range nodes }}x{{ end }}{{ with node "a" }}y{{ end }}{{ len caRoots }}'),
      undefined,
      pending,
    );
    expect(r.output).toBe('0');
    expect(r.missing).toEqual(['catalog:caRoots', 'catalog:node:a', 'catalog:nodes']);
  });
});
