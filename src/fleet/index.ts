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
// rolling config changes (`rollout:`): the module whose `apply` src/app/run.ts wires to `rt.rollout`
export {
  failedKey,
  READY_UPTIME_MS,
  ROLLOUT_PREFIX,
  type RolloutModule,
  rolloutModule,
  rolloutPrefix,
  rolloutProblems,
} from './rollout.js';
export {
  type AcquireOptions,
  acquireSlot,
  SemaphoreError,
  type Slot,
  semaphoreUnsupported,
} from './semaphore.js';
