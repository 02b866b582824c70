/**
 * The fleet view: each `tend up` publishes a small status document in its KV store (publish.ts), and `tend fleet`
 * lists them (read.ts). About tends, not services: discovery is where services are found. docs/fleet.md.
 */
export {
  DEFAULT_TTL_MS,
  FLEET_PREFIX,
  type FleetDoc,
  type FleetService,
  type FleetTemplate,
  fleetAppPrefix,
  fleetKey,
  parseFleetDoc,
} from './doc.js';
export { fleetModule, unsupported } from './publish.js';
export {
  type FleetEntry,
  FleetUnsupported,
  type FleetView,
  fleetReading,
  formatFleet,
  readFleet,
} from './read.js';
// the rollout's semaphore: a library only, not wired into tend up (docs/fleet.md, "Planned")
export { type AcquireOptions, acquireSlot, SemaphoreError, type Slot } from './semaphore.js';
