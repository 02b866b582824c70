/**
 * The registry seen from outside a run, for `tend render` and `tend template` (the CLI reaches discovery only
 * through src/app): service instances, the service catalog and consul-template's catalog functions.
 */
export { type CatalogReader, openCatalogReader } from '../discovery/index.js';
