export { type Bus, createBus, type Listener } from './bus.js';
export { createConsoleLines, describeEvent } from './describe.js';
export type * from './types.js';
