/** `tend render` and `tend template`: parse flags, call src/render, print. */
import type { Command } from 'commander';

const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

interface RenderFlags {
  file?: string;
  only?: string;
  kv?: string;
  once?: boolean;
  dryRun?: boolean;
  json?: boolean;
  timeout?: string;
  all?: boolean;
}

async function renderCommand(opts: RenderFlags): Promise<number> {
  const { existsSync } = await import('node:fs');
  const { relative } = await import('node:path');
  const { resolveManifestPath, parseOnly } = await import('./commands.js');
  const { loadManifest, ManifestError } = await import('../manifest/index.js');
  const file = resolveManifestPath(opts.file);
  if (!existsSync(file)) {
    err(`tend: no manifest at ${file}\n  create tend.yaml here, or pass -f FILE`);
    return 2;
  }
  let plan: import('../manifest/types.js').Plan;
  try {
    const loaded = loadManifest(file, {
      env: process.env,
      only: parseOnly(opts.only ?? process.env.TEND_ONLY),
    });
    plan = loaded.plan;
    if (opts.all && plan.disabled.length > 0) {
      // --all: the templates of disabled services too (a build-time check of every file the image may need)
      const every = [...Object.keys(plan.services), ...plan.disabled];
      const again = loadManifest(file, { env: process.env, only: every });
      plan = again.plan;
      for (const w of again.warnings)
        if (!/has enabled: false but --only names it/.test(w)) err(`tend: warning: ${w}`);
    } else for (const w of loaded.warnings) err(`tend: warning: ${w}`);
  } catch (e) {
    if (e instanceof ManifestError) {
      err(e.message);
      err(`tend: ${file} is invalid; nothing was rendered`);
      return 2;
    }
    throw e;
  }
  const timeoutMs = parseTimeout(opts.timeout);
  if (timeoutMs === undefined) {
    err(`tend render: --timeout ${opts.timeout} is not a duration; use e.g. 10s or 500ms`);
    return 2;
  }
  const { KvError, openKv } = await import('../kv/index.js');
  const { renderAll } = await import('../render/once.js');
  let kv: import('../kv/index.js').KvBackend;
  try {
    kv = openKv(opts.kv ?? (process.env.TEND_KV || plan.kv), { env: process.env, baseDir: plan.dir });
  } catch (e) {
    if (!(e instanceof KvError)) throw e;
    err(`tend render: ${e.message}`);
    return 2;
  }
  try {
    const { outcomes, exitCode } = await renderAll({
      plan,
      kv,
      env: process.env,
      dryRun: opts.dryRun,
      timeoutMs,
    });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ exitCode, templates: outcomes }, null, 2)}\n`);
      return exitCode;
    }
    const rel = (p: string) => (p ? relative(process.cwd(), p) || p : p);
    for (const o of outcomes) {
      const where = o.service ? `${o.service}: ${rel(o.destination)}` : 'tend render';
      if (o.status === 'dry-run') {
        process.stdout.write(`# ${where} (from ${rel(o.source)})\n${o.output ?? ''}`);
        if (o.output && !o.output.endsWith('\n')) process.stdout.write('\n');
      } else if (o.status === 'rendered' || o.status === 'unchanged') {
        process.stdout.write(`${o.status} ${where}\n`);
      } else {
        err(`${o.status === 'incomplete' ? 'missing' : o.status} ${where}: ${o.reason}`);
      }
    }
    if (outcomes.length === 0) {
      err(
        plan.disabled.length > 0
          ? `tend render: no enabled service has templates; skipped: ${plan.disabled.join(', ')} (enabled: false, or not named by --only/$TEND_ONLY); --all renders theirs too`
          : 'tend render: no service of this manifest has templates',
      );
    }
    if (exitCode === 3)
      err('tend render: config incomplete (exit 3); put the missing keys in the store and run it again');
    return exitCode;
  } finally {
    await kv.close().catch(() => {});
  }
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return 10_000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

async function templateCommand(
  file: string,
  opts: { data?: string; kv?: string; timeout?: string },
): Promise<number> {
  const timeoutMs = parseTimeout(opts.timeout);
  if (timeoutMs === undefined) {
    err(`tend template: --timeout ${opts.timeout} is not a duration; use e.g. 10s or 500ms`);
    return 2;
  }
  const { openKv, DEFAULT_KV_URL } = await import('../kv/index.js');
  const { renderTemplateFile } = await import('../render/once.js');
  let kv: import('../kv/index.js').KvBackend;
  try {
    kv = openKv(opts.kv ?? (process.env.TEND_KV || DEFAULT_KV_URL), {
      env: process.env,
      baseDir: process.cwd(),
    });
  } catch (e) {
    err(`tend template: ${(e as Error).message}`);
    return 2;
  }
  try {
    const r = await renderTemplateFile({
      file,
      dataFile: opts.data,
      kv,
      env: process.env,
      baseDir: process.cwd(),
      timeoutMs,
    });
    if (!r.ok) {
      err(r.message);
      return r.exitCode;
    }
    process.stdout.write(r.output);
    return 0;
  } finally {
    await kv.close().catch(() => {});
  }
}

/** Adds `render` and `template` to the program. */
export function registerRenderCommands(program: Command): void {
  program
    .command('render')
    .description('render every template once and exit (exit 3 when config is incomplete)')
    .option('-f, --file <file>', 'the manifest (default: ./tend.yaml, or $TEND_FILE)', process.env.TEND_FILE)
    .option('--only <services>', 'just the templates of these services (comma-separated; or $TEND_ONLY)')
    .option(
      '--once',
      'render once and exit (what `tend render` always does; accepted as consul-template spells it)',
    )
    .option('--dry-run', 'print the rendered files on stdout instead of writing them (no check runs)')
    .option('--kv <url>', 'KV store URL (or $TEND_KV; default: the manifest’s kv)')
    .option('--timeout <duration>', 'how long the KV store may take to answer', '10s')
    .option('--json', 'print the outcome of each template as JSON')
    .option('--all', 'also the templates of disabled services (enabled: false, not in --only)')
    .action(async (opts: RenderFlags) => {
      process.exitCode = await renderCommand(opts);
    });

  program
    .command('template')
    .description('render one template to stdout: `.` is the JSON of --data, functions read the KV store')
    .argument('<file>', 'the template (Go text/template, consul-template functions)')
    .option('--data <json_file>', 'JSON file bound to `.`')
    .option('--kv <url>', 'KV store URL (default file:./kv, or $TEND_KV)')
    .option('--timeout <duration>', 'how long the KV store may take to answer', '10s')
    .action(async (file: string, opts: { data?: string; kv?: string; timeout?: string }) => {
      process.exitCode = await templateCommand(file, opts);
    });
}
