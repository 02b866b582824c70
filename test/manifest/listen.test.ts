/** `listen:` in the manifest: the spellings of an address, the defaults, and each mistake's message. */
import { dirname } from 'node:path';
import { describe, expect, test } from 'vitest';
import { errorsOf, load } from './helpers.js';

const svc = (listen: string) => `services:\n  web:\n    command: exec sleep 1\n    listen:\n${listen}`;

describe('listen:', () => {
  test('addresses as strings or maps, with defaults', () => {
    const { plan, file } = load(
      svc(
        '      - 127.0.0.1:8080\n      - "[::]:443"\n      - 9000\n      - { address: "unix:run/app.sock", mode: "0660", name: admin, backlog: 64 }\n      - unix:@tend-abstract\n',
      ),
    );
    const dir = dirname(file);
    expect(plan.services.web.listen).toEqual([
      {
        address: '127.0.0.1:8080',
        bind: { kind: 'tcp', host: '127.0.0.1', port: 8080, family: 4 },
        name: 'web',
        backlog: 4096,
      },
      {
        address: '[::]:443',
        bind: { kind: 'tcp', host: '::', port: 443, family: 6 },
        name: 'web',
        backlog: 4096,
      },
      {
        address: '0.0.0.0:9000',
        bind: { kind: 'tcp', host: '0.0.0.0', port: 9000, family: 4 },
        name: 'web',
        backlog: 4096,
      },
      {
        address: `unix:${dir}/run/app.sock`,
        bind: { kind: 'unix', path: `${dir}/run/app.sock` },
        name: 'admin',
        backlog: 64,
        mode: 0o660,
      },
      {
        address: 'unix:@tend-abstract',
        bind: { kind: 'unix', path: '@tend-abstract' },
        name: 'web',
        backlog: 4096,
      },
    ]);
  });

  test('no listen: an empty list', () => {
    expect(load('services:\n  web:\n    command: exec sleep 1\n').plan.services.web.listen).toEqual([]);
  });

  test('mistakes name the line and what to write', () => {
    expect(errorsOf(svc('      - localhost:8080\n'))).toEqual([
      '5:9: services.web.listen[0]: invalid listen address "localhost:8080": the host must be an IP address (0.0.0.0 for every IPv4 interface, [::] for every interface)',
    ]);
    expect(errorsOf(svc('      - 127.0.0.1:99999\n'))).toEqual([
      '5:9: services.web.listen[0]: invalid listen address "127.0.0.1:99999": the port must be between 1 and 65535',
    ]);
    expect(errorsOf(svc('      - ::1:80\n'))).toEqual([
      '5:9: services.web.listen[0]: invalid listen address "::1:80": expected HOST:PORT (IPv6 in brackets: [::]:443) or unix:PATH',
    ]);
    expect(errorsOf(svc('      - "unix:"\n'))).toEqual([
      '5:9: services.web.listen[0]: invalid listen address "unix:": give a path after "unix:", e.g. unix:/run/app.sock',
    ]);
    expect(errorsOf(svc(`      - unix:/${'x'.repeat(120)}\n`))[0]).toMatch(/at most 107 bytes/);
    expect(errorsOf(svc('      - { address: "127.0.0.1:80", mode: "0660" }\n'))).toEqual([
      '5:9: services.web.listen[0]: "mode" applies to a Unix socket file only (unix:/path)',
    ]);
    expect(errorsOf(svc('      - { address: "127.0.0.1:80", name: "a:b" }\n'))).toEqual([
      '5:9: services.web.listen[0]: invalid name "a:b": use printable ASCII without ":" or spaces',
    ]);
    expect(errorsOf(svc('      - 127.0.0.1:80\n      - 127.0.0.1:80\n'))).toEqual([
      '5:7: services.web.listen: 127.0.0.1:80 is listed twice',
    ]);
    expect(errorsOf(svc('      - { address: "127.0.0.1:80", backlog: 0 }\n'))[0]).toMatch(/backlog/);
  });
  test('restart.overlap: true (at once) or a duration, and only with listen:', () => {
    const with_ = (v: string) =>
      load(
        `services:\n  web:\n    command: exec sleep 1\n    listen: [127.0.0.1:8080]\n    restart: { overlap: ${v} }\n`,
      ).plan.services.web.restart.overlapMs;
    expect(with_('true')).toBe(0);
    expect(with_('2s')).toBe(2000);
    expect(with_('false')).toBeUndefined();
    expect(
      errorsOf('services:\n  web:\n    command: exec sleep 1\n    restart: { overlap: true }\n'),
    ).toEqual([
      '3:5: services.web: restart.overlap needs listen: (the new process can only accept beside the old one on a socket tend holds)',
    ]);
  });
});
