/**
 * The listening sockets of every service (`listen:`), held by the stack for tend's whole life: bound when a
 * service is added, kept while a service with that address exists — across its restarts and across reloads
 * that replace its runner — and closed only once no service lists the address any more (or tend ends).
 */
import type { ServicePlan } from '../manifest/types.js';
import {
  adoptInheritedSockets,
  bindSocket,
  type HeldSocket,
  MAX_SOCKETS_PER_SERVICE,
  SocketError,
} from '../procs/index.js';

export interface SocketHolder {
  /** binds what `sp.listen` lists and is not held yet; throws a SocketError (nothing new kept) on failure */
  acquire(sp: ServicePlan): { fds: number[]; names: string[] } | undefined;
  /**
   * Binds, ahead of a reload, the addresses of these services that nobody holds yet, unowned until `acquire`
   * takes them: a bind that fails throws before the reload has stopped anything (and keeps nothing new).
   */
  reserve(sps: ServicePlan[]): void;
  /** the service is gone: its sockets wait for `release` (or a new service listing them) */
  orphan(service: string): void;
  /** closes the sockets of services that are gone */
  release(): void;
  list(): Array<{ address: string; service: string; fd: number }>;
  closeAll(): void;
}

export function createSocketHolder(): SocketHolder {
  adoptInheritedSockets();
  /** by address: one address is one socket, whichever service holds it */
  const held = new Map<string, { socket: HeldSocket; owner: string | undefined }>();

  return {
    acquire(sp) {
      const listen = sp.listen ?? [];
      if (listen.length === 0) return undefined;
      if (listen.length > MAX_SOCKETS_PER_SERVICE) {
        throw new SocketError(
          `service "${sp.name}" lists ${listen.length} sockets; at most ${MAX_SOCKETS_PER_SERVICE}`,
        );
      }
      for (const l of listen) {
        const h = held.get(l.address);
        if (h?.owner !== undefined && h.owner !== sp.name) {
          throw new SocketError(
            `cannot listen on ${l.address} for service "${sp.name}": service "${h.owner}" listens there already; one address belongs to one service`,
          );
        }
      }
      const fresh: HeldSocket[] = [];
      const fds: number[] = [];
      try {
        for (const l of listen) {
          const h = held.get(l.address);
          if (h) {
            h.socket.update(l);
            fds.push(h.socket.fd);
          } else {
            const socket = bindSocket(l, sp.name);
            fresh.push(socket);
            fds.push(socket.fd);
          }
        }
      } catch (err) {
        for (const s of fresh) s.close();
        throw err;
      }
      for (const s of fresh) held.set(s.address, { socket: s, owner: sp.name });
      for (const l of listen) {
        const h = held.get(l.address);
        if (h) h.owner = sp.name;
      }
      return { fds, names: listen.map((l) => l.name) };
    },
    reserve(sps) {
      const fresh: HeldSocket[] = [];
      try {
        for (const sp of sps) {
          for (const l of sp.listen ?? []) {
            if (held.has(l.address) || fresh.some((f) => f.address === l.address)) continue;
            fresh.push(bindSocket(l, sp.name));
          }
        }
      } catch (err) {
        for (const f of fresh) f.close();
        throw err;
      }
      for (const f of fresh) held.set(f.address, { socket: f, owner: undefined });
    },
    orphan(service) {
      for (const h of held.values()) if (h.owner === service) h.owner = undefined;
    },
    release() {
      for (const [address, h] of held) {
        if (h.owner !== undefined) continue;
        h.socket.close();
        held.delete(address);
      }
    },
    list: () =>
      [...held.values()].flatMap((h) =>
        h.owner === undefined ? [] : [{ address: h.socket.address, service: h.owner, fd: h.socket.fd }],
      ),
    closeAll() {
      for (const h of held.values()) h.socket.close();
      held.clear();
    },
  };
}
