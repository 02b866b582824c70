export { type Bus, createBus, type Listener } from './bus.js';
export type * from './types.js';
