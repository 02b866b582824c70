/**
 * The fleet status document: what one tend publishes about itself at `fleet/<app>/<host>` in its KV store (under
 * the URL's namespace), and how a reader decides whether an entry still stands for a live tend.
 */

/** where every tend of every app publishes: `fleet/<app>/<host>` */
export const FLEET_PREFIX = 'fleet/';
export const DEFAULT_TTL_MS = 15_000;

export interface FleetService {
  name: string;
  state: string;
  ready: boolean;
  pid?: number;
  restarts: number;
}

export interface FleetTemplate {
  service: string;
  destination: string;
  state: string;
  /** `sha256:<hex>` of the destination file as last rendered; absent until it is */
  hash?: string;
  /** ISO-8601 of the last write */
  rendered_at?: string;
}

/** a service's rollout (`rollout:`) in progress or last finished on this tend */
export interface FleetRollout {
  service: string;
  /** waiting (for a slot), applying (holds one; restarting or not ready yet), done, failed, skipped */
  phase: string;
  /** `sha256:<hex>` of the content rolled */
  hash: string;
  /** ISO-8601 of when the phase began */
  since: string;
  reason?: string;
}

export interface FleetDoc {
  /** the document's shape; a reader skips entries of a shape it does not know */
  schema: 1;
  app: string;
  host: string;
  /** one id per run of tend: two runs publishing under one name are told apart by it */
  instance: string;
  pid: number;
  version: string;
  state_dir: string;
  /** ISO-8601 */
  started_at: string;
  /** how long the entry outlives its tend: the lease's TTL (etcd), the age past which it is stale (file) */
  ttl_ms: number;
  app_state: string;
  services: FleetService[];
  templates: FleetTemplate[];
  /** services with `rollout:` that rolled a change in this run (absent when none did) */
  rollouts?: FleetRollout[];
  /** ISO-8601 of this version of the document (written only when something above changed) */
  updated_at: string;
}

export const fleetKey = (app: string, host: string) => `${fleetAppPrefix(app)}${segment(host)}`;
/** every tend of one app: `fleet/<app>/` */
export const fleetAppPrefix = (app: string) => `${FLEET_PREFIX}${segment(app)}/`;

/** a key segment: `/` would nest keys, and the file store refuses names starting with a dot */
function segment(s: string): string {
  const clean = s.replace(/[/\s]+/g, '_').replace(/^\.+/, '_');
  return clean === '' ? '_' : clean;
}

/** The document without its timestamp of writing: what decides whether it must be rewritten. */
export const contentOf = (doc: FleetDoc): string => JSON.stringify({ ...doc, updated_at: undefined });

/** A stored value as a FleetDoc, or an error saying what is wrong with it. */
export function parseFleetDoc(key: string, value: string): FleetDoc | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch (e) {
    return { error: `${key}: not JSON (${(e as Error).message})` };
  }
  if (typeof v !== 'object' || v === null) return { error: `${key}: not an object` };
  const d = v as Partial<FleetDoc>;
  if (d.schema !== 1) return { error: `${key}: unknown document schema ${String(d.schema)}` };
  if (typeof d.app !== 'string' || typeof d.host !== 'string' || !Array.isArray(d.services)) {
    return { error: `${key}: app, host or services missing` };
  }
  return {
    ...d,
    templates: Array.isArray(d.templates) ? d.templates : [],
    ttl_ms: typeof d.ttl_ms === 'number' ? d.ttl_ms : DEFAULT_TTL_MS,
  } as FleetDoc;
}
