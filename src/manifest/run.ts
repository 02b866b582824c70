/** The Plan of `tend run -- CMD ARGS…`: one service, every default, no manifest. */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { buildPlan } from './build.js';
import { ManifestError } from './errors.js';
import { INVALID } from './kit.js';
import { manifest, SERVICE_NAME } from './schema.js';
import { fromJS, type Pos } from './tree.js';
import type { Plan, RestartPolicy } from './types.js';

export interface CommandPlanOptions {
  /** service name (default: the program's base name, e.g. `gunicorn`) */
  name?: string;
  /** the command, run directly (no shell) */
  argv: string[];
  /** default: always */
  restart?: RestartPolicy;
  /** `--max-failures`, `--reset-after`, `--backoff-max`: as the manifest's restart keys, checked the same way */
  maxFailures?: number | string;
  resetAfter?: string;
  backoffMax?: string;
  /** working directory of the service; also where `data_dir` and the KV folder would be */
  cwd: string;
  /** for XDG_RUNTIME_DIR (default: process.env) */
  env?: NodeJS.ProcessEnv;
}

/**
 * Choices for a manifest-less run:
 * - the state dir (socket, pid file): see runStateDir; never the working directory, which may be read-only or
 *   shared;
 * - output goes to tend's stdout only (no log file), which is what `docker logs` and a terminal want;
 * - the service is essential: the command is the whole stack, so when it ends for good tend ends with its code.
 */
export function planForCommand(opts: CommandPlanOptions): Plan {
  if (opts.argv.length === 0 || opts.argv[0] === '') {
    throw new ManifestError([{ file: 'tend run', line: 0, column: 0, message: 'no command given after --' }]);
  }
  const env = opts.env ?? process.env;
  const cwd = resolve(opts.cwd);
  const name = opts.name ?? nameOf(opts.argv[0]);
  if (!SERVICE_NAME.test(name)) {
    throw new ManifestError([
      {
        file: 'tend run',
        line: 0,
        column: 0,
        message: `invalid service name ${JSON.stringify(name)}: use letters, digits, "_", "." and "-", starting with a letter or digit`,
      },
    ]);
  }
  const stateDir = runStateDir(name, env);
  // The same decoder as tend.yaml, so `tend run` gets exactly the manifest's defaults.
  const manifestLike = {
    name,
    data_dir: join(stateDir, 'data'),
    state_dir: stateDir,
    kv: `file:${join(cwd, 'kv')}`,
    services: {
      [name]: {
        command: opts.argv,
        restart: {
          policy: opts.restart ?? 'always',
          ...(opts.maxFailures !== undefined ? { max_failures: Number(opts.maxFailures) } : {}),
          ...(opts.resetAfter !== undefined ? { reset_after: opts.resetAfter } : {}),
          ...(opts.backoffMax !== undefined ? { backoff: { max: opts.backoffMax } } : {}),
        },
        logs: { file: false },
        essential: true,
      },
    },
  };
  const errors: string[] = [];
  const cx = { dir: cwd, error: (_: Pos, m: string) => errors.push(m), warn: () => {} };
  const raw = manifest.decode(fromJS(manifestLike, { line: 0, column: 0 }), cx, []);
  const plan = raw === INVALID ? undefined : buildPlan(raw, cx, {});
  if (!plan)
    throw new ManifestError(errors.map((message) => ({ file: 'tend run', line: 0, column: 0, message })));
  return plan;
}

/** `/usr/bin/gunicorn` → `gunicorn`; anything a service name cannot hold becomes `-`. */
function nameOf(program: string): string {
  const base = basename(program)
    .replace(/[^a-zA-Z0-9_.-]/g, '-')
    .replace(/^[^a-zA-Z0-9]+/, '');
  return base || 'service';
}

/**
 * Where `tend run` keeps its state: `$XDG_RUNTIME_DIR/tend/<name>` when set (per user, cleared at logout), else
 * `/run/tend/<name>` for root (as systemd's RuntimeDirectory would), else `<tmpdir>/tend-<uid>/<name>`. tend
 * creates the folder 0700 and refuses one another user controls (src/fsx private-dir), so a name another local
 * user can guess in a shared folder buys them nothing.
 */
export function runStateDir(name: string, env: NodeJS.ProcessEnv, uid = process.geteuid?.() ?? 0): string {
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'tend', name);
  if (uid === 0 && existsSync('/run')) return join('/run/tend', name);
  return join(tmpdir(), `tend-${uid}`, name);
}
