import { once } from 'node:events';
import type { TendEvent } from '../events/index.js';
import { humanLine } from './format.js';
import type { Outcome } from './runner.js';

/**
 * Human lines on tend's stdout. Respects backpressure: while a pipe reader (docker's log driver) is slow,
 * lines wait in the sink's bounded queue instead of piling up unbounded inside the stream.
 */
export function stdoutDeliver(stream: NodeJS.WritableStream, before?: () => void) {
  let broken: string | undefined;
  // An EPIPE on a stream nobody listens to would crash tend; here it only makes the sink fail.
  const onError = (err: Error) => {
    broken = err.message;
  };
  stream.on('error', onError);
  return {
    async deliver(events: TendEvent[], signal: AbortSignal): Promise<Outcome> {
      if (broken) return { ok: false, retry: false, error: `stdout is unusable: ${broken}` };
      const text = `${events.map(humanLine).join('\n')}\n`;
      before?.();
      if (!stream.write(text)) {
        try {
          await once(stream, 'drain', { signal });
        } catch {
          // Aborted at close: the text is already in the stream's buffer.
        }
      }
      return { ok: true };
    },
    dispose() {
      stream.off('error', onError);
    },
  };
}
