/**
 * `tend reload` / SIGHUP: re-read the manifest tend was started with, validate it, and apply the difference to
 * the running stack. An invalid manifest changes nothing.
 */
import { describeReload } from '../control/format.js';
import { formatIssue, loadManifest, ManifestError } from '../manifest/index.js';
import type { Plan } from '../manifest/types.js';
import { SocketError } from '../procs/index.js';
import { ReloadError, type ReloadResult, type Runtime } from '../runtime/index.js';
import { userRefusal } from '../supervisor/index.js';
import { applyPlanDiff, planDiff } from '../supervisor/reload.js';

/**
 * The command-line choices `tend up` made on top of the file, which a reload keeps: the file itself does not
 * record them. Read from tend's own argv and env, as `tend up` saw them.
 */
export function startupOverrides(env: NodeJS.ProcessEnv, argv: string[] = process.argv) {
  const flag = (name: string) => {
    for (let i = 0; i < argv.length; i++) {
      if (argv[i] === name) return argv[i + 1];
      if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
    }
    return undefined;
  };
  const onlyText = flag('--only') ?? env.TEND_ONLY;
  const only = onlyText
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    only: only && only.length > 0 ? only : undefined,
    http: flag('--http') !== undefined,
    kv: flag('--kv') !== undefined || Boolean(env.TEND_KV),
  };
}

/**
 * Reloads the manifest of a running tend; throws ReloadError when the new manifest is invalid. With
 * `start: false` added and changed services are left for the caller to start (SIGHUP: the lifecycle restarts
 * every service after the reload). `prepare` runs once the new manifest is accepted, before any service
 * changes: `tend up` attaches there the modules the new manifest needs and the old one did not.
 */
export function reload(
  rt: Omit<Runtime, 'reload'>,
  opts: { argv?: string[]; start?: boolean } = {},
  prepare?: (next: Plan) => Promise<void>,
): Promise<ReloadResult> {
  const cs = rt.control;
  return cs.exclusive(async () => {
    const current = cs.plan;
    const file = current.file;
    if (!file)
      throw new ReloadError('this tend runs one command (`tend run`); it has no manifest to reload', [], 409);
    const overrides = startupOverrides(rt.env, opts.argv);
    let loaded: ReturnType<typeof loadManifest>;
    try {
      loaded = loadManifest(file, { env: rt.env, only: overrides.only });
    } catch (e) {
      if (e instanceof ManifestError) {
        const issues = e.errors.map(formatIssue);
        rt.out.write(
          `tend | reload refused, ${file} is invalid; nothing was changed:\n${issues.map((i) => `tend |   ${i}\n`).join('')}`,
        );
        throw new ReloadError(`${file} is invalid; nothing was changed`, issues);
      }
      throw e;
    }
    const next = loaded.plan;
    const refusal = userRefusal(Object.values(next.services));
    if (refusal) {
      rt.out.write(`tend | reload refused: ${refusal}; nothing was changed\n`);
      throw new ReloadError(`${refusal}; nothing was changed`, [refusal]);
    }
    // What the command line chose stays chosen; the reload is about the file.
    if (overrides.http) next.http = current.http;
    if (overrides.kv) next.kv = current.kv;
    const diff = planDiff(current, next);
    await prepare?.(next);
    try {
      await applyPlanDiff(rt.stack, next, diff, { start: opts.start });
    } catch (e) {
      if (!(e instanceof SocketError)) throw e;
      rt.out.write(`tend | reload refused: ${e.message}; nothing was changed\n`);
      throw new ReloadError(`${e.message}; nothing was changed`, [e.message]);
    }
    rt.syncJobs();
    const result: ReloadResult = { file, ...diff, warnings: loaded.warnings };
    cs.reloaded(result, next);
    rt.out.write(`tend | reloaded ${file}: ${describeReload(result)}\n`);
    return result;
  });
}
