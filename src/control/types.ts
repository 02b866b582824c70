/**
 * The JSON the control API speaks. Types only: the CLI imports this without loading anything of the server.
 * Nothing here carries a secret: no environment values, no commands, no tokens, no rendered file contents.
 */
import type { AppState, ServiceState } from '../events/types.js';
import type { AppTimelineEntry, HealthSummary, RolloutStatus, TemplateStatus } from '../runtime/index.js';

export type { AppTimelineEntry, HealthSummary, ReloadResult } from '../runtime/index.js';

export interface ServiceView {
  name: string;
  state: ServiceState;
  reason?: string;
  pid?: number;
  ready: boolean;
  restarts: number;
  /** ms since the epoch */
  startedAt?: number;
  uptimeMs?: number;
  lastExit?: { code: number | null; signal: string | null; at: number };
  job: boolean;
  essential: boolean;
  /** what holds the service back (after, requires, config), while it waits */
  waitingFor: string[];
  /** whether a ready / health check is configured, and the last result of one */
  checks: { ready: boolean; health: boolean };
  health?: HealthSummary;
  /**
   * what it waits for, in one line: the stage running before it, its closed gates, or its readiness probe
   * with the probe's last answer and elapsed/timeout (`waiting for tcp 127.0.0.1:5999 (ECONNREFUSED) 3s/1m`)
   */
  waiting?: string;
  /** CPU (percent of one CPU over the last few seconds) and resident memory of its process group */
  usage?: { cpu: number; rssBytes: number; processes: number };
  /** a job's runs since tend started and how the last one ended */
  runs?: {
    runs: number;
    running: boolean;
    last?: { exitCode?: number | null; signal?: string | null; durationMs?: number; at: number; ok: boolean };
  };
  /** ms since the epoch when a service backing off (or failed, with a cooldown) is started again */
  retryAt?: number;
  /** its colour in tend's echo, an ANSI code (36 cyan, 33 yellow, …): the dashboard's log view uses it too */
  colour?: number;
  /** its templates: where each renders, its state, the keys it read (when the render status has them) */
  templates?: TemplateView[];
}

export interface TemplateView {
  source: string;
  destination: string;
  state: string;
  reason?: string;
  missing?: string[];
  /** ms since the epoch of the last write */
  renderedAt?: number;
  /** KV keys and prefixes the last render read */
  keys?: string[];
}

export interface StatusView {
  app: {
    name: string;
    state: AppState;
    /** the manifest tend runs, absent for `tend run` */
    file?: string;
    pid: number;
    version: string;
    startedAt: number;
    uptimeMs: number;
    maintenance: boolean;
    /** the TCP listener's URL, when there is one */
    http?: string;
    ready: boolean;
    /** the long-running services that are not ready, `name state` each (what keeps `ready` false) */
    notReady?: string[];
    /** the KV store (URL redacted) and whether tend reaches it; services keep running through an outage */
    kv: { url: string; connected: boolean; error?: string; since: number };
  };
  services: ServiceView[];
  /** defined in the manifest but not enabled (enabled: false, --only) */
  disabled: string[];
  /** every template of the run: its state (`template-error`, `incomplete`, …) and why */
  templates?: TemplateStatus[];
  /** app state changes, oldest first (bounded) */
  timeline: AppTimelineEntry[];
  /** what an operator should know that no service row says: settings refused, a template's sentinel found */
  notes?: string[];
  /** each notify sink in manifest order (absent when there are none) */
  notify?: NotifySinkView[];
  /** services with `rollout:`: the change in progress or the last one (absent when none rolled yet) */
  rollouts?: RolloutStatus[];
}

/**
 * A notify sink's counters. `sink` is its name as tend's stderr lines give it: a webhook's URL without
 * userinfo or query (they often hold tokens), a file's path, an exec's command, a kv sink's key.
 */
export interface NotifySinkView {
  /** position in the manifest's `notify:` list, from 0 */
  index: number;
  kind: string;
  sink: string;
  /** events the receiver took */
  sent: number;
  /** events given up on (an error that retrying cannot fix, e.g. HTTP 400) */
  failed: number;
  /** events never delivered: the queue was full, or still held when the flush budget at stop ran out */
  dropped: number;
  /** events waiting, including those being retried */
  queued: number;
  lastError?: string;
}

/** Every error answer: what went wrong and, where there is one, what to do. */
export interface ErrorBody {
  error: string;
  /** the manifest loader's `file:line:col: message` lines for an invalid manifest */
  issues?: string[];
}

export interface LogLineView {
  /** ms since the epoch */
  time: number;
  service: string;
  stream: 'stdout' | 'stderr' | 'tend';
  text: string;
}

export interface ActionResult {
  service: string;
  action: 'start' | 'stop' | 'restart';
  before: { state: ServiceState; pid?: number };
  after: ServiceView;
}
