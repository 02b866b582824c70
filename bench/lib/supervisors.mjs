// The same set of services under each supervisor, configured the way its users normally would:
//
//   tend         tend.yaml, `tend up`                      logs: { file, stdout: false } or { file: false, stdout: false }
//                                                          (opts.logTimestamps: `timestamps: true`, svlogd -tt's work)
//   runit        a runsvdir of service dirs with `run`     logs: a `log/run` with `svlogd -tt` (no rotation)
//   supervisord  one [program:x] per service, `-n`         logs: stdout_logfile (no rotation) or NONE
//   pm2          an ecosystem file, `pm2 start`            logs: out_file/error_file, or /dev/null
//
// A workload describes services as { name, argv: [absolute file, ...args], log: boolean } and calls
// `start(dir, services)`. Every service runs in its own folder, `svcDir(dir, name)`, which is also its working
// directory under every supervisor (runit's service dir is that folder), so a child can write ./times there.
//
// The handle says which processes are the supervisor's own (for CPU and memory: tend's node process;
// supervisord; runsvdir + every runsv (+ svlogd for logs); PM2's God daemon), where a service's log lines
// end up, and stops everything.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PM2_BIN } from './peers.mjs';
import { descendants, pidsWithEnv, snapshot, stat } from './proc.mjs';
import { sleep, waitFor } from './util.mjs';
import { ROOT, sweepAndWait, workdir } from './workdir.mjs';

/** Set in each supervisor's environment (and so its services'): the folder of that one start. */
const SUP_MARKER = 'TEND_BENCH_SUP';
const envFor = (dir) => ({ ...workdir().env, [SUP_MARKER]: dir });

export const TEND_MAIN = join(ROOT, 'dist/cli/main.js');

export const svcDir = (dir, name) => join(dir, 'svc', name);

export const NAMES = ['tend', 'runit', 'supervisord', 'pm2'];

const exited = (child) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', r));

/** Waits for a child process to end, SIGKILLs it after timeoutMs. */
async function endChild(child, timeoutMs) {
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited(child);
  clearTimeout(t);
}

function prepareDirs(dir, services) {
  for (const s of services) mkdirSync(svcDir(dir, s.name), { recursive: true });
}

// ---------------------------------------------------------------------------------------------- tend

/** YAML flow values are JSON. */
const y = (v) => JSON.stringify(v);

async function startTend(dir, services, opts = {}) {
  prepareDirs(dir, services);
  const lines = ['name: bench', 'state_dir: ./.tend', 'data_dir: ./data', 'services:'];
  for (const s of services) {
    const cwd = svcDir(dir, s.name);
    lines.push(`  ${y(s.name)}:`, `    command: ${y(s.argv)}`, `    cwd: ${y(cwd)}`);
    // The peers restart at once a service that ran for >= 1 s (runsv, supervisord startsecs, PM2 min_uptime);
    // tend's equivalent is reset_after (default 60 s, after which backoff is forgotten).
    if (opts.quickRestart) lines.push('    restart: { policy: always, reset_after: 1s }');
    lines.push(
      s.log
        ? `    logs: { file: ${y(join(cwd, 'out.log'))}, stdout: false, max_size: 4GB, keep: 1${opts.logTimestamps ? ', timestamps: true' : ''} }`
        : '    logs: { file: false, stdout: false }',
    );
  }
  writeFileSync(join(dir, 'tend.yaml'), `${lines.join('\n')}\n`);
  const out = openSync(join(dir, 'tend.out'), 'a');
  const launchedAt = Date.now();
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), TEND_MAIN, 'up', '-f', join(dir, 'tend.yaml')],
    {
      cwd: dir,
      env: envFor(dir),
      stdio: ['ignore', out, out],
    },
  );
  return {
    name: 'tend',
    launchedAt,
    supervisorPids: () => (child.exitCode === null ? [child.pid] : []),
    logFiles: (name) => [join(svcDir(dir, name), 'out.log')],
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => readIf(join(dir, 'tend.out')),
    async stop() {
      child.kill('SIGTERM');
      await endChild(child, 60_000);
    },
  };
}

// --------------------------------------------------------------------------------------------- runit

async function startRunit(dir, services) {
  prepareDirs(dir, services);
  for (const s of services) {
    const d = svcDir(dir, s.name);
    // A lone binary is the run file itself (no shell in between, as the restart benchmark needs); anything
    // else is the usual `#!/bin/sh` + exec.
    if (s.argv.length === 1) symlinkSync(s.argv[0], join(d, 'run'));
    else writeFileSync(join(d, 'run'), `#!/bin/sh\nexec ${s.argv.map(shq).join(' ')}\n`, { mode: 0o755 });
    if (s.log) {
      mkdirSync(join(d, 'log/main'), { recursive: true });
      // s0: never rotate, so every line stays in `current`; -tt: a UTC time stamp per line, like tend's.
      writeFileSync(join(d, 'log/main/config'), 's0\n');
      writeFileSync(join(d, 'log/run'), '#!/bin/sh\nexec svlogd -tt ./main\n', { mode: 0o755 });
    }
  }
  // runsvdir does not trust a folder modified within the current second (it may still be being written) and
  // looks again a second later. A real boot finds its folder written long before: launch once the second
  // of the last change has passed, so that this start-up is not charged a pause no runit user sees.
  const changed = Math.floor(statSync(join(dir, 'svc')).mtimeMs / 1000);
  while (Math.floor(Date.now() / 1000) <= changed) await sleep(20);
  const out = openSync(join(dir, 'runsvdir.out'), 'a');
  const launchedAt = Date.now();
  const child = spawn('runsvdir', [join(dir, 'svc')], {
    cwd: dir,
    env: envFor(dir),
    stdio: ['ignore', out, out],
  });
  const own = new Set(['runsv', 'svlogd']);
  return {
    name: 'runit',
    launchedAt,
    supervisorPids: () => {
      if (child.exitCode !== null) return [];
      return [
        child.pid,
        ...descendants(child.pid, snapshot())
          .filter((p) => own.has(p.comm))
          .map((p) => p.pid),
      ];
    },
    logFiles: (name) => [join(svcDir(dir, name), 'log/main/current')],
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => readIf(join(dir, 'runsvdir.out')),
    async stop() {
      // runsv only exits once its service is down: down everything (and the log services), then HUP runsvdir,
      // which sends TERM to each runsv and exits.
      const dirs = services.map((s) => svcDir(dir, s.name));
      for (let i = 0; i < dirs.length; i += 200) {
        const sv = spawn('sv', ['-w', '10', 'force-stop', ...dirs.slice(i, i + 200)], {
          stdio: 'ignore',
          env: envFor(dir),
        });
        await exited(sv);
      }
      child.kill('SIGHUP');
      await endChild(child, 15_000);
    },
  };
}

const shq = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);

// --------------------------------------------------------------------------------------- supervisord

async function startSupervisord(dir, services) {
  prepareDirs(dir, services);
  const n = services.length;
  const conf = [
    '[supervisord]',
    'nodaemon=true',
    `logfile=${join(dir, 'supervisord.log')}`,
    `pidfile=${join(dir, 'supervisord.pid')}`,
    `childlogdir=${dir}`,
    'loglevel=warn',
    // each child holds pipes open in supervisord: raise the descriptor and process limits with the count
    `minfds=${Math.max(1024, 8 * n + 256)}`,
    `minprocs=${Math.max(200, 2 * n + 100)}`,
    '',
    // the control socket `supervisorctl` talks to, as Debian's default supervisord.conf has it
    '[unix_http_server]',
    `file=${join(dir, 'supervisor.sock')}`,
    '',
    '[rpcinterface:supervisor]',
    'supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface',
    '',
    '[supervisorctl]',
    `serverurl=unix://${join(dir, 'supervisor.sock')}`,
    '',
  ];
  for (const s of services) {
    const d = svcDir(dir, s.name);
    conf.push(
      `[program:${s.name}]`,
      `command=${s.argv.map(shq).join(' ')}`,
      `directory=${d}`,
      'autostart=true',
      'autorestart=true',
      'startsecs=1',
      'startretries=1000',
      'stopsignal=TERM',
      'stopwaitsecs=10',
      'redirect_stderr=true',
      s.log ? `stdout_logfile=${join(d, 'out.log')}` : 'stdout_logfile=NONE',
      'stdout_logfile_maxbytes=0',
      '',
    );
  }
  writeFileSync(join(dir, 'supervisord.conf'), conf.join('\n'));
  const out = openSync(join(dir, 'supervisord.out'), 'a');
  const launchedAt = Date.now();
  const child = spawn('supervisord', ['-n', '-c', join(dir, 'supervisord.conf')], {
    cwd: dir,
    env: envFor(dir),
    stdio: ['ignore', out, out],
  });
  return {
    name: 'supervisord',
    launchedAt,
    supervisorPids: () => (child.exitCode === null ? [child.pid] : []),
    logFiles: (name) => [join(svcDir(dir, name), 'out.log')],
    alive: () => child.exitCode === null && child.signalCode === null,
    output: () => readIf(join(dir, 'supervisord.out')) + readIf(join(dir, 'supervisord.log')),
    async stop() {
      child.kill('SIGTERM');
      await endChild(child, 90_000);
    },
  };
}

// ----------------------------------------------------------------------------------------------- pm2

async function startPm2(dir, services) {
  prepareDirs(dir, services);
  const home = join(dir, 'pm2-home');
  const env = { ...envFor(dir), PM2_HOME: home };
  const apps = services.map((s) => {
    const d = svcDir(dir, s.name);
    return {
      name: s.name,
      script: s.argv[0],
      args: s.argv.slice(1),
      cwd: d,
      interpreter: 'none',
      autorestart: true,
      out_file: s.log ? join(d, 'out.log') : '/dev/null',
      error_file: s.log ? join(d, 'out.log') : '/dev/null',
    };
  });
  writeFileSync(join(dir, 'ecosystem.config.js'), `module.exports = ${JSON.stringify({ apps }, null, 1)};\n`);
  const out = openSync(join(dir, 'pm2.out'), 'a');
  const launchedAt = Date.now();
  const cli = spawn(PM2_BIN, ['start', join(dir, 'ecosystem.config.js')], {
    cwd: dir,
    env,
    stdio: ['ignore', out, out],
  });
  const pidFile = join(home, 'pm2.pid');
  let god;
  const godPid = () => {
    if (god === undefined && existsSync(pidFile))
      god = Number(readFileSync(pidFile, 'utf8').trim()) || undefined;
    return god;
  };
  // The CLI returns once the daemon has taken every app; the clock keeps running meanwhile.
  const cliDone = exited(cli);
  return {
    name: 'pm2',
    launchedAt,
    supervisorPids: () => {
      const p = godPid();
      return p && existsSync(`/proc/${p}`) ? [p] : [];
    },
    logFiles: (name) => [join(svcDir(dir, name), 'out.log')],
    alive: () => cli.exitCode === null || godPid() !== undefined,
    output: () => readIf(join(dir, 'pm2.out')) + readIf(join(home, 'pm2.log')),
    cliDone,
    async stop() {
      await Promise.race([cliDone, sleep(120_000, { unref: true })]);
      await exited(spawn(PM2_BIN, ['kill'], { env, stdio: 'ignore' }));
      await waitFor(() => !existsSync(`/proc/${godPid()}`), { timeoutMs: 10_000, everyMs: 100 });
    },
  };
}

const readIf = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : '');

const starters = { tend: startTend, runit: startRunit, supervisord: startSupervisord, pm2: startPm2 };

/**
 * Starts `services` under supervisor `name` in the fresh folder `dir`. opts: { quickRestart } (tend's
 * reset_after 1s, the peers' rule), { nodeArgs } (tend only: node flags before the script, e.g. --import). Returns the handle; its stop() also
 * kills anything of this run still alive afterwards, so a workload always ends clean.
 */
export async function start(name, dir, services, opts = {}) {
  mkdirSync(dir, { recursive: true });
  const h = await starters[name](dir, services, opts);
  /** live services of this start whose command name is comm (e.g. 'sleep'), found by their environment */
  h.servicePids = (comm) =>
    pidsWithEnv(SUP_MARKER, dir).filter((pid) => {
      const s = stat(pid);
      return s && s.comm === comm && s.state !== 'Z';
    });
  const stop = h.stop;
  /**
   * The supervisor's own way to stop everything, given up to timeoutMs (then: false); whatever is left after
   * it is killed. With { graceful: false }, just kills everything (a fast cleanup between repetitions).
   */
  h.stop = async ({ graceful = true, timeoutMs = 120_000 } = {}) => {
    let done = false;
    try {
      if (graceful) done = await Promise.race([stop().then(() => true), sleep(timeoutMs, { unref: true })]);
    } finally {
      await sweepAndWait(SUP_MARKER, dir);
    }
    return done === true;
  };
  return h;
}
