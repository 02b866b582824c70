/** The manifest loader: tend.yaml → Plan. Everything else reads the Plan, never the YAML. */
export { formatIssue, ManifestError, type ManifestIssue } from './errors.js';
export { formatPlan, planToJSON } from './format.js';
export { type Loaded, type LoadOptions, loadManifest, parseManifestText } from './load.js';
export { redactUrlsIn, redactWebhookUrl } from './redact.js';
export { type CommandPlanOptions, planForCommand, runStateDir } from './run.js';
export { EVENT_KINDS, jsonSchema } from './schema.js';
export type * from './types.js';
export { formatDuration, formatSize, parseDuration, parseSize, UnitError } from './units.js';
