/**
 * consul-template's `sockaddr` against go-sockaddr itself: test/fixtures/template/sockaddr-cases.json
 * was produced by tools/gotemplate (go-sockaddr's template package on fixed interface lists) and
 * sockaddr-real.json by go-sockaddr on the generating machine's own interfaces (see its README).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memorySource, renderWithSource } from '../../src/template/index.js';
import { newIPAddr } from '../../src/template/sockaddr/addr.js';
import {
  defaultRouteInterface,
  fixedInterfaces,
  type IfAddr,
  type InterfaceSource,
  linuxInterfaces,
  parseSockaddr,
  sockaddrFunc,
} from '../../src/template/sockaddr/index.js';

interface SaIface {
  address: string;
  index: number;
  mtu: number;
  name: string;
  hw: string;
  flags: number;
}
interface SaCase {
  name: string;
  host: string;
  args: string[] | null;
  output?: string;
  error?: string;
}

const fixture = JSON.parse(readFixture('sockaddr-cases.json')) as {
  go: string;
  default_interface: string;
  hosts: Record<string, SaIface[] | null>;
  cases: SaCase[];
};
const real = JSON.parse(readFixture('sockaddr-real.json')) as {
  interfaces: string;
  default_interface: string;
  cases: SaCase[];
};

function readFixture(name: string): string {
  return readFileSync(new URL(`../fixtures/template/${name}`, import.meta.url), 'utf8');
}

function host(name: string): InterfaceSource {
  const list: IfAddr[] = (fixture.hosts[name] ?? []).map((i) => ({
    sa: newIPAddr(i.address),
    iface: {
      index: i.index,
      mtu: i.mtu,
      name: i.name,
      hardwareAddr: i.hw === '' ? [] : i.hw.split(':').map((b) => Number.parseInt(b, 16)),
      flags: i.flags,
    },
  }));
  const hasDefault = name !== 'nodefault' && name !== 'empty';
  return fixedInterfaces(list, hasDefault ? fixture.default_interface : undefined);
}

function call(src: InterfaceSource, args: string[]): { output?: string; error?: string } {
  try {
    return { output: sockaddrFunc(() => src).fn(...args) as string };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Where tend knowingly differs from go-sockaddr, and why. */
const KNOWN_DIFFERENCES: Record<string, string> = {
  'get/interface-ip-bad-regexp': "JavaScript's RegExp words syntax errors its own way",
  'include/address-bad-regexp': "JavaScript's RegExp words syntax errors its own way",
  'tmpl/nil-arg': "tend's engine assigns nil only to unnamed slice, map, pointer and interface parameters",
};

describe(`sockaddr on fixed interface lists (go-sockaddr, Go ${fixture.go}, ${fixture.cases.length} cases)`, () => {
  it('has the cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(150);
  });
  for (const c of fixture.cases) {
    const known = KNOWN_DIFFERENCES[c.name];
    it(`${c.name}${known ? ' (known difference)' : ''}`, () => {
      const got = call(host(c.host), c.args ?? []);
      if (known) {
        expect(got.error).toBeDefined();
        if (c.error !== undefined) expect(got.error?.split('regexp ')[0]).toBe(c.error.split('regexp ')[0]);
        return;
      }
      expect(got).toEqual(c.error !== undefined ? { error: c.error } : { output: c.output });
    });
  }
});

describe("sockaddr on this machine's interfaces", () => {
  // Go 1.19 (the generator) knows no `running` flag; consul-template's newer Go does.
  const src = linuxInterfaces({ runningFlag: false });
  let same = false;
  try {
    same =
      parseSockaddr('{{ GetAllInterfaces }}', src) === real.interfaces &&
      parseSockaddr('{{ GetDefaultInterfaces | attr "name" }}', src) === real.default_interface;
  } catch {
    same = false;
  }
  // The recorded machine is the one the fixture was generated on; elsewhere the interfaces differ.
  for (const c of real.cases) {
    it.skipIf(!same)(c.name, () => {
      expect(call(src, c.args ?? [])).toEqual(
        c.error !== undefined ? { error: c.error } : { output: c.output },
      );
    });
  }
  it('lists loopback, as every Linux host has it', () => {
    expect(
      parseSockaddr(
        '{{ GetAllInterfaces | include "name" "^lo$" | include "type" "IPv4" | attr "address" }}',
        src,
      ),
    ).toBe('127.0.0.1');
  });
});

describe('the default interface', () => {
  const header = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
  it('is the first default route with a gateway, as `ip route` shows `default via … dev IF`', () => {
    const table =
      header +
      'wg0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n' +
      'eth1\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n' +
      'eth1\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n' +
      'eth0\t00000000\t010200C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n';
    expect(defaultRouteInterface(table)).toBe('eth1');
  });
  it("fails with go-sockaddr's message when there is none", () => {
    expect(() =>
      defaultRouteInterface(header + 'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n'),
    ).toThrow('No default interface found');
  });
});

describe('the Linux interface source', () => {
  const root = mkdtempSync(join(tmpdir(), 'tend-sockaddr-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const sys = (name: string, files: Record<string, string>) => {
    mkdirSync(join(root, 'sys/class/net', name), { recursive: true });
    for (const [f, v] of Object.entries(files)) writeFileSync(join(root, 'sys/class/net', name, f), v + '\n');
  };
  sys('lo', { ifindex: '1', mtu: '65536', flags: '0x9', address: '00:00:00:00:00:00', operstate: 'unknown' });
  sys('eth0', { ifindex: '7', mtu: '1450', flags: '0x1003', address: '02:fc:00:00:00:01', operstate: 'up' });
  sys('eth1', {
    ifindex: '3',
    mtu: '1500',
    flags: '0x1002',
    address: '02:fc:00:00:00:02',
    operstate: 'down',
  });
  sys('gre1', {
    ifindex: '9',
    mtu: '1476',
    flags: '0x91',
    address: '0a:00:00:01',
    operstate: 'unknown',
    type: '778',
  });
  mkdirSync(join(root, 'proc/net'), { recursive: true });
  writeFileSync(
    join(root, 'proc/net/route'),
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
      'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n',
  );
  const info = (address: string, cidr: string, family: 'IPv4' | 'IPv6', internal = false) => ({
    address,
    cidr,
    family,
    netmask: '',
    mac: '',
    internal,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  });
  const addresses = () => ({
    eth0: [info('fe80::1', 'fe80::1/64', 'IPv6'), info('192.0.2.2', '192.0.2.2/24', 'IPv4')],
    eth1: [info('10.0.0.2', '10.0.0.2/8', 'IPv4')],
    lo: [info('127.0.0.1', '127.0.0.1/8', 'IPv4', true), info('::1', '::1/128', 'IPv6', true)],
    gre1: [info('10.9.0.1', '10.9.0.1/30', 'IPv4')],
  });
  it('orders interfaces by index and each one IPv4 first, with /sys facts', () => {
    const src = linuxInterfaces({ root, addresses: addresses as never });
    expect(parseSockaddr('{{ GetAllInterfaces }}', src)).toBe(
      '[127.0.0.1/8 {1 65536 lo  up|loopback|running} ::1 {1 65536 lo  up|loopback|running} ' +
        '10.0.0.2/8 {3 1500 eth1 02:fc:00:00:00:02 broadcast|multicast} ' +
        '192.0.2.2/24 {7 1450 eth0 02:fc:00:00:00:01 up|broadcast|multicast|running} ' +
        'fe80::1/64 {7 1450 eth0 02:fc:00:00:00:01 up|broadcast|multicast|running} ' +
        '10.9.0.1/30 {9 1476 gre1  up|pointtopoint|running}]',
    );
    // eth1 is down, eth0's 192.0.2.2 (TEST-NET) is not forwardable: the up tunnel's address wins.
    expect(parseSockaddr('{{ GetPrivateIP }}', src)).toBe('10.9.0.1');
    expect(parseSockaddr('{{ GetDefaultInterfaces | join "address" " " }}', src)).toBe('192.0.2.2 fe80::1');
    expect(parseSockaddr('{{ GetInterfaceIP "eth0" }}', src)).toBe('');
  });
  it('falls back on what Node says where there is no /sys (not Linux)', () => {
    const src = linuxInterfaces({ root: join(root, 'nowhere'), addresses: addresses as never });
    expect(parseSockaddr('{{ GetAllInterfaces | unique "name" | join "flags" "," }}', src)).toBe(
      'up|broadcast|multicast|running,up|broadcast|multicast|running,up|loopback|running,up|broadcast|multicast|running',
    );
    expect(parseSockaddr('{{ GetPrivateIP }}', src)).toBe('10.0.0.2');
    expect(() => parseSockaddr('{{ GetDefaultInterfaces }}', src)).toThrow('No default interface found');
  });
  it('leaves out `running` as Go 1.19 does when asked', () => {
    const src = linuxInterfaces({ root, addresses: addresses as never, runningFlag: false });
    expect(parseSockaddr('{{ GetAllInterfaces | attr "flags" }}', src)).toBe('up|loopback');
  });
});

describe('sockaddr in a consul-template template', () => {
  it('renders go-sockaddr output in place', () => {
    const r = renderWithSource(
      '{{ sockaddr "GetAllInterfaces | include \\"name\\" \\"^lo$\\" | include \\"type\\" \\"IPv4\\" | attr \\"address\\"" }}',
      undefined,
      memorySource({}),
    );
    expect(r.output).toBe('127.0.0.1');
  });
  it('wraps errors as consul-template does: its call site, then go-sockaddr', () => {
    expect(() =>
      renderWithSource('x {{ sockaddr "Nope" }}', undefined, memorySource({}), { name: 'web.ctmpl' }),
    ).toThrow(
      'template: web.ctmpl:1:5: executing "web.ctmpl" at <sockaddr "Nope">: error calling sockaddr: ' +
        'unable to parse template "{{ Nope }}": template: sockaddr.Parse:1: function "Nope" not defined',
    );
  });
});
