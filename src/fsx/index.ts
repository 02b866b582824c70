/**
 * File-system helpers where Node's own behaviour is wrong, or not careful enough, for a supervisor that runs
 * as root: `mkdir -p` that ends (make-dir.ts), folders only tend's user controls (private-dir.ts), and the one
 * atomic writer (`writeFileAtomic`, atomic.ts: the temp file has its final mode and owner before a byte).
 */
export { type AtomicWriteOptions, tempPathFor, writeFileAtomic } from './atomic.js';
export { makeDir, makeDirSync } from './make-dir.js';
export { ensurePrivateDir, PrivateDirError } from './private-dir.js';
