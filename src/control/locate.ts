/**
 * Finding a running tend's socket from the CLI: `--socket PATH`, else TEND_SOCKET, else
 * `<state_dir>/tend.sock` of the manifest in the current folder (`-f FILE`, TEND_FILE, ./tend.yaml). The
 * manifest is only skimmed for a top-level `state_dir:` line, so that `tend status` needs no YAML parser and
 * no full load (which might also fail for reasons that don't matter here).
 *
 * Over TCP instead (`--url URL` or TEND_URL), every API call needs the token: TEND_TOKEN, else the one tend
 * made at start and keeps in `<state_dir>/token` (mode 0600, so only tend's user can read it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';

export interface Located {
  socket: string;
  /** the manifest the socket was derived from, if any */
  manifest?: string;
  how: 'flag' | 'env' | 'manifest' | 'default';
  /** talk TCP to this base URL instead of the socket */
  url?: string;
  /** the bearer token for `url` */
  token?: string;
}

/** `<state_dir>/token`: the token tend made at start when TEND_TOKEN was unset (only while it listens on TCP). */
export function tokenPathOf(stateDir: string): string {
  return join(stateDir, 'token');
}

export function findManifest(file: string | undefined, cwd: string): string | undefined {
  if (file) return resolve(cwd, file);
  for (const name of ['tend.yaml', 'tend.yml']) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function locateSocket(
  opts: { socket?: string; file?: string; url?: string },
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): Located {
  const url = opts.url ?? (env.TEND_URL || undefined);
  if (url) {
    const viaManifest =
      opts.socket || env.TEND_SOCKET
        ? undefined
        : locateSocket({ file: opts.file }, { ...env, TEND_URL: undefined }, cwd);
    let token = env.TEND_TOKEN || undefined;
    if (!token && viaManifest) {
      try {
        token = readFileSync(tokenPathOf(dirname(viaManifest.socket)), 'utf8').trim() || undefined;
      } catch {
        // no token file (another machine, or not tend's user): the answer's 401 says what to do
      }
    }
    return { ...(viaManifest ?? { socket: '', how: 'flag' }), url, token, how: opts.url ? 'flag' : 'env' };
  }
  if (opts.socket) return { socket: resolve(cwd, opts.socket), how: 'flag' };
  if (env.TEND_SOCKET) return { socket: resolve(cwd, env.TEND_SOCKET), how: 'env' };
  const manifest = findManifest(opts.file ?? env.TEND_FILE, cwd);
  if (!manifest) return { socket: resolve(cwd, '.tend', 'tend.sock'), how: 'default' };
  let stateDir = '.tend';
  try {
    stateDir = readStateDir(readFileSync(manifest, 'utf8'), env) ?? stateDir;
  } catch {
    // unreadable manifest: the default place is the best guess, and the error will name the socket
  }
  const dir = isAbsolute(stateDir) ? stateDir : join(dirname(manifest), stateDir);
  return { socket: join(dir, 'tend.sock'), manifest, how: 'manifest' };
}

/** The value of a top-level `state_dir:` key, with `${VAR}` / `${VAR:-default}` expanded; undefined if absent. */
export function readStateDir(text: string, env: NodeJS.ProcessEnv): string | undefined {
  const m = /^state_dir[ \t]*:[ \t]*(.*)$/m.exec(text);
  if (!m) return undefined;
  let v = m[1].trim();
  if (v.startsWith('"') || v.startsWith("'")) {
    const q = v[0];
    const end = v.indexOf(q, 1);
    v = end > 0 ? v.slice(1, end) : v.slice(1);
  } else {
    v = v.replace(/\s+#.*$/, '').trim();
  }
  v = v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, name: string, def?: string) => {
    const val = env[name];
    return val !== undefined && val !== '' ? val : (def ?? '');
  });
  return v === '' ? undefined : v;
}

/** A path as a person would type it from here: `./.tend/tend.sock` inside the current folder, else absolute. */
export function shownPath(p: string, cwd = process.cwd()): string {
  const r = relative(cwd, p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? `./${r}` : p;
}
