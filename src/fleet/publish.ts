/**
 * The fleet module of `tend up`: publishes this tend's status document (doc.ts) in the run's KV store and keeps it
 * there while tend runs, and only as long as it runs.
 *
 * - Written when something in it changes (an app, service, health or config event makes it rebuilt and compared;
 *   bursts are coalesced), never at rest: at rest the only traffic is the keep-alive.
 * - etcd: the key is bound to a lease (TTL `TEND_FLEET_TTL_MS`, default 15 s) that the client keeps alive; a tend
 *   that dies or loses the store for longer than the TTL disappears from the fleet. A lease lost in an outage is
 *   granted again and the document rewritten once the store answers.
 * - Only with TEND_FLEET=on (see `enabled`).
 * - file (folder stores): the file's modification time is refreshed every TTL/3 (`touch`, no rewrite); readers
 *   take an entry older than its TTL for a dead tend. A clean stop deletes it.
 * - Consul: the lease is a session (TTL, `Behavior: delete`, renewed by the backend at half its TTL) and the key
 *   is written with `?acquire=<session>`, so Consul deletes it when the session ends: at once on a clean stop (the
 *   session is destroyed), after the TTL (Consul may take up to twice it) when the tend dies. A session Consul
 *   invalidated behind our back is noticed at the next renewal (404) and replaced, like a lost etcd lease.
 *   Consul's shortest TTL is 10 s: a shorter TEND_FLEET_TTL_MS is rounded up there.
 * - file stores that are one YAML/JSON document: not supported (nothing is written).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Lease } from '../kv/index.js';
import { type Module, type Runtime, VERSION } from '../runtime/index.js';
import { contentOf, DEFAULT_TTL_MS, type FleetDoc, type FleetTemplate, fleetKey } from './doc.js';

/** why this store gets no document, or undefined when it does */
export function unsupported(rt: Pick<Runtime, 'kv'>): string | undefined {
  switch (rt.kv.kind) {
    case 'etcd':
    case 'consul':
      return undefined;
    case 'file':
      return rt.kv.touch ? undefined : 'a file store that is one YAML/JSON document (use a folder)';
  }
}

/** TEND_FLEET_TTL_MS, else the default; at least 1 s (etcd's lease granularity) */
function ttlOf(env: NodeJS.ProcessEnv): number {
  const n = Number(env.TEND_FLEET_TTL_MS);
  return Number.isFinite(n) && n > 0 ? Math.max(1000, Math.round(n)) : DEFAULT_TTL_MS;
}

/**
 * TEND_FLEET=on opts in, on every store: tend writes nothing into an operator's store unasked (a file store is
 * usually a folder of the project edited by hand), and the fleet view is young (docs/fleet.md).
 */
export function enabled(rt: Pick<Runtime, 'env'>): boolean {
  const v = rt.env.TEND_FLEET?.trim().toLowerCase();
  return v === 'on' || v === '1' || v === 'true';
}

/** `rollouts`: the rollout module of the run, whose phase changes make the document rebuilt */
export function fleetModule(rollouts?: { onChange(cb: () => void): () => void }): Module {
  return {
    name: 'fleet',
    async attach(rt) {
      // `tend run` (no manifest) is a one-off, not a member of a fleet
      if (!rt.plan.file || !enabled(rt) || unsupported(rt) !== undefined) return undefined;
      return startPublisher(rt, rollouts);
    },
  };
}

async function startPublisher(rt: Runtime, rollouts?: { onChange(cb: () => void): () => void }) {
  const kv = rt.kv;
  const ttlMs = ttlOf(rt.env);
  const host = rt.env.TEND_FLEET_NAME?.trim() || hostname();
  const key = fleetKey(rt.plan.name, host);
  const base = {
    schema: 1 as const,
    app: rt.plan.name,
    host,
    instance: randomBytes(6).toString('hex'),
    pid: process.pid,
    version: VERSION,
    state_dir: rt.plan.stateDir,
    started_at: new Date(rt.control.startedAt).toISOString(),
    ttl_ms: ttlMs,
  };
  /** content hash per destination, computed again only when its render time changes */
  const hashes = new Map<string, { at: number; hash?: string }>();
  let lease: Lease | undefined;
  let written: string | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let warnedCollision = false;
  let warnedHeld = false;
  let retryAttempt = 0;

  const say = (text: string) => rt.out.write(`tend | fleet: ${text}\n`);

  const hashOf = async (destination: string, renderedAt: number | undefined) => {
    if (renderedAt === undefined) return undefined;
    const known = hashes.get(destination);
    if (known && known.at === renderedAt) return known.hash;
    const file = isAbsolute(destination) ? destination : resolve(rt.plan.dir, destination);
    let hash: string | undefined;
    try {
      hash = `sha256:${createHash('sha256')
        .update(await readFile(file))
        .digest('hex')}`;
    } catch {
      hash = undefined; // removed meanwhile: the next render sets it again
    }
    hashes.set(destination, { at: renderedAt, hash });
    return hash;
  };

  const build = async (): Promise<FleetDoc> => {
    const templates: FleetTemplate[] = [];
    for (const t of rt.renderStatus()?.templates ?? []) {
      const hash = await hashOf(t.destination, t.renderedAt);
      templates.push({
        service: t.service,
        destination: t.destination,
        state: t.state,
        ...(hash ? { hash } : {}),
        ...(t.renderedAt !== undefined ? { rendered_at: new Date(t.renderedAt).toISOString() } : {}),
      });
    }
    const rollouts = rt.rolloutStatus().map((r) => ({
      service: r.service,
      phase: r.phase,
      hash: r.hash,
      since: new Date(r.since).toISOString(),
      ...(r.reason ? { reason: r.reason } : {}),
    }));
    return {
      ...base,
      app_state: rt.appState(),
      services: rt.stack.status().map((s) => ({
        name: s.name,
        state: s.state,
        ready: s.ready,
        ...(s.pid !== undefined ? { pid: s.pid } : {}),
        restarts: s.restarts,
      })),
      templates,
      ...(rollouts.length > 0 ? { rollouts } : {}),
      updated_at: new Date().toISOString(),
    };
  };

  /** Says once if another live tend publishes under the same name (it would overwrite this one's entry). */
  const checkCollision = async () => {
    if (warnedCollision) return;
    warnedCollision = true;
    const prev = await kv.get(key).catch(() => undefined);
    if (prev === undefined) return;
    try {
      const d = JSON.parse(prev) as Partial<FleetDoc>;
      if (d.state_dir !== base.state_dir) {
        say(
          `another tend (state_dir ${d.state_dir}) publishes as ${host} for app ${base.app}; ` +
            'give each tend on a host its own TEND_FLEET_NAME',
        );
      }
    } catch {
      // not ours to judge: it is overwritten
    }
  };

  const publishOnce = async () => {
    const doc = await build();
    const content = contentOf(doc);
    if (content === written) return;
    if (lease === undefined) {
      await checkCollision();
      const l = await kv.grantLease(ttlMs);
      l.onLost(() => {
        if (lease !== l) return;
        // expired in an outage: the key is gone; grant again and rewrite once the store answers
        lease = undefined;
        written = undefined;
        schedule(0);
      });
      lease = l;
    }
    await kv.put(key, JSON.stringify(doc), { lease });
    written = content;
    retryAttempt = 0;
  };

  const run = () => {
    if (running) {
      again = true;
      return;
    }
    running = publishOnce()
      .catch((e: unknown) => {
        // Refused while the store answers (etcd: "requested lease not found", the lease expired behind our
        // back): that lease is dead, take a new one. Unreachable: keep it (an outage shorter than the TTL
        // must not drop the entry) and try again with backoff; the render loop reports the outage.
        const code = (e as { code?: string }).code;
        if (code === 'conflict' && kv.kind === 'consul') {
          // Consul: the key is held by another tend's session (the same name twice); our session is fine, and
          // a new one would be refused the same way (and leak one session per retry): keep it and try later
          if (!warnedHeld) {
            warnedHeld = true;
            say(
              `${key} is held by another tend's session (another tend publishes as ${host}); ` +
                'give each tend on a host its own TEND_FLEET_NAME',
            );
          }
        } else if (code !== 'unavailable' && lease !== undefined) {
          const dead = lease;
          lease = undefined;
          written = undefined;
          // refused leases are gone already; anything else must not stay alive (renewed) unused
          void dead.revoke().catch(() => {});
        }
        retryAttempt++;
        schedule(Math.min(5_000, 250 * 2 ** Math.min(retryAttempt, 5)));
      })
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          run();
        }
      });
  };

  /** coalesces bursts (a restart is several events) into one rebuild; an earlier request wins over a later */
  let due = 0;
  const schedule = (delayMs = 100) => {
    if (closed) return;
    if (timer && due <= Date.now() + delayMs) return;
    if (timer) clearTimeout(timer);
    due = Date.now() + delayMs;
    timer = setTimeout(() => {
      timer = undefined;
      if (!closed) run();
    }, delayMs);
  };

  /**
   * Back from an outage: the lease may have expired meanwhile (and the client may not know it yet). Read the
   * key (a read, not a write); if the entry is gone or not this run's, write it again, under a new lease if the
   * old one is refused.
   */
  const verify = async () => {
    try {
      const value = await kv.get(key);
      const mine = value !== undefined && (JSON.parse(value) as Partial<FleetDoc>).instance === base.instance;
      if (!mine) {
        written = undefined;
        schedule(0);
      }
    } catch {
      schedule(1000);
    }
  };
  let wasDown = false;
  const unStatus = kv.onStatus((st) => {
    if (!st.connected) wasDown = true;
    else if (wasDown) {
      wasDown = false;
      void verify();
    }
  });

  const unsubscribe = rt.bus.subscribe((e) => {
    if (e.kind === 'app' || e.kind === 'service' || e.kind === 'health' || e.kind === 'config') schedule();
  });
  const offRollouts = rollouts?.onChange(() => schedule());
  // file folders: the keep-alive is the file's modification time
  const touch = kv.touch;
  const keepAlive =
    kv.kind === 'file' && touch
      ? setInterval(
          () => {
            if (written !== undefined) touch(key).catch(() => schedule(0));
          },
          Math.max(1000, Math.floor(ttlMs / 3)),
        )
      : undefined;
  keepAlive?.unref();
  schedule(0);

  return {
    async close() {
      closed = true;
      unsubscribe();
      offRollouts?.();
      unStatus();
      if (timer) clearTimeout(timer);
      if (keepAlive) clearInterval(keepAlive);
      await running;
      // a clean stop leaves the fleet at once instead of after the TTL
      await lease?.revoke().catch(() => {});
    },
  };
}
