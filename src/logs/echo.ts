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
}

// Text collected during one turn of the event loop goes out as one write; a burst goes out in pieces this big.
const BATCH = 64 * 1024;
const PALETTE = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94];

export function createEcho(out: NodeJS.WritableStream = process.stdout, opts: EchoOptions = {}): Echo {
  const tty = (out as { isTTY?: boolean }).isTTY === true;
  const color = opts.color ?? (tty && !process.env.NO_COLOR);
  const maxQueued = opts.maxQueued ?? 1024 * 1024;
  const prefixes = new Map<string, string>();
  const colours = new Map<string, number>();
  let width = 0;
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
    if (!colours.has(service)) colours.set(service, PALETTE[colours.size % PALETTE.length]);
    const label = `${service.padEnd(width)} |`;
    p = color ? `\x1b[${colours.get(service)}m${label}\x1b[0m ` : `${label} `;
    prefixes.set(service, p);
    return p;
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
      queue += `${prefix('tend')}${droppedSinceDrain} lines were not echoed (stdout too slow); log files are complete\n`;
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
      if (blocked) return true;
      if (queue.length >= BATCH) send();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(send);
      }
      return true;
    },
    dropped: () => dropped,
    flush: send,
  };
}
