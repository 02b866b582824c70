/**
 * `tend fleet`: every tend of this app (or of every app with --all) that publishes in the KV store, with its
 * services' states and the content hash of each rendered template. Reads the store once; needs no running tend.
 *
 * Exit codes: 0 listed (even none); 1 the store did not answer or cannot hold the fleet view; 2 usage or an
 * invalid manifest.
 */
import type { Command } from 'commander';

const out = (text: string) => process.stdout.write(text);
const err = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);

interface FleetFlags {
  file?: string;
  kv?: string;
  app?: string;
  all?: boolean;
  json?: boolean;
  timeout: string;
}

async function fleetCommand(opts: FleetFlags): Promise<number> {
  const { existsSync } = await import('node:fs');
  const { dirname } = await import('node:path');
  const { resolveManifestPath } = await import('./commands.js');
  const { loadManifest, ManifestError, parseDuration } = await import('../manifest/index.js');
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(opts.timeout);
  } catch (e) {
    err(`tend fleet: --timeout ${opts.timeout}: ${(e as Error).message}`);
    return 2;
  }
  // the manifest gives the app's name and the store; without one, --kv (or TEND_KV) and every app
  const path = resolveManifestPath(opts.file);
  let app = opts.app;
  let kvUrl = opts.kv ?? (process.env.TEND_KV || undefined);
  let baseDir = process.cwd();
  if (existsSync(path)) {
    try {
      const { plan } = loadManifest(path, { env: process.env });
      app ??= plan.name;
      kvUrl ??= plan.kv;
      baseDir = plan.dir;
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      err(e.message);
      return 2;
    }
  } else if (opts.file) {
    err(`tend fleet: no manifest at ${path}`);
    return 2;
  } else {
    baseDir = dirname(path);
  }
  if (kvUrl === undefined) {
    err('tend fleet: no manifest here and no store given: pass --kv URL (or set TEND_KV), or -f FILE');
    return 2;
  }
  const { openKv, KvError } = await import('../kv/index.js');
  const { readFleet, formatFleet, FleetUnsupported } = await import('../fleet/index.js');
  const { withTimeout } = await import('../time/index.js');
  let kv: import('../kv/index.js').KvBackend;
  try {
    kv = openKv(kvUrl, { env: process.env, baseDir });
  } catch (e) {
    err(`tend fleet: ${(e as Error).message}`);
    return 2;
  }
  try {
    const view = await withTimeout(readFleet(kv, { app: opts.all ? undefined : app }), timeoutMs, () => {
      throw new Error(`the store did not answer within ${opts.timeout} (${kv.url}); try --timeout`);
    });
    out(opts.json ? `${JSON.stringify(view, null, 2)}\n` : formatFleet(view));
    return 0;
  } catch (e) {
    if (e instanceof FleetUnsupported || e instanceof KvError || e instanceof Error) {
      err(`tend fleet: ${e.message}`);
      return 1;
    }
    throw e;
  } finally {
    await kv.close().catch(() => {});
  }
}

/** Adds `fleet` to the program. */
export function registerFleetCommand(program: Command): void {
  program
    .command('fleet')
    .description('list every tend of this app that publishes in the KV store (services, config hashes)')
    .option('-f, --file <file>', 'the manifest (default: ./tend.yaml): the app name and the store')
    .option('--kv <url>', 'KV store URL (or $TEND_KV; default: the manifest’s kv)')
    .option('--app <name>', 'another app than the manifest’s')
    .option('--all', 'every app in the store')
    .option('--json', 'print the documents as JSON')
    .option('--timeout <duration>', 'how long the KV store may take to answer', '5s')
    .action(async (opts: FleetFlags) => {
      process.exitCode = await fleetCommand(opts);
    });
}
