import type { EventInput, TendEvent } from './types.js';

export type Listener = (event: TendEvent) => void;

export interface Bus {
  publish(event: EventInput): TendEvent;
  /** Listeners run synchronously and must not block: slow work belongs in the listener's own bounded queue. */
  subscribe(listener: Listener): () => void;
  /** the last `n` events, oldest first */
  recent(n?: number): TendEvent[];
  /** listeners that threw, counted instead of crashing the supervisor */
  readonly listenerErrors: number;
}

export function createBus(opts: { history?: number } = {}): Bus {
  const historySize = opts.history ?? 500;
  const listeners = new Set<Listener>();
  const history: TendEvent[] = [];
  let seq = 0;
  let listenerErrors = 0;
  return {
    publish(input) {
      const event = { ...input, time: new Date().toISOString(), seq: ++seq } as TendEvent;
      history.push(event);
      if (history.length > historySize) history.splice(0, history.length - historySize);
      for (const l of listeners) {
        try {
          l(event);
        } catch {
          listenerErrors++;
        }
      }
      return event;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    recent(n = historySize) {
      return history.slice(-n);
    },
    get listenerErrors() {
      return listenerErrors;
    },
  };
}
