/**
 * Echo of every service's lines on tend's stdout, `service | text` (docker logs). tend's stdout may be a pipe
 * that nobody reads fast enough; a supervisor must not grow without bound or stall because of it, so the echo
 * keeps a bounded queue and drops (and counts) lines while the pipe is full. The log files are unaffected.
 * A service's control characters are shown escaped (escape.ts): it cannot draw on the operator's terminal.
 */
import { escapeControls } from './escape.js';
import type { EchoTarget, LogStream } from './types.js';

export interface Echo extends EchoTarget {
  /** lines dropped so far, all services together */
  dropped(): number;
  /**
   * Queues one of tend's own lines (`tend | web ready`), aligned with the services' prefixes and dimmed on a
   * TTY. Never dropped: tend's lines are few and they are what an operator reads first.
   */
  tend(text: string): void;
  /** The text `tend(text)` would queue, for a writer that keeps its own queue (the stdout notify sink). */
  tendLine(text: string): string;
  /**
   * Makes the lines other parts of tend write straight to `out` as `tend | text` look like `tend(text)`'s:
   * aligned and dimmed. Wraps `out.write` once; call it before anything else wraps it (the live view).
   */
  adoptTendLines(): void;
  /**
   * Writes the queued lines now rather than at the end of this turn of the event loop: tend's own line about
   * a service (e.g. that it exited) then comes after what the service printed before, not ahead of it.
   */
  flush(): void;
}

export interface EchoOptions {
  /** colour the prefix per service; default: `out` is a TTY and NO_COLOR is unset or empty */
  color?: boolean;
  /** text held while `out` is full before lines are dropped, in UTF-16 units (default 1 Mi) */
  maxQueued?: number;
  /**
   * The names that will print, in the order of their colours (the services in start order, then stages):
   * prefixes are padded to the longest from the first line on, and a service keeps its colour whatever prints
   * first. A name not listed still prints, widening the prefixes from then on.
   */
  names?: readonly string[];
}

/** ANSI colours of the service prefixes, in order; the dashboard's log view maps them to the same colours. */
export const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

/** The colour of the `i`th name (start order), as an ANSI code: the echo and the dashboard agree on it. */
export function colourOf(index: number): number {
  return PALETTE[index % PALETTE.length];
}

/** tend's own name in the echo: its lines carry this prefix. */
export const TEND_LABEL = 'tend';

// Text collected during one turn of the event loop goes out as one write; a burst goes out in pieces this big.
const BATCH = 64 * 1024;

export function createEcho(out: NodeJS.WritableStream = process.stdout, opts: EchoOptions = {}): Echo {
  const tty = (out as { isTTY?: boolean }).isTTY === true;
  const color = opts.color ?? (tty && !process.env.NO_COLOR);
  const maxQueued = opts.maxQueued ?? 1024 * 1024;
  const prefixes = new Map<string, string>();
  const colours = new Map<string, number>();
  // with the names known, tend's own prefix lines up with theirs from the first line
  let width = opts.names ? TEND_LABEL.length : 0;
  for (const n of opts.names ?? []) {
    width = Math.max(width, n.length);
    if (!colours.has(n)) colours.set(n, colourOf(colours.size));
  }
  let queue = '';
  let blocked = false;
  let broken = false;
  let scheduled = false;
  let dropped = 0;
  let droppedSinceDrain = 0;

  function prefix(service: string): string {
    let p = prefixes.get(service);
    if (p !== undefined) return p;
    if (service.length > width) {
      // names line up on the longest one seen so far
      width = service.length;
      prefixes.clear();
    }
    const label = `${service.padEnd(width)} |`;
    if (service === TEND_LABEL) p = color ? `\x1b[2m${label}` : `${label} `;
    else {
      if (!colours.has(service)) colours.set(service, colourOf(colours.size));
      p = color ? `\x1b[${colours.get(service)}m${label}\x1b[0m ` : `${label} `;
    }
    prefixes.set(service, p);
    return p;
  }

  /** A dimmed line keeps its dimming to the end: the prefix opens it, the reset closes it. */
  function tendLine(text: string): string {
    const body = escapeControls(text);
    return color ? `${prefix(TEND_LABEL)} ${body}\x1b[0m\n` : `${prefix(TEND_LABEL)}${body}\n`;
  }

  function schedule(): void {
    if (blocked) return;
    if (queue.length >= BATCH) send();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(send);
    }
  }

  function send(): void {
    scheduled = false;
    if (blocked || broken || queue.length === 0) return;
    const q = queue;
    queue = '';
    if (!out.write(q)) {
      blocked = true;
      out.once('drain', onDrain);
    }
  }

  function onDrain(): void {
    blocked = false;
    if (droppedSinceDrain > 0) {
      queue += tendLine(
        `${droppedSinceDrain} lines were not echoed (stdout too slow); log files are complete`,
      );
      droppedSinceDrain = 0;
    }
    send();
  }

  out.on('error', () => {
    // EPIPE and the like: tend's stdout is gone, the services are not
    broken = true;
    queue = '';
  });

  return {
    write(service: string, _stream: LogStream, text: string): boolean {
      if (broken || (blocked && queue.length >= maxQueued)) {
        dropped++;
        droppedSinceDrain++;
        return false;
      }
      queue += prefix(service) + escapeControls(text) + '\n';
      schedule();
      return true;
    },
    tend(text: string): void {
      if (broken) return;
      // written at once, with what the services printed before it, as tend's lines always were: the last ones
      // (STOPPED) must not wait for a turn of the loop that may not come
      queue += tendLine(text);
      send();
    },
    tendLine,
    adoptTendLines() {
      const original = out.write;
      const plain = `${TEND_LABEL} | `;
      out.write = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
        if (typeof chunk === 'string' && chunk.includes(plain)) {
          // (a line may start after the live view's cursor movements, which stay in front of it)
          chunk = chunk.replace(
            /^((?:\x1b\[[0-9;]*[A-Za-z])*)tend \| (.*)\n/gm,
            (_m, moves: string, body: string) => moves + tendLine(body),
          );
        }
        return (original as (...a: unknown[]) => boolean).call(out, chunk, ...rest);
      } as typeof out.write;
    },
    dropped: () => dropped,
    flush: send,
  };
}
