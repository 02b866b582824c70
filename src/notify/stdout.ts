import { once } from 'node:events';
import { createConsoleLines, describeEvent, type TendEvent } from '../events/index.js';
import { humanLine } from './format.js';
import type { Outcome } from './runner.js';

/**
 * The sink's text of one event in tend's console format: the console's own line where it has one (a crash
 * and its restart grouped), else, for what the console keeps quiet but the sink was asked for (health,
 * stats, maintenance, …), the human line without its `[tend]`.
 */
function consoleFormat(line: (text: string) => string) {
  const consoleLine = createConsoleLines();
  return (e: TendEvent): string => {
    if (describeEvent(e) !== undefined) {
      const text = consoleLine(e);
      return text === undefined ? '' : line(text);
    }
    consoleLine(e);
    return line(humanLine(e).replace(/^\[tend\] /, ''));
  };
}

/**
 * Human lines on tend's stdout. Respects backpressure: while a pipe reader (docker's log driver) is slow,
 * lines wait in the sink's bounded queue instead of piling up unbounded inside the stream.
 */
export function stdoutDeliver(
  stream: NodeJS.WritableStream,
  before?: () => void,
  tendLine?: (text: string) => string,
) {
  const format = tendLine ? consoleFormat(tendLine) : (e: TendEvent) => `${humanLine(e)}\n`;
  let broken: string | undefined;
  // An EPIPE on a stream nobody listens to would crash tend; here it only makes the sink fail.
  const onError = (err: Error) => {
    broken = err.message;
  };
  stream.on('error', onError);
  return {
    async deliver(events: TendEvent[], signal: AbortSignal): Promise<Outcome> {
      if (broken) return { ok: false, retry: false, error: `stdout is unusable: ${broken}` };
      const text = events.map(format).join('');
      if (text === '') return { ok: true };
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
