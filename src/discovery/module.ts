/**
 * Discovery plugged into `tend up`: per-service hooks that keep each `register` in step with the service
 * (ready → published; stop → withdrawn before the stop signal), an attachment that binds them to the run (its
 * discovery, health events, maintenance mode) and gates `requires`.
 */
import type { ServicePlan } from '../manifest/types.js';
import type { Discovery, Module, Runtime, ServiceHooksFactory } from '../runtime/index.js';
import type { ServiceHooks } from '../supervisor/index.js';
import { settleWithin } from '../time/index.js';
import { defaultAddress, registrationOf } from './record.js';
import { createRegistrar, type Registrar } from './registrar.js';
import { gateRequires } from './requires.js';
import type { Watch } from './types.js';

/** How long shutdown waits for the last withdrawals. */
const CLOSE_WAIT_MS = 3000;

export interface DiscoveryModule extends Module {
  serviceHooks: ServiceHooksFactory;
}

export function discoveryModule(opts: { address?: string } = {}): DiscoveryModule {
  let rt: Runtime | undefined;
  let discovery: Discovery | undefined;
  let maintenance = false;
  const registrars = new Map<string, Registrar>();
  const requireWatches = new Map<string, Watch>();
  let address: string | undefined;
  const publishedAddress = () => {
    address ??= opts.address ?? defaultAddress();
    return address;
  };

  const needDiscovery = (): Discovery => {
    if (!discovery) throw new Error('discovery is not attached yet');
    return discovery;
  };

  const gate = (sp: ServicePlan) => {
    requireWatches.get(sp.name)?.close();
    requireWatches.delete(sp.name);
    if (!rt || !discovery || sp.requires.length === 0) return;
    requireWatches.set(sp.name, gateRequires(rt.stack, discovery, sp));
  };

  const serviceHooks: ServiceHooksFactory = (sp, log) => {
    const plan = sp.register;
    if (!plan) return {};
    const registrar = createRegistrar({
      // the etcd and file registries always publish an address; Consul falls back to its node's
      registration: () =>
        registrationOf(plan, {
          address: discovery?.kind === 'consul' ? undefined : publishedAddress(),
        }),
      publish: (reg) => needDiscovery().publish(reg),
      note: (text) => log.note(text),
      where: () => discovery?.where ?? '',
    });
    registrar.set({ maintenance });
    const old = registrars.get(sp.name);
    registrars.set(sp.name, registrar);
    void old?.close();
    const hooks: ServiceHooks = {
      onSpawn() {
        registrar.set({ stopping: false, ready: false });
      },
      onState(next) {
        registrar.set({ ready: next.ready });
      },
      beforeStop: () => registrar.withdraw(),
    };
    return hooks;
  };

  const attach: Module['attach'] = async (runtime) => {
    rt = runtime;
    discovery = runtime.discovery();
    const m = runtime.control;
    maintenance = m.maintenance();
    const unsubscribers: Array<() => void> = [];
    unsubscribers.push(
      m.onMaintenance((on) => {
        maintenance = on;
        for (const r of registrars.values()) r.set({ maintenance: on });
      }),
    );
    for (const r of registrars.values()) r.set({ maintenance });
    unsubscribers.push(
      runtime.bus.subscribe((e) => {
        if (e.kind !== 'health' || e.check !== 'health') return;
        registrars.get(e.service)?.health(e.ok ? 'passing' : 'warning', e.output);
      }),
    );
    for (const name of runtime.stack.names()) {
      const sp = runtime.stack.runner(name)?.plan;
      if (sp) gate(sp);
    }
    unsubscribers.push(
      runtime.stack.onServiceChange((name, change) => {
        if (change === 'added') {
          const sp = runtime.stack.runner(name)?.plan;
          if (sp) gate(sp);
        } else {
          requireWatches.get(name)?.close();
          requireWatches.delete(name);
          const r = registrars.get(name);
          registrars.delete(name);
          void r?.close();
        }
      }),
    );
    return {
      async close() {
        for (const u of unsubscribers) u();
        for (const w of requireWatches.values()) w.close();
        requireWatches.clear();
        // the services are down by now, each withdrawn before its stop; this catches anything left, without
        // letting an unreachable store hold tend's exit (what is left expires after its TTL)
        await settleWithin(Promise.all([...registrars.values()].map((r) => r.close())), CLOSE_WAIT_MS);
        // the discovery itself is the run's: src/app closes it after every module
        discovery = undefined;
        rt = undefined;
      },
    };
  };

  return { name: 'discovery', serviceHooks, attach };
}
