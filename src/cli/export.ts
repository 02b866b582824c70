/**
 * `tend export systemd|dotenv|envfile|configmap`: prints deployment files on stdout. Thin: loads the
 * manifest, reads the KV store once where needed, and calls src/export.
 *
 * Exit codes: 0 printed; 1 the KV store did not answer, or the variables cannot be exported as asked;
 * 2 invalid manifest, unknown service, invalid settings or usage.
 */
import { realpathSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { Plan } from '../manifest/types.js';

const EXIT_OK = 0;
const EXIT_FAIL = 1;
const EXIT_USAGE = 2;

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

interface Common {
  file?: string;
  kv?: string;
}

interface VarFlags {
  file?: string;
  /** false with --no-kv */
  kv?: string | false;
  service?: string;
  settings: string;
  settingsPrefix?: string;
  timeout: string;
  name?: string;
  namespace?: string;
}

interface SystemdFlags extends Common {
  only?: string;
  environmentFile: string[];
  user?: string;
  group?: string;
  exec?: string;
  description?: string;
  socket?: boolean;
  after: string[];
  requires: string[];
}

/** The manifest, or undefined after printing why (exit 2). `only` also enables a service disabled here. */
async function loadPlan(file: string | undefined, only?: string[]): Promise<Plan | undefined> {
  const { resolveManifestPath } = await import('./commands.js');
  const { loadManifest, ManifestError } = await import('../manifest/index.js');
  const { existsSync } = await import('node:fs');
  const path = resolveManifestPath(file);
  if (!existsSync(path)) {
    err(`tend: no manifest at ${path}; pass -f FILE or run this where tend.yaml is`);
    return undefined;
  }
  try {
    const { plan, warnings } = loadManifest(path, { env: process.env, only });
    // Exporting one service (of a role-per-host image, say) disables the others: no warning about that.
    for (const w of warnings) {
      if (only && /--only names it|names disabled service/.test(w)) continue;
      err(`tend: warning: ${w}`);
    }
    return plan;
  } catch (e) {
    if (e instanceof ManifestError) {
      err(e.message);
      err(`tend: ${path} is invalid; nothing was exported`);
      return undefined;
    }
    throw e;
  }
}

/** How systemd should start this very tend: node and the real path of its main.js, unless --exec says. */
function tendArgv(exec: string | undefined): string[] {
  if (exec) return exec.trim().split(/\s+/);
  const script = process.argv[1];
  let real = script;
  try {
    real = realpathSync(script);
  } catch {
    // keep it as given
  }
  return [process.execPath, real];
}

async function systemdCommand(opts: SystemdFlags): Promise<number> {
  const { parseOnly } = await import('./commands.js');
  const plan = await loadPlan(opts.file, parseOnly(opts.only));
  if (!plan) return EXIT_USAGE;
  const { systemdSocketUnit, systemdUnit } = await import('../export/index.js');
  try {
    if (opts.socket) {
      out(systemdSocketUnit(plan, { only: parseOnly(opts.only) }));
      return EXIT_OK;
    }
    out(
      systemdUnit(plan, {
        tend: tendArgv(opts.exec),
        only: parseOnly(opts.only),
        kv: opts.kv,
        envFiles: opts.environmentFile,
        user: opts.user,
        group: opts.group,
        description: opts.description,
        after: opts.after,
        requires: opts.requires,
      }),
    );
    return EXIT_OK;
  } catch (e) {
    err(`tend: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
}

async function varsCommand(format: 'dotenv' | 'envfile' | 'configmap', opts: VarFlags): Promise<number> {
  const ex = await import('../export/index.js');
  if (!ex.SETTINGS_MODES.includes(opts.settings as never)) {
    err(`tend: --settings must be one of ${ex.SETTINGS_MODES.join(', ')}`);
    return EXIT_USAGE;
  }
  const { parseDuration } = await import('../manifest/index.js');
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(opts.timeout);
  } catch {
    err(`tend: --timeout ${opts.timeout} is not a duration (e.g. 5s)`);
    return EXIT_USAGE;
  }
  const plan = await loadPlan(opts.file, opts.service ? [opts.service] : undefined);
  if (!plan) return EXIT_USAGE;

  const { openKv, redactUrl, resolveKvUrl } = await import('../kv/index.js');
  const { SettingsError } = await import('../settings/index.js');
  const useKv = opts.kv !== false;
  const kvUrl = resolveKvUrl({ flag: opts.kv || undefined, env: process.env, manifest: plan.kv });
  let kv: import('../kv/index.js').KvBackend | undefined;
  try {
    if (useKv) kv = openKv(kvUrl, { env: process.env, baseDir: plan.dir });
  } catch (e) {
    err(`tend: ${(e as Error).message}`);
    return EXIT_USAGE;
  }
  let vars: import('../export/index.js').ExportVar[];
  try {
    const input = await ex.collectExport(plan, {
      env: process.env,
      kv,
      service: opts.service,
      mode: opts.settings as import('../export/index.js').SettingsMode,
      timeoutMs,
    });
    const result = ex.exportVariables({ ...input, flatPrefix: opts.settingsPrefix });
    for (const w of result.warnings) err(`tend: warning: ${w}`);
    vars = result.vars;
  } catch (e) {
    if (e instanceof SettingsError) {
      err(`tend: ${e.message}`);
      return EXIT_USAGE;
    }
    if (e instanceof ex.ExportError) {
      err(`tend: ${e.message}`);
      return EXIT_FAIL;
    }
    throw e;
  } finally {
    await kv?.close().catch(() => undefined);
  }

  for (const v of vars) {
    if (!ex.portableName(v.name)) {
      err(
        `tend: warning: ${v.name} (from ${v.from}) is not a portable variable name; ` +
          'systemd and shells ignore it (rename the key, e.g. so that it does not start with a digit)',
      );
    }
  }
  const what = `\`tend export ${format}\`${opts.service ? ` --service ${opts.service}` : ''}`;
  const header = {
    comments: [
      `generated by ${what} from ${plan.file}; regenerate rather than edit`,
      useKv ? `KV store: ${redactUrl(kvUrl)}` : 'without the KV store (--no-kv)',
    ],
  };
  if (format === 'dotenv') out(ex.formatDotenv(vars, header));
  else if (format === 'envfile') out(ex.formatEnvFile(vars, header));
  else {
    const name = opts.name ?? configMapName(opts.service ? `${plan.name}-${opts.service}` : plan.name);
    const labels: Record<string, string> = {
      'app.kubernetes.io/name': labelValue(plan.name),
      'app.kubernetes.io/managed-by': 'tend',
    };
    if (opts.service) labels['app.kubernetes.io/component'] = labelValue(opts.service);
    out(ex.formatConfigMap(vars, { name, namespace: opts.namespace, labels }, header));
  }
  return EXIT_OK;
}

/** A DNS-1123 subdomain, as Kubernetes wants object names. */
function configMapName(s: string): string {
  const name = s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253)
    .replace(/[^a-z0-9]+$/, '');
  return name || 'tend';
}

/** A label value: 63 characters of [A-Za-z0-9_.-], alphanumeric at both ends. */
function labelValue(s: string): string {
  return s
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** Adds `export` and its four formats to the program. */
export function registerExportCommands(program: Command): void {
  const exp = program
    .command('export')
    .description(
      'print deployment files: a systemd unit, a .env, an EnvironmentFile, a Kubernetes ConfigMap',
    );
  const manifest = () =>
    new Option('-f, --file <file>', 'the manifest (default: ./tend.yaml, or $TEND_FILE)').env('TEND_FILE');
  const collect = (v: string, list: string[]) => [...list, v];

  exp
    .command('systemd')
    .description('a Type=notify unit that runs `tend up` for this manifest')
    .addOption(manifest())
    .option('--only <services>', 'passed on to `tend up --only`')
    .option('--kv <url>', 'passed on to `tend up --kv`')
    // not --env-file: Node 20 takes that flag for itself wherever it appears on the command line
    .option(
      '--environment-file <path>',
      'add EnvironmentFile=PATH (repeatable; -PATH if it may be missing)',
      collect,
      [],
    )
    .option('--user <user>', 'User= (and Group=) to run tend as: name, name:group, uid or uid:gid')
    .option('--group <group>', 'Group= to run tend as')
    .option('--exec <command>', 'how systemd starts tend (default: this node and this tend’s main.js)')
    .option('--description <text>', 'Description= of the unit')
    .option('--socket', "print the matching .socket unit instead (the services' listen: sockets)")
    .option('--after <unit>', 'also start after UNIT (After=; repeatable), e.g. docker.service', collect, [])
    .option(
      '--requires <unit>',
      'UNIT must run too: Requires= and After= (repeatable), e.g. docker.service on a Docker host',
      collect,
      [],
    )
    .action(async (opts: SystemdFlags) => {
      process.exitCode = await systemdCommand(opts);
    });

  const formats = [
    ['dotenv', 'a docker compose .env (or env_file:) with the settings and env_from variables'],
    ['envfile', 'a systemd EnvironmentFile= with the settings and env_from variables'],
    ['configmap', 'a Kubernetes ConfigMap with the settings and env_from variables'],
  ] as const;
  for (const [format, description] of formats) {
    const cmd = exp
      .command(format)
      .description(description)
      .addOption(manifest())
      .option('--service <name>', 'one service: also its `env`, and only its env_from')
      .addOption(
        new Option('--settings <mode>', 'settings as one JSON variable, flattened variables, both, or none')
          .choices(['both', 'json', 'flat', 'none'])
          .default('both'),
      )
      .option('--settings-prefix <prefix>', 'prefix of the flattened settings variables', 'SETTINGS_')
      .option('--kv <url>', 'KV store URL (or $TEND_KV; default: the manifest’s kv)')
      .option('--no-kv', 'do not read the KV store: settings without overlay, no env_from variables')
      .option('--timeout <duration>', 'how long the KV store may take to answer', '5s');
    if (format === 'configmap') {
      cmd
        .option('--name <name>', 'metadata.name (default: the app’s name, -SERVICE with --service)')
        .option('--namespace <namespace>', 'metadata.namespace');
    }
    cmd.action(async (opts: VarFlags) => {
      process.exitCode = await varsCommand(format, opts);
    });
  }
}
