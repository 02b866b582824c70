/**
 * `tend cfg get db.port`, `servers.0.host`. A leading dot is accepted for people used to `.Settings.db` in
 * templates. Returns undefined for a missing path; the CLI turns that into exit 1 with a message, since a
 * JSON `null` is a legitimate value and must stay distinguishable from "not there".
 */
export function getPath(value: unknown, dotted?: string): unknown {
  if (dotted === undefined) return value;
  const path = dotted.startsWith('.') ? dotted.slice(1) : dotted;
  if (path === '') return value;
  let cur = value;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (cur !== null && typeof cur === 'object') {
      if (!Object.hasOwn(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    } else {
      return undefined;
    }
  }
  return cur;
}
