/**
 * How tend reads its services' output: straight into one buffer that every service's sockets share, through
 * net.Socket's `onread` option, instead of Node's stream reads.
 *
 * A stream read allocates a fresh 64 KiB ArrayBuffer for every chunk and hands it to `'data'` through the
 * readable machinery. A chatty service then makes tend allocate outside V8's heap at the rate it writes (100 MB
 * per million 100-byte lines), which V8 answers with a full mark-compact every few megabytes ("GC in old space
 * requested", a dozen per million lines) on the main thread and its helper threads: most of tend's CPU per line
 * (bench/lib/findings.md, the log section). With `onread`, libuv reads into the buffer given here and the
 * callback runs synchronously; the log copies what it keeps (into its file's write block, its ring, a partial
 * line's carry) before returning, so one buffer serves all services: the next read, of any socket, may reuse it.
 *
 * The socket is made by the spawn code (procs), which cannot import logs: it takes `OUTPUT_ONREAD` as an
 * option, and the ServiceLog that `attach()`es the socket registers itself as its route. The callback is
 * called as a method of the socket, which is how it finds the route. A socket nobody routed (a caller that
 * reads the child's output itself) gets its bytes pushed as ordinary `'data'`, copied.
 */
import type { Socket } from 'node:net';

/** Large enough to empty a Unix socket's buffer (~208 KiB) in one read. */
const SHARED_BYTES = 256 * 1024;
let shared: Buffer | undefined;

/** Takes `buf[0..n]`, which is only valid during the call; false pauses the socket. */
export type OutputRoute = (buf: Buffer) => boolean;

const routes = new WeakMap<object, OutputRoute>();

/** `onread` for the sockets of a service's stdout and stderr (net.Socket's constructor option). */
export const OUTPUT_ONREAD = {
  buffer(): Uint8Array {
    shared ??= Buffer.allocUnsafe(SHARED_BYTES);
    return shared;
  },
  callback(this: Socket, n: number, buf: Uint8Array): boolean {
    const b = buf as Buffer;
    const route = routes.get(this);
    if (route !== undefined) return route(b.subarray(0, n)) !== false;
    // nobody routed this socket: behave like a plain one
    return this.push(Buffer.from(b.subarray(0, n)));
  },
};

/** Sends what `stream` reads through OUTPUT_ONREAD to `route`; a stream made without it never calls it. */
export function routeOutput(stream: object, route: OutputRoute): void {
  routes.set(stream, route);
}

export function unrouteOutput(stream: object): void {
  routes.delete(stream);
}
