/**
 * Carries lifecycle events out of tend. The bus listener only appends to each sink's bounded queue (drop the
 * oldest when full, counted); each sink drains its queue on its own, in order, one delivery at a time, so no
 * sink can slow the supervisor or grow memory without bound.
 *
 * Payload (webhook body, file line, kv value, exec stdin): the event JSON plus `app` and `host`.
 * Defaults: queue 1000 (webhooks: the plan's `queue`); events filter: `['app']` for exec, every kind for
 * the others; webhook retry backoff 200 ms doubling to 10 s with ±20% jitter, Retry-After honoured up to
 * 60 s, retried on network errors, timeouts, 408, 429 and 5xx, given up on other statuses; kv puts retried
 * the same way (10 s per put); exec: SIGTERM to the script's process group at `timeoutMs`, SIGKILL 1 s
 * later, a non-zero exit counts as failed and is not retried, a successful script's stdout is echoed to
 * tend's stdout. Exec gets the state as its last argument when the command is a plain command line, as $1
 * when it is a shell script with its own syntax, and always as $TEND_STATE (with TEND_EVENT_KIND,
 * TEND_SERVICE, TEND_APP). Problems go to stderr at most once a minute per sink (plus one line on recovery).
 */
export type { KvPut } from './kv.js';
export { createNotifier, DEFAULT_QUEUE, type Notifier, type NotifierOptions } from './notifier.js';
export type { SinkStats } from './runner.js';
