export type { KvPut } from './kv.js';
export { createNotifier, DEFAULT_QUEUE, type Notifier, type NotifierOptions } from './notifier.js';
export type { SinkStats } from './runner.js';
