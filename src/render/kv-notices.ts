/**
 * What the KV store says about itself beyond key changes and outages (`KvNotice`): one `config` event each, which
 * tend prints as one line (or its stdout sink does). Apart from the loop on purpose: the backend has already
 * delivered what a reset re-read through the watch callbacks, like any change, so the loop renders on its own;
 * this only lets the operator know. Backends report each occurrence once, so there is nothing to rate-limit.
 */
import type { Bus } from '../events/index.js';
import type { KvBackend } from '../kv/index.js';

export function publishKvNotices(kv: KvBackend, bus: Pick<Bus, 'publish'>): () => void {
  const off = kv.onNotice?.((n) => {
    switch (n.kind) {
      case 'reset':
        bus.publish({ kind: 'config', action: 'resync', reason: n.message });
        return;
      case 'oversize':
        bus.publish({ kind: 'config', action: 'error', reason: n.message });
        return;
      default: {
        const never: never = n;
        return never;
      }
    }
  });
  return off ?? (() => {});
}
