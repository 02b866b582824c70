/**
 * Keeps one service's registration in step with what it should be: published while the service is ready,
 * maintenance mode is off and no stop has begun; withdrawn otherwise. Changes are applied one at a time, in
 * order, each reading the wanted state afresh (so a burst of changes costs at most one write per kind), and a
 * failed publish is retried with backoff while still wanted.
 */

import { backoffDelay, formatDuration } from '../time/index.js';
import type { InstanceStatus, Publication, Registration } from './types.js';

export interface RegistrarOptions {
  /** the registration (status, output and everything else); read at each publish */
  registration: () => Registration;
  publish: (reg: Registration) => Promise<Publication>;
  /** a line for the service's log */
  note?: (text: string) => void;
  /** where, for the log lines */
  where?: () => string;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export interface Conditions {
  ready: boolean;
  maintenance: boolean;
  stopping: boolean;
}

export interface Registrar {
  /** updates some conditions and applies the result */
  set(change: Partial<Conditions>): void;
  /** a health result: passing, or warning while failing below `failures` */
  health(status: InstanceStatus, output?: string): void;
  /** begins a stop: withdraws, resolving once the instance is no longer listed (or the attempt failed) */
  withdraw(): Promise<void>;
  published(): boolean;
  close(): Promise<void>;
}

export function createRegistrar(opts: RegistrarOptions): Registrar {
  const cond: Conditions = { ready: false, maintenance: false, stopping: false };
  let status: InstanceStatus = 'passing';
  let output: string | undefined;
  let pub: Publication | undefined;
  let pubStatus: { status: InstanceStatus; output?: string } | undefined;
  let chain: Promise<void> = Promise.resolve();
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;
  const note = opts.note ?? (() => {});
  const where = () => (opts.where ? ` (${opts.where()})` : '');

  const wanted = () => !closed && cond.ready && !cond.maintenance && !cond.stopping;

  const step = async () => {
    if (wanted() && !pub) {
      const reg = { ...opts.registration(), status, output };
      try {
        const p = await opts.publish(reg);
        attempt = 0;
        pub = p;
        pubStatus = { status, output };
        note(`registered ${reg.name} as ${reg.id}${where()}`);
        p.onLost(() => {
          if (pub !== p) return;
          pub = undefined;
          note(`registration ${reg.id} was lost (lease expired during an outage?); registering again`);
          kick();
        });
      } catch (err) {
        const delay = backoffDelay(attempt++, {
          initialMs: opts.retryInitialMs ?? 500,
          maxMs: opts.retryMaxMs ?? 10_000,
          jitter: 'none',
        });
        note(
          `could not register ${reg.name}${where()}: ${(err as Error).message}; retrying in ${formatDuration(delay)}`,
        );
        clearTimeout(retry);
        retry = setTimeout(kick, delay);
      }
    }
    if (!wanted() && pub) {
      const p = pub;
      pub = undefined;
      pubStatus = undefined;
      const reg = opts.registration();
      try {
        await p.withdraw();
        note(`deregistered ${reg.id}${cond.maintenance ? ' (maintenance)' : ''}`);
      } catch (err) {
        note(
          `could not deregister ${reg.id}${where()}: ${(err as Error).message}; it expires after its TTL (${Math.round(reg.ttlMs / 1000)}s)`,
        );
      }
      return;
    }
    if (wanted() && pub && pubStatus && (pubStatus.status !== status || pubStatus.output !== output)) {
      const next = { status, output };
      try {
        await pub.update(status, output);
        pubStatus = next;
      } catch (err) {
        note(`could not update the registration's status: ${(err as Error).message}`);
      }
    }
  };

  const kick = (): Promise<void> => {
    chain = chain.then(step, step);
    return chain;
  };

  return {
    set(change) {
      let changed = false;
      for (const k of Object.keys(change) as Array<keyof Conditions>) {
        const v = change[k];
        if (v !== undefined && cond[k] !== v) {
          cond[k] = v;
          changed = true;
        }
      }
      if (change.stopping === false && !cond.ready) {
        // a new process: its health starts over
        status = 'passing';
        output = undefined;
      }
      if (changed) void kick();
    },
    health(s, o) {
      if (s === status && o === output) return;
      status = s;
      output = o;
      if (pub) void kick();
    },
    withdraw() {
      cond.stopping = true;
      clearTimeout(retry);
      return kick();
    },
    published: () => pub !== undefined,
    async close() {
      closed = true;
      clearTimeout(retry);
      await kick();
    },
  };
}
