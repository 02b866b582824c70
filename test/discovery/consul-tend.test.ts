/**
 * `tend up` on a Consul backend, against the recorded-response agent: the service is registered once ready,
 * its TTL check passed from tend's health results, and deregistered before its process gets SIGTERM.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { instanceId } from '../../src/discovery/index.js';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { freePort } from '../helpers/etcd.js';
import { waitFor } from '../helpers/wait.js';
import { type FakeConsul, startFakeConsul } from '../kv/fake-consul.js';

const dirs: string[] = [];
let fake: FakeConsul | undefined;
afterEach(async () => {
  await stopAllTends();
  await fake?.close();
  fake = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('tend up with consul', () => {
  it('registers through the agent with a TTL check, passes it, and deregisters before the stop signal', async () => {
    fake = await startFakeConsul();
    const agent = fake;
    const dir = mkdtempSync(join(tmpdir(), 'tend-consul-e2e-'));
    dirs.push(dir);
    const port = await freePort();
    const events: Array<[string, number]> = [];
    const ok = { status: 200, headers: { 'Content-Type': 'application/json' } };
    agent.always('PUT /v1/agent/service/register', () => {
      events.push(['register', Date.now()]);
      return ok;
    });
    const id = instanceId('web', hostname(), port);
    agent.always(`PUT /v1/agent/check/pass/service:${id}`, () => ok);
    agent.always(`PUT /v1/agent/service/deregister/${id}`, () => {
      events.push(['deregister', Date.now()]);
      return ok;
    });
    writeFileSync(
      join(dir, 'web.js'),
      `const fs = require('fs');
process.on('SIGTERM', () => { fs.writeFileSync('term-at', String(Date.now())); process.exit(0); });
require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1');`,
    );
    writeFileSync(
      join(dir, 'tend.yaml'),
      `kv: consul://${agent.address}/app/
services:
  web:
    command: [${JSON.stringify(process.execPath)}, web.js]
    ready: { tcp: "127.0.0.1:${port}", interval: 100ms }
    health: { http: "http://127.0.0.1:${port}/", interval: 200ms }
    register: { port: ${port}, tags: [http, v1], meta: { team: shop }, ttl: 1s }
`,
    );
    const t = startTend(['up'], { cwd: dir, env: { CONSUL_HTTP_TOKEN: 'tok' } });
    await waitFor(() => agent.requestsTo('PUT /v1/agent/service/register').length === 1, {
      what: 'registration',
      timeoutMs: 20_000,
    });
    const body = JSON.parse(agent.requestsTo('PUT /v1/agent/service/register')[0].body);
    expect(body).toMatchObject({
      Name: 'web',
      Port: port,
      Tags: ['http', 'v1'],
      Meta: { team: 'shop' },
      Check: {
        CheckID: `service:${body.ID}`,
        TTL: '1s',
        Status: 'passing',
        DeregisterCriticalServiceAfter: '1m',
      },
    });
    // no address configured: Consul publishes the node's
    expect(body).not.toHaveProperty('Address');
    expect(body.ID).toBe(id);
    await waitFor(() => agent.requestsTo(`PUT /v1/agent/check/pass/service:${id}`).length >= 2, {
      what: 'TTL passes',
    });
    expect(agent.requestsTo(`PUT /v1/agent/check/pass/service:${id}`)[0].headers['x-consul-token']).toBe(
      'tok',
    );
    // the agent answered every pass: no second registration
    expect(agent.requestsTo('PUT /v1/agent/service/register')).toHaveLength(1);
    t.kill('SIGTERM');
    expect(await t.exit()).toBe(0);
    const dereg = events.find((e) => e[0] === 'deregister');
    expect(dereg).toBeDefined();
    expect(Number(readFileSync(join(dir, 'term-at'), 'utf8'))).toBeGreaterThanOrEqual(dereg?.[1] ?? Infinity);
  });
});
