// Finds (and when missing, installs) the supervisors tend is compared with: runit and supervisor from Debian's
// packages, PM2 from npm into bench/.peers (git-ignored, never in package.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { say, versionOf } from './util.mjs';
import { ROOT } from './workdir.mjs';

export const PM2_PREFIX = join(ROOT, 'bench/.peers');
export const PM2_BIN = join(PM2_PREFIX, 'node_modules/.bin/pm2');

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

function aptInstall(pkg) {
  if (process.getuid?.() !== 0)
    return `${pkg} is not installed and installing it needs root (apt-get install -y ${pkg})`;
  if (!has('apt-get')) return `${pkg} is not installed and there is no apt-get here`;
  say(`installing Debian's ${pkg} (apt-get install -y ${pkg})…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { stdio: 'inherit', env });
  }
  return r.status === 0 ? undefined : `apt-get install -y ${pkg} failed (exit ${r.status})`;
}

function dpkgVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '\x24{Version}', pkg], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * { runit, supervisord, pm2 }: each `{ ok: true, version }` or `{ ok: false, why }`. With install false, only
 * looks.
 */
export function ensurePeers({ install = true } = {}) {
  const out = {};

  const runitCmds = ['runsvdir', 'runsv', 'sv', 'svlogd'];
  let why;
  if (!runitCmds.every(has)) why = install ? aptInstall('runit') : 'runit is not installed';
  out.runit =
    runitCmds.every(has) && !why
      ? { ok: true, version: `runit ${dpkgVersion('runit') ?? '?'}` }
      : { ok: false, why: why ?? 'runit commands missing after install' };

  why = undefined;
  if (!has('supervisord')) why = install ? aptInstall('supervisor') : 'supervisor is not installed';
  out.supervisord =
    has('supervisord') && !why
      ? { ok: true, version: `supervisord ${versionOf('supervisord', ['--version']) ?? '?'}` }
      : { ok: false, why: why ?? 'supervisord missing after install' };

  if (!existsSync(PM2_BIN) && install) {
    say('installing pm2 from npm into bench/.peers…');
    spawnSync(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', '--prefix', PM2_PREFIX, 'pm2'],
      { stdio: 'inherit' },
    );
  }
  if (existsSync(PM2_BIN)) {
    const pkg = JSON.parse(readFileSync(join(PM2_PREFIX, 'node_modules/pm2/package.json'), 'utf8'));
    out.pm2 = { ok: true, version: `PM2 ${pkg.version}` };
  } else {
    out.pm2 = { ok: false, why: install ? 'npm install pm2 failed' : 'pm2 is not installed in bench/.peers' };
  }
  return out;
}
