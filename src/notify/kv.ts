import type { TendEvent } from '../events/index.js';
import { withTimeout } from '../time/index.js';
import { payload, serviceOf } from './format.js';
import type { Outcome } from './runner.js';

export type KvPut = (key: string, value: string) => Promise<void>;

/** `lifecycle/{service}` → `lifecycle/web`; app-wide events use the app name for {service}. */
export function expandKey(template: string, event: TendEvent, app: string): string {
  return template.replaceAll('{service}', serviceOf(event) ?? app).replaceAll('{app}', app);
}

const PUT_TIMEOUT_MS = 10_000;

export function kvDeliver(
  template: string,
  app: string,
  host: string,
  kvPut: KvPut | undefined,
  warn: (message: string) => void,
) {
  let warned = false;
  return async (events: TendEvent[]): Promise<Outcome> => {
    if (!kvPut) {
      const error = 'no KV store is connected to notify; events for this sink are not delivered';
      if (!warned) warn(error);
      warned = true;
      return { ok: false, retry: false, error, quiet: true };
    }
    const event = events[0];
    try {
      // A hung store must not stall the sink forever; the put itself cannot be cancelled.
      await withTimeout(kvPut(expandKey(template, event, app), payload(event, app, host)), PUT_TIMEOUT_MS);
      return { ok: true };
    } catch (err) {
      // A KV outage is temporary by design (tend reconnects): keep the order and try again.
      return { ok: false, retry: true, error: `KV put failed: ${(err as Error)?.message ?? String(err)}` };
    }
  };
}
