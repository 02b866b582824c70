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
 * - renderModule(): RenderModule              the loop as a Module of `tend up` (src/app/run.ts); its
 *                                             status() is the run's `rt.renderStatus()`
 * - discoverySource(discovery, onChange)      discovery as the template `service`/`services` source
 * - withCatalog(snapshot, catalog)            the registry as the catalog source of `tend render`/`template`
 * - createRenderLoop(opts) → RenderLoop       the loop itself (tests, embedding)
 * - renderAll(opts) → {outcomes, exitCode}    `tend render [--dry-run]`
 * - renderTemplateFile(opts)                  `tend template FILE [--data F]`
 * - checkTemplateSources(plan)                `tend check`: every readable template source parsed
 * - stage / removeLeftovers / readCurrent     the checked writer: stage, check, commit
 * - envFromPairs / envName / envPrefix        envconsul's key → variable rules
 */
export { type RenderModule, renderModule } from './attach.js';
export { type CatalogReader, withCatalog } from './catalog-source.js';
export { type DiscoverySource, discoverySource } from './discovery-source.js';
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
export { checkTemplateSources, type SourceCheck, templateErrorText } from './unit.js';
export { readCurrent, removeLeftovers, type Staged, stage } from './write.js';
