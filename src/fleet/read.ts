/**
 * Reading the fleet: every status document under `fleet/` (or `fleet/<app>/`), and the table `tend fleet` prints.
 * On a file store an entry whose modification time is older than its TTL belongs to a tend that died without
 * cleaning up: it is left out (and counted), as etcd would have expired it.
 */
import type { KvBackend } from '../kv/index.js';
import type { FleetReading, Runtime } from '../runtime/index.js';
import { FLEET_PREFIX, type FleetDoc, fleetAppPrefix, parseFleetDoc } from './doc.js';
import { enabled, unsupported } from './publish.js';

export interface FleetEntry extends FleetDoc {
  key: string;
}

export interface FleetView {
  entries: FleetEntry[];
  /** file stores: entries past their TTL, left out */
  stale: string[];
  /** values under fleet/ that are not status documents */
  errors: string[];
}

export class FleetUnsupported extends Error {}

export async function readFleet(
  kv: KvBackend,
  opts: { app?: string; now?: number } = {},
): Promise<FleetView> {
  const why = unsupported({ kv });
  if (why) throw new FleetUnsupported(`the fleet view is not available on ${why}`);
  const prefix = opts.app === undefined ? FLEET_PREFIX : fleetAppPrefix(opts.app);
  const now = opts.now ?? Date.now();
  const view: FleetView = { entries: [], stale: [], errors: [] };
  for (const pair of await kv.list(prefix)) {
    const doc = parseFleetDoc(pair.key, pair.value);
    if ('error' in doc) {
      view.errors.push(doc.error);
      continue;
    }
    if (kv.modifiedAt) {
      const at = await kv.modifiedAt(pair.key);
      if (at === undefined) continue; // removed meanwhile
      if (now - at > doc.ttl_ms) {
        view.stale.push(pair.key);
        continue;
      }
    }
    view.entries.push({ ...doc, key: pair.key });
  }
  return view;
}

/**
 * The fleet as a running tend serves it (`GET /api/fleet`, the dashboard): `readFleet` of one app (`undefined`:
 * every app), whether this tend publishes, and a store that cannot hold the view as a plain answer rather than an
 * error (the page says so). A store that does not answer still throws.
 */
export async function fleetReading(
  rt: Pick<Runtime, 'kv' | 'env' | 'plan'>,
  opts: { app?: string },
): Promise<FleetReading> {
  const why = unsupported(rt);
  const base = {
    ...(opts.app !== undefined ? { app: opts.app } : {}),
    publishing: why === undefined && Boolean(rt.plan.file) && enabled(rt),
    self: { pid: process.pid, state_dir: rt.plan.stateDir },
  };
  if (why !== undefined) {
    return {
      ...base,
      unsupported: `the fleet view is not available on ${why}`,
      entries: [],
      stale: [],
      errors: [],
    };
  }
  return { ...base, ...(await readFleet(rt.kv, { app: opts.app })) };
}

const short = (hash: string | undefined) => (hash ? hash.replace(/^sha256:/, '').slice(0, 12) : '-');

/** One line per tend: app, host, version, app state, services (name=state), templates (destination@hash). */
export function formatFleet(view: FleetView): string {
  const rows = [['APP', 'HOST', 'VERSION', 'STATE', 'SERVICES', 'CONFIG']];
  for (const e of view.entries) {
    rows.push([
      e.app,
      e.host,
      e.version,
      e.app_state,
      e.services.map((s) => `${s.name}=${s.state}${s.ready ? '' : ' (not ready)'}`).join(', ') || '-',
      e.templates.map((t) => `${t.destination}@${short(t.hash)}`).join(', ') || '-',
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const lines = rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  if (view.entries.length === 0) {
    lines.push(
      '(no tend publishes in this store; tends publish only with TEND_FLEET=on in their environment)',
    );
  }
  if (view.stale.length > 0) {
    lines.push(`${view.stale.length} stale entr${view.stale.length === 1 ? 'y' : 'ies'} left out (past TTL)`);
  }
  for (const e of view.errors) lines.push(`skipped: ${e}`);
  return `${lines.join('\n')}\n`;
}
