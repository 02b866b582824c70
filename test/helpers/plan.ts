/** Builds Plans for tests without going through YAML, so supervisor tests don't depend on the loader. */
import type { Command, Plan, ServicePlan } from '../../src/manifest/types.js';

type ServiceOverrides = Omit<Partial<ServicePlan>, 'restart' | 'stop' | 'logs'> & {
  restart?: Partial<ServicePlan['restart']>;
  stop?: Partial<ServicePlan['stop']>;
  logs?: Partial<ServicePlan['logs']>;
};

export function sh(script: string): Command {
  return { kind: 'shell', script };
}

export function servicePlan(name: string, command: Command | string, o: ServiceOverrides = {}): ServicePlan {
  const { restart, stop, logs, ...rest } = o;
  return {
    name,
    isJob: false,
    command: typeof command === 'string' ? sh(command) : command,
    cwd: process.cwd(),
    env: {},
    envFrom: [],
    after: [],
    requires: [],
    requiresTimeoutMs: 0,
    templates: [],
    reloadSignal: 'SIGHUP',
    settingsOnChange: { kind: 'restart' },
    signalGroup: false,
    forwardSignals: [],
    finishTimeoutMs: 30_000,
    essential: false,
    ...rest,
    restart: {
      policy: 'always',
      backoff: { initialMs: 100, maxMs: 30_000 },
      maxFailures: 5,
      // every run shorter than a minute counts: the unit tests count failures without waiting out a real uptime
      minUptimeMs: 60_000,
      windowMs: 60_000,
      cooldownMs: 300_000,
      resetAfterMs: 60_000,
      preventExitCodes: [],
      successExitCodes: [],
      ...restart,
    },
    stop: { signal: 'SIGTERM', timeoutMs: 10_000, ...stop },
    logs: {
      format: 'raw',
      timestamps: false,
      maxSizeBytes: 10 * 1024 * 1024,
      keep: 3,
      stdout: false,
      ...logs,
    },
  };
}

export function stackPlan(dir: string, services: ServicePlan[], o: Partial<Plan> = {}): Plan {
  return {
    dir,
    name: 'test',
    dataDir: `${dir}/data`,
    stateDir: `${dir}/.tend`,
    kv: `file:${dir}/kv`,
    settings: { defaults: {}, files: [], env: 'CFG' },
    stages: {},
    notify: [],
    services: Object.fromEntries(services.map((s) => [s.name, s])),
    disabled: [],
    order: services.map((s) => s.name),
    ...o,
  };
}
