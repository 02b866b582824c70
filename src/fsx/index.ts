/**
 * File-system helpers where Node's own behaviour is wrong, or not careful enough, for a supervisor that runs
 * as root: `mkdir -p` that ends (make-dir.ts), and folders only tend's user controls (private-dir.ts).
 */
export { makeDir, makeDirSync } from './make-dir.js';
export { ensurePrivateDir, PrivateDirError } from './private-dir.js';
