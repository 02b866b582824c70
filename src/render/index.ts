/**
 * Config from the KV store, consul-template and envconsul style: the render loop of `tend up`, `tend render`,
 * `tend template`, env_from and the settings overlay. Backends live in src/kv, the template language in
 * src/template; this module decides when to render, what goes live, and what a change does to a service.
 *
 * Template data (`.`) in a manifest's templates:
 *   .App       the manifest's name
 *   .Service   the service the template belongs to
 *   .Settings  the effective settings (defaults ← files ← $CFG ← KV overlay), as `tend cfg get` prints them
 *   .Env       the service's environment: tend's own overlaid with the service's `env` (not env_from)
 * For `tend template FILE`, `.` is the JSON of --data (nil without it).
 *
 * Public API
 * - renderAttachment(): Attachment            plugs the loop into `tend up` (src/cli/commands.ts)
 * - createRenderLoop(opts) → RenderLoop       the loop itself; its status() is what a running tend shows
 * - renderAll(opts) → {outcomes, exitCode}    `tend render [--dry-run]`
 * - renderTemplateFile(opts)                  `tend template FILE [--data F]`
 * - stage / removeLeftovers / readCurrent     the checked writer: stage, check, commit
 * - envFromPairs / envName / envPrefix        envconsul's key → variable rules
 */
export { renderAttachment } from './attach.js';
export { envFromPairs, envName, envPrefix } from './envfrom.js';
export {
  CONFIG_GATE,
  createRenderLoop,
  type EnvFromStatus,
  type RenderLoop,
  type RenderLoopOptions,
  type RenderStatus,
  SETTINGS_GATE,
  type TemplateStatus,
  type UnitState,
} from './loop.js';
export {
  type RenderAllOptions,
  type RenderAllResult,
  type RenderOutcome,
  renderAll,
  renderTemplateFile,
  type TemplateFileOptions,
  type TemplateFileResult,
} from './once.js';
export { type Resolved, resolveTemplate } from './resolve.js';
export { createSnapshot, type Snapshot } from './snapshot.js';
export { readCurrent, removeLeftovers, type Staged, stage } from './write.js';
