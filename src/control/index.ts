/**
 * The control plane: an HTTP API on the unix socket `<state_dir>/tend.sock` (mode 0600) and, with `http:` /
 * `--http`, on TCP, plus Prometheus metrics, the live dashboard and the terminal live view of `tend up`.
 *
 * Routes (JSON unless noted; every error is `{ "error": "...", "issues"?: [...] }` with a 4xx/5xx status):
 *   GET  /api                         this list
 *   GET  /api/status                  app (state, pid, uptime, maintenance, ready) + services + lifecycle timeline
 *   GET  /api/fleet?app=|all=1        every tend of the app publishing in the KV store (`tend fleet --json`), and
 *                                     whether this one does; 503 when the store does not answer within 5 s
 *   GET  /api/services/:name          one service
 *   POST /api/services/:name/start    also stop, restart; answers once it took effect (?wait=ms, default 10000)
 *   POST /api/reload                  re-read the manifest, apply the difference; 400 + issues when invalid
 *   GET  /api/logs?service=&n=&follow=1   {lines: [...]}; with follow, NDJSON lines as they come
 *   GET  /api/maintenance             {maintenance: bool}
 *   POST /api/maintenance             body {"on": true|false}
 *   GET  /api/cfg?path=a.b            {path, value}; 404 when the path is missing
 *   GET  /api/events                  server-sent events, `id:` = event seq, Last-Event-ID / ?since=SEQ resume,
 *                                     ?kinds=service,app filters
 *   GET  /healthz                     200 "ok" while tend runs (text)
 *   GET  /readyz                      200 when the app is UP and every enabled service is ready, else 503 + why
 *   GET  /metrics                     Prometheus text
 *   GET  /                            the dashboard (HTML)
 *
 * Access (access.ts): the socket is for whoever may open it (0600: tend's user). On TCP every route but
 * /healthz, /readyz, /metrics and the page needs `Authorization: Bearer <token>`, on loopback too: TEND_TOKEN,
 * or one tend makes at start (kept in <state_dir>/token, printed in the dashboard URL). A loopback listener
 * answers only to loopback Host names (DNS rebinding) and refuses cross-origin POSTs. Streams are bounded per
 * client and in all (429). Nothing secret is served: no env values, commands, tokens or rendered files.
 *
 * A second `tend up` whose socket answers is refused with exit 1 before anything starts; a socket nobody
 * listens on (a tend that was killed) is replaced.
 *
 * The CLI does not import this file (it would load the server); it uses ./client.ts, ./locate.ts, ./format.ts.
 */
export { controlModule, socketPathOf } from './attach.js';
export { isPlainOutput, liveViewModule } from './live.js';
export type * from './types.js';
