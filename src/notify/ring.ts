/**
 * A bounded FIFO that drops its oldest item when full. `head` counts every item ever removed, so a worker
 * that peeked at the front can tell, after an await, how many of the items it holds are still queued
 * (the rest were dropped under it).
 */
export class Ring<T> {
  private buf: Array<T | undefined>;
  private start = 0;
  private count = 0;
  /** absolute index of the current first item */
  head = 0;

  constructor(readonly capacity: number) {
    // Grown on demand: most sinks never hold more than a handful of events.
    this.buf = new Array(Math.min(capacity, 64));
  }

  get size() {
    return this.count;
  }

  /** Appends; returns true when the oldest item had to be dropped to make room. */
  push(item: T): boolean {
    let dropped = false;
    if (this.count === this.capacity) {
      this.shift(1);
      dropped = true;
    } else if (this.count === this.buf.length) {
      this.grow();
    }
    this.buf[(this.start + this.count) % this.buf.length] = item;
    this.count++;
    return dropped;
  }

  peek(n: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < Math.min(n, this.count); i++)
      out.push(this.buf[(this.start + i) % this.buf.length] as T);
    return out;
  }

  shift(n: number) {
    const k = Math.min(n, this.count);
    for (let i = 0; i < k; i++) {
      this.buf[this.start] = undefined;
      this.start = (this.start + 1) % this.buf.length;
    }
    this.count -= k;
    this.head += k;
  }

  private grow() {
    const next = new Array<T | undefined>(Math.min(this.capacity, this.buf.length * 2));
    for (let i = 0; i < this.count; i++) next[i] = this.buf[(this.start + i) % this.buf.length];
    this.buf = next;
    this.start = 0;
  }
}
