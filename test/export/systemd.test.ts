import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBudgetMs, stopBudgetMs, systemdUnit, timeSpan } from '../../src/export/index.js';
import { execWord } from '../../src/export/systemd.js';
import type { Plan, ServicePlan } from '../../src/manifest/types.js';
import { runTend } from '../helpers/cli.js';
import { servicePlan } from '../helpers/plan.js';

const haveAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function planOf(services: ServicePlan[], stages: Plan['stages'] = {}): Plan {
  return {
    file: '/srv/shop/tend.yaml',
    dir: '/srv/shop',
    name: 'shop',
    kv: 'file:./kv',
    stages,
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    order: services.map((s) => s.name),
  } as unknown as Plan;
}

describe('unit timeouts', () => {
  it('TimeoutStopSec: the longest chain of stop timeouts, the longest again for escaped daemons, plus 15 s', () => {
    const plan = planOf([
      servicePlan('db', 'x', { stop: { timeoutMs: 20_000 } }),
      servicePlan('api', 'x', { after: ['db'], stop: { timeoutMs: 10_000 } }),
      servicePlan('web', 'x', { after: ['api'], stop: { timeoutMs: 5_000 } }),
      servicePlan('cron', 'x', { stop: { timeoutMs: 1_000 } }),
    ]);
    // web, then api, then db stop one after the other: 35 s; + 20 s + 15 s
    expect(stopBudgetMs(plan)).toBe(70_000);
    expect(timeSpan(70_000)).toBe('1min 10s');
  });

  it('TimeoutStartSec: stages plus what services may wait for along `after`, or infinity', () => {
    const stage = (ms: number) => ({ command: { kind: 'shell' as const, script: 'x' }, timeoutMs: ms });
    const db = servicePlan('db', 'x', {
      ready: { probe: { kind: 'tcp', host: 'localhost', port: 5432 }, intervalMs: 100, timeoutMs: 60_000 },
    });
    const web = servicePlan('web', 'x', {
      after: ['db'],
      ready: { probe: { kind: 'tcp', host: 'localhost', port: 80 }, intervalMs: 100, timeoutMs: 10_000 },
    });
    expect(startBudgetMs(planOf([db, web], { boot: stage(60_000), warmup: stage(120_000) }))).toBe(
      60_000 + 120_000 + 70_000 + 30_000,
    );
    const forever = servicePlan('w', 'x', { requires: ['postgres'], requiresTimeoutMs: 0 });
    expect(timeSpan(startBudgetMs(planOf([db, forever])))).toBe('infinity');
  });

  it('quotes Exec words: spaces, quotes, $ and % survive systemd', () => {
    expect(execWord('/usr/bin/node')).toBe('/usr/bin/node');
    expect(execWord('/srv/my app/tend.yaml')).toBe('"/srv/my app/tend.yaml"');
    expect(execWord('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(execWord('$HOME/100%')).toBe('$$HOME/100%%');
    expect(execWord('')).toBe('""');
  });
});

describe('User= and Group= of the unit', () => {
  const runAs = { spec: 'www-data', name: 'www-data', uid: 33, gid: 33, groups: [33], home: '/var/www' };
  const unit = (services: ServicePlan[], opts: { user?: string; group?: string }) =>
    systemdUnit(planOf(services), { tend: ['/usr/bin/tend'], ...opts });

  it('--user name:group writes User= and Group=; no SupplementaryGroups= (systemd takes them from the user)', () => {
    const text = unit([servicePlan('web', 'x')], { user: 'app:adm' });
    expect(text).toContain('\nUser=app\nGroup=adm\n');
    expect(text).not.toContain('SupplementaryGroups=');
    expect(unit([servicePlan('web', 'x')], { user: 'app', group: 'adm' })).toContain(
      '\nUser=app\nGroup=adm\n',
    );
    expect(() => unit([servicePlan('web', 'x')], { user: 'app:adm', group: 'staff' })).toThrow(/two groups/);
  });

  it('services with user: need tend as root: a unit with another --user is refused, root is said in a comment', () => {
    const web = servicePlan('web', 'x', { runAs });
    expect(() => unit([web], { user: 'app' })).toThrow(
      /web \(user: www-data\) would run as another user.*root/,
    );
    expect(unit([web], { user: 'www-data' })).toContain('\nUser=www-data\n');
    const asRoot = unit([web], {});
    expect(asRoot).not.toContain('User=');
    expect(asRoot).toContain('\n# tend runs as root, to start web as www-data (user:)\n');
  });
});

describe.skipIf(!haveAnalyze)('tend export systemd', () => {
  function project(dirName: string, manifest: string) {
    const root = mkdtempSync(join(tmpdir(), 'tend-export-'));
    dirs.push(root);
    const dir = join(root, dirName);
    mkdirSync(dir);
    writeFileSync(join(dir, 'tend.yaml'), manifest);
    return { root, dir };
  }

  function verify(root: string, unit: string) {
    const file = join(root, 'shop.service');
    writeFileSync(file, unit);
    return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', cwd: root });
  }

  it('prints a unit that systemd-analyze verify accepts', () => {
    const { root, dir } = project(
      'shop',
      `
name: shop
kv: consul://127.0.0.1:8500
services:
  db:
    command: exec postgres
    stop: { timeout: 30s }
  web:
    command: exec gunicorn app:app
    after: [db]
`,
    );
    const r = runTend(
      [
        'export',
        'systemd',
        '--environment-file',
        '-/etc/default/shop',
        '--environment-file',
        '/etc/wazo-platform/consul',
        '--user',
        'root',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    const unit = r.stdout;
    for (const line of [
      'Type=notify',
      'NotifyAccess=main',
      'KillMode=mixed',
      // web 10 s then db 30 s, + 30 s for escaped daemons, + 15 s
      'TimeoutStopSec=1min 25s',
      'EnvironmentFile=-/etc/default/shop',
      'EnvironmentFile=/etc/wazo-platform/consul',
      'User=root',
      `WorkingDirectory=${dir}`,
      'After=network-online.target',
      'Wants=network-online.target',
      'RestartPreventExitStatus=2',
      'WantedBy=multi-user.target',
    ]) {
      expect(unit).toContain(`\n${line}\n`);
    }
    expect(unit).toMatch(new RegExp(`\\nExecStart=\\S+ \\S+main\\.js up -f ${dir}/tend\\.yaml\\n`));
    const v = verify(root, unit);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });

  it('keeps odd manifest paths intact, and passes --only and --kv on', () => {
    const { root, dir } = project('my shop 100%', 'services:\n  web:\n    command: exec sleep 1\n');
    const r = runTend(['export', 'systemd', '--only', 'web', '--kv', 'etcd://10.0.0.1:2379'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const escaped = `${dir.replace(/%/g, '%%')}/tend.yaml`;
    expect(r.stdout).toContain(` up -f "${escaped}" --only web --kv etcd://10.0.0.1:2379\n`);
    expect(r.stdout).toContain(`\nWorkingDirectory=${dir.replace(/%/g, '%%')}\n`);
    const v = verify(root, r.stdout);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });

  it('--socket prints the .socket unit of the listen: sockets; both units verify together', () => {
    const { root, dir } = project(
      'shop',
      `
name: shop
services:
  web:
    command: exec gunicorn app:app
    listen:
      - 127.0.0.1:8080
      - { address: "[::]:8443", name: tls, backlog: 512 }
  admin:
    command: exec ./admin
    listen: [ { address: "unix:/run/shop/admin.sock", mode: "0660" } ]
`,
    );
    const sock = runTend(['export', 'systemd', '--socket'], { cwd: dir });
    expect(sock.code, sock.stderr).toBe(0);
    for (const line of [
      'ListenStream=127.0.0.1:8080',
      'ListenStream=[::]:8443',
      'ListenStream=/run/shop/admin.sock',
      'Backlog=4096',
      'SocketMode=0660',
      'Service=shop.service',
      'WantedBy=sockets.target',
    ]) {
      expect(sock.stdout).toContain(`\n${line}\n`);
    }
    expect(sock.stdout).toContain('#   [::]:8443 → web (LISTEN_FDNAMES tls)');
    const service = runTend(['export', 'systemd'], { cwd: dir });
    expect(service.stdout).toContain('\nAfter=network.target shop.socket\n');
    expect(service.stdout).toContain('\nWants=shop.socket\n');
    writeFileSync(join(root, 'shop.socket'), sock.stdout);
    writeFileSync(join(root, 'shop.service'), service.stdout);
    const v = spawnSync(
      'systemd-analyze',
      ['verify', join(root, 'shop.socket'), join(root, 'shop.service')],
      {
        encoding: 'utf8',
        cwd: root,
      },
    );
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
    // without sockets there is nothing to hold: a clear refusal
    const none = project('plain', 'services:\n  web:\n    command: exec sleep 1\n');
    const r = runTend(['export', 'systemd', '--socket'], { cwd: none.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no service lists listen: sockets/);
  });

  it('starts after and with Docker on a Docker host: --requires docker.service, --after (seed 001)', () => {
    const { dir } = project('museum', 'services:\n  web:\n    command: exec sleep 1\n');
    const r = runTend(
      [
        'export',
        'systemd',
        '--requires',
        'docker.service',
        '--after',
        'containerd',
        '--after',
        'docker.service',
      ],
      { cwd: dir },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      '\nAfter=network.target containerd.service docker.service\nRequires=docker.service\n',
    );
    const bad = runTend(['export', 'systemd', '--requires', 'docker.service network.target'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not a unit name: "docker.service network.target"');
    expect(runTend(['export', 'systemd', '--help'], { cwd: dir }).stdout).toMatch(/--requires <unit>/);
  });

  it('systemd-analyze would catch a broken unit (the check is real)', () => {
    const { root, dir } = project('shop', 'services:\n  web:\n    command: exec sleep 1\n');
    const r = runTend(['export', 'systemd'], { cwd: dir });
    const v = verify(root, r.stdout.replace('KillMode=mixed', 'KillMode=mixd'));
    expect(v.stderr).toMatch(/kill mode/i);
  });
});
