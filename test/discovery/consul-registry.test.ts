/**
 * The Consul registry against recorded agent responses (test/discovery/fixtures/consul-agent.json, shaped as
 * Consul's API documentation shows them), served by the KV tests' recorded-response server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consulRegistry, instanceFromHealth, registerBody } from '../../src/discovery/consul-registry.js';
import {
  createDiscovery,
  type Registration,
  type Registry,
  type ServiceInstance,
} from '../../src/discovery/index.js';
import { type ConsulKvConfig, parseKvUrl } from '../../src/kv/index.js';
import { waitFor } from '../helpers/wait.js';
import { type FakeConsul, type Recorded, startFakeConsul } from '../kv/fake-consul.js';

const fx = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures/consul-agent.json'), 'utf8'),
) as Record<string, Recorded>;
const TOKEN = 's3cr3t-acl-token';
const timing = { minQueryIntervalMs: 10, backoffInitialMs: 20, backoffMaxMs: 100, requestTimeoutMs: 2000 };

let fake: FakeConsul;
const registries: Registry[] = [];

beforeEach(async () => {
  fake = await startFakeConsul();
});
afterEach(async () => {
  await Promise.all(registries.splice(0).map((r) => r.close()));
  await fake.close();
});

function registry(): Registry {
  const config = parseKvUrl(`consul://${fake.address}/app/?dc=dc1&wait=2s`, {
    CONSUL_HTTP_TOKEN: TOKEN,
  }) as ConsulKvConfig;
  const r = consulRegistry(config, { timing });
  registries.push(r);
  return r;
}

const reg = (o: Partial<Registration> = {}): Registration => ({
  id: 'api-host-8080',
  name: 'api',
  address: '10.0.0.5',
  port: 8080,
  tags: ['http'],
  meta: { version: '2' },
  ttlMs: 10_000,
  node: 'host',
  status: 'passing',
  ...o,
});

const CHECK = 'service:api-host-8080';

describe('consul registry: registration', () => {
  it('registers the service with a TTL check through the agent, as documented', async () => {
    fake.queue('PUT /v1/agent/service/register', fx.ok);
    await registry().publish(reg());
    const [r] = fake.requestsTo('PUT /v1/agent/service/register');
    expect(r.headers['x-consul-token']).toBe(TOKEN);
    expect(r.headers['content-type']).toBe('application/json');
    // agent endpoints act on the local agent: no dc
    expect(r.query.has('dc')).toBe(false);
    expect(JSON.parse(r.body)).toEqual({
      ID: 'api-host-8080',
      Name: 'api',
      Tags: ['http'],
      Address: '10.0.0.5',
      Port: 8080,
      Meta: { version: '2' },
      Check: {
        CheckID: CHECK,
        Name: 'tend health of api',
        TTL: '10s',
        Status: 'passing',
        Notes: 'passed by tend from its own health checks',
        DeregisterCriticalServiceAfter: '1m',
      },
    });
  });

  it('leaves Address out when none is configured, so Consul uses the node address', () => {
    const body = registerBody(reg({ address: undefined, ttlMs: 1500 }));
    expect(body).not.toHaveProperty('Address');
    expect((body.Check as Record<string, unknown>).TTL).toBe('1500ms');
  });

  it('passes the TTL check every TTL/2, warns and fails with the health output as note', async () => {
    fake.queue('PUT /v1/agent/service/register', fx.ok);
    fake.always(`PUT /v1/agent/check/pass/${CHECK}`, () => fx.ok);
    fake.always(`PUT /v1/agent/check/warn/${CHECK}`, () => fx.ok);
    fake.always(`PUT /v1/agent/check/fail/${CHECK}`, () => fx.ok);
    const pub = await registry().publish(reg({ ttlMs: 400 }));
    await waitFor(() => fake.requestsTo(`PUT /v1/agent/check/pass/${CHECK}`).length >= 2, {
      what: 'two passes',
    });
    await pub.update('warning', 'HTTP 503: db down');
    const [warn] = fake.requestsTo(`PUT /v1/agent/check/warn/${CHECK}`);
    expect(warn.query.get('note')).toBe('HTTP 503: db down');
    expect(warn.headers['x-consul-token']).toBe(TOKEN);
    // the heartbeat repeats the current status, not "pass"
    const passes = fake.requestsTo(`PUT /v1/agent/check/pass/${CHECK}`).length;
    await waitFor(() => fake.requestsTo(`PUT /v1/agent/check/warn/${CHECK}`).length >= 2, {
      what: 'a warn beat',
    });
    expect(fake.requestsTo(`PUT /v1/agent/check/pass/${CHECK}`).length).toBe(passes);
    await pub.update('critical', '3 health checks failed in a row');
    expect(fake.requestsTo(`PUT /v1/agent/check/fail/${CHECK}`)[0].query.get('note')).toBe(
      '3 health checks failed in a row',
    );
  });

  it('registers again when the agent no longer knows the check (it restarted)', async () => {
    fake.queue('PUT /v1/agent/service/register', fx.ok, fx.ok);
    fake.queue(`PUT /v1/agent/check/pass/${CHECK}`, fx.unknownCheck);
    fake.always(`PUT /v1/agent/check/pass/${CHECK}`, () => fx.ok);
    await registry().publish(reg({ ttlMs: 300 }));
    await waitFor(() => fake.requestsTo('PUT /v1/agent/service/register').length === 2, {
      what: 're-register',
    });
  });

  it('deregisters, after which no heartbeat is sent; an unknown service counts as gone', async () => {
    fake.queue('PUT /v1/agent/service/register', fx.ok, fx.ok);
    fake.always(`PUT /v1/agent/check/pass/${CHECK}`, () => fx.ok);
    fake.queue('PUT /v1/agent/service/deregister/api-host-8080', fx.ok, fx.deregisterMissing);
    const r = registry();
    const pub = await r.publish(reg({ ttlMs: 200 }));
    await pub.withdraw();
    const beats = fake.requestsTo(`PUT /v1/agent/check/pass/${CHECK}`).length;
    await new Promise((res) => setTimeout(res, 400));
    expect(fake.requestsTo(`PUT /v1/agent/check/pass/${CHECK}`).length).toBe(beats);
    const again = await r.publish(reg({ ttlMs: 200 }));
    await expect(again.withdraw()).resolves.toBeUndefined();
    expect(fake.requestsTo('PUT /v1/agent/service/deregister/api-host-8080')).toHaveLength(2);
  });

  it('a refused registration is an error that says why', async () => {
    fake.queue('PUT /v1/agent/service/register', fx.aclDenied);
    await expect(registry().publish(reg())).rejects.toThrow(/HTTP 403: Permission denied.*service:write/);
  });
});

describe('consul registry: reading', () => {
  it('lists instances from /v1/health/service with every status, in node order, like consul-template', async () => {
    fake.queue('GET /v1/health/service/api', fx.healthApi);
    const list = await registry().instances('api');
    const [req] = fake.requestsTo('GET /v1/health/service/api');
    expect(req.query.get('dc')).toBe('dc1');
    expect(list.map((i) => [i.Node, i.ID, i.Address, i.Port, i.Status, i.Tags])).toEqual([
      ['node-a', 'api-node-a-8080', '10.1.10.99', 8080, 'passing', ['http']],
      // registered without an address: reached at its node's
      ['node-b', 'api-node-b-8080', '10.1.10.13', 8080, 'warning', ['http', 'v2']],
    ]);
    expect(list[1]).toMatchObject({
      NodeID: '40e4a748-2192-161a-0510-9bf59fe950b5',
      NodeAddress: '10.1.10.13',
      NodeDatacenter: 'dc1',
      NodeMeta: { instance_type: 't2.medium' },
      ServiceMeta: { version: '2' },
      NodeTaggedAddresses: { lan: '10.1.10.13', wan: '10.1.10.13' },
    });
    expect(list[0].ServiceMeta).toEqual({});
  });

  it('aggregates check states: maintenance, then critical, then warning', () => {
    const status = (checks: Array<{ CheckID: string; Status: string }>): ServiceInstance['Status'] =>
      instanceFromHealth({ Checks: checks }).Status;
    expect(status([{ CheckID: 'a', Status: 'passing' }])).toBe('passing');
    expect(
      status([
        { CheckID: 'a', Status: 'warning' },
        { CheckID: 'b', Status: 'critical' },
      ]),
    ).toBe('critical');
    expect(status([{ CheckID: '_service_maintenance:api', Status: 'critical' }])).toBe('maintenance');
  });

  it('follows a service with blocking queries, resetting the index when it goes backwards', async () => {
    fake.queue('GET /v1/health/service/api', fx.healthApi);
    const d = createDiscovery(registry());
    const lists: string[][] = [];
    const w = d.watch('api', (list) => lists.push(list.map((i) => i.ID)), { passingOnly: true });
    await waitFor(() => lists.length === 1);
    expect(lists[0]).toEqual(['api-node-a-8080']);
    // the loop now blocks on the index it was given
    await waitFor(() => fake.requestsTo('GET /v1/health/service/api').length === 2);
    const blocking = fake.requestsTo('GET /v1/health/service/api')[1];
    expect(blocking.query.get('index')).toBe('1042');
    expect(blocking.query.get('wait')).toBe('2s');
    // node-b left: for passing-only readers nothing changed, so nothing is reported
    fake.queue('GET /v1/health/service/api', fx.healthApiOneLeft);
    await waitFor(() => fake.requestsTo('GET /v1/health/service/api').length === 3);
    expect(lists).toHaveLength(1);
    expect(fake.requestsTo('GET /v1/health/service/api')[2].query.get('index')).toBe('1050');
    fake.queue('GET /v1/health/service/api', fx.healthEmptyAfterRestore);
    await waitFor(() => lists.length === 2);
    expect(lists[1]).toEqual([]);
    // index 7 < 1050: reset, the next query carries no index and returns at once
    fake.queue('GET /v1/health/service/api', fx.healthApi);
    await waitFor(() => lists.length === 3);
    expect(fake.requestsTo('GET /v1/health/service/api')[3].query.has('index')).toBe(false);
    w.close();
    await d.close();
  });

  it('keeps trying through an outage and reports the list once the agent answers', async () => {
    fake.setDown(true);
    const d = createDiscovery(registry());
    const lists: number[] = [];
    d.watch('api', (list) => lists.push(list.length));
    await new Promise((r) => setTimeout(r, 150));
    expect(lists).toEqual([]);
    fake.setDown(false);
    fake.queue('GET /v1/health/service/api', fx.healthApi);
    await waitFor(() => lists.length === 1, { what: 'the list after the outage' });
    expect(lists).toEqual([2]);
    await d.close();
  });

  it('lists the catalog of services and their tags', async () => {
    fake.queue('GET /v1/catalog/services', fx.catalogServices);
    expect(await registry().catalog()).toEqual([
      { Name: 'api', Tags: ['http', 'v2'] },
      { Name: 'consul', Tags: [] },
      { Name: 'db', Tags: ['primary', 'secondary'] },
    ]);
  });
});
