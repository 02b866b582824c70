/**
 * What every module of `tend up` is handed, and the one shape a module has. Types only (plus `EXIT` and
 * `StartError`, which every module may throw or return): this folder sits low in the tree, imports nothing but
 * types of the low libraries, and is what lets the plug-in modules (control, render, health, discovery, guard,
 * the live view) meet without importing each other. `src/app` builds the one Runtime of a run and wires the
 * modules to it; see ARCHITECTURE.md for the allowed arrows.
 */
export { anotherTendMessage, EXIT, type ExitCode, ReloadError, StartError } from './exit.js';
export type * from './types.js';
export { VERSION } from './version.js';
