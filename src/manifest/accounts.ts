/**
 * `user:` of a service, resolved against the machine's account database (`/etc/passwd`, `/etc/group`) when the
 * manifest loads, so that `tend check` refuses a user that does not exist, with its position, before anything
 * starts. Forms: `name`, `name:group`, `uid`, `uid:gid` (numeric ids need no entry, as in Docker and
 * systemd; such a user's HOME is `/`).
 */
import { readFileSync } from 'node:fs';

/** Who a service and every child of it (probes, checks, on_change exec, finish) run as. */
export interface RunAs {
  /** as written in the manifest */
  spec: string;
  /** the account's name, or the uid as text when it has none */
  name: string;
  uid: number;
  gid: number;
  /** supplementary groups: the groups of /etc/group that list the user, plus its primary group */
  groups: number[];
  home: string;
}

export interface AccountFiles {
  passwd: string;
  group: string;
}

const DEFAULT_FILES: AccountFiles = { passwd: '/etc/passwd', group: '/etc/group' };

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function lines(path: string): string[][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

function passwd(files: AccountFiles): PasswdEntry[] {
  return lines(files.passwd)
    .filter((f) => f.length >= 7)
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' }));
}

function groups(files: AccountFiles): GroupEntry[] {
  return lines(files.group)
    .filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0], gid: Number(f[2]), members: f[3] ? f[3].split(',') : [] }));
}

const isId = (s: string) => /^\d+$/.test(s);

/** The names a misspelt one may have meant (for the manifest's did-you-mean). */
export function accountNames(kind: 'user' | 'group', files: AccountFiles = DEFAULT_FILES): string[] {
  return kind === 'user' ? passwd(files).map((p) => p.name) : groups(files).map((g) => g.name);
}

/**
 * Resolves `spec`; returns an error text (without position) when the user or group does not exist. The error
 * names the file it looked in, so an operator knows where to add the account.
 */
export function resolveRunAs(spec: string, files: AccountFiles = DEFAULT_FILES): RunAs | { error: string } {
  const [userPart, groupPart, ...rest] = spec.split(':');
  if (rest.length > 0 || userPart === '' || groupPart === '') {
    return { error: `"${spec}" is not a user: write name, name:group, uid or uid:gid` };
  }
  const users = passwd(files);
  let entry: PasswdEntry | undefined;
  if (isId(userPart)) entry = users.find((u) => u.uid === Number(userPart));
  else {
    entry = users.find((u) => u.name === userPart);
    if (!entry) return { error: `no user "${userPart}" in ${files.passwd}` };
  }
  const uid = entry?.uid ?? Number(userPart);
  const name = entry?.name ?? userPart;
  let gid = entry?.gid ?? uid;
  const all = groups(files);
  if (groupPart !== undefined) {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const g = all.find((x) => x.name === groupPart);
      if (!g) return { error: `no group "${groupPart}" in ${files.group}` };
      gid = g.gid;
    }
  }
  const supplementary = entry ? all.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  return {
    spec,
    name,
    uid,
    gid,
    groups: [...new Set([gid, ...supplementary])],
    home: entry?.home ?? '/',
  };
}
