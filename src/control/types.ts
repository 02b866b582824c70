/**
 * The JSON the control API speaks. Types only: the CLI imports this without loading anything of the server.
 * Nothing here carries a secret: no environment values, no commands, no tokens, no rendered file contents.
 */
import type { AppState, ServiceState } from '../events/types.js';
import type { AppTimelineEntry, HealthSummary, TemplateStatus } from '../runtime/index.js';

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
