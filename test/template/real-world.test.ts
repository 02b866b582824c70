/**
 * Ten templates in the style real consul-template users write (nginx upstreams, haproxy
 * backends, app config from `tree`, env files, sentinel defaults as in seed 000, …), rendered
 * against one KV snapshot and one service catalog; expected outputs were written by hand.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memorySource, renderWithSource } from '../../src/template/index.js';

const dir = new URL('../fixtures/template/real/', import.meta.url);

const source = memorySource({
  kv: {
    nginx: { listen: '8000', server_name: 'shop.example.com', api: { max_fails: '5' } },
    haproxy: { maxconn: '4096' },
    app: {
      config: { port: '8080', cache_ttl: '60', log: { level: 'info' } },
      db: { user: 'shop' },
      env: { debug: 'false', 'log-format': 'json', 'secret.token': 's3cr"et' },
    },
    shop: { db: { host: 'db.internal' } },
    redis: { port: '6380', maxmemory_mb: '256', password: 'hunter2' },
    cron: { jobs: { backup: '0 3 * * *|/srv/bin/backup', cleanup: '*/5 * * * *|/srv/bin/cleanup --fast' } },
  },
  services: {
    web: [
      { Node: 'node1', Address: '10.0.0.1', Port: 8080, Tags: ['http', 'blue-green'] },
      { Node: 'node2', Address: '10.0.0.2', Port: 8080, Tags: ['http'] },
      { Node: 'node3', Address: '10.0.0.3', Port: 8080, Tags: ['http', 'blue-green'], Status: 'critical' },
    ],
    api: [
      { Node: 'node11', Address: '10.0.0.11', Port: 9000, Tags: ['http'] },
      { Node: 'node12', Address: '10.0.0.12', Port: 9000, Tags: ['http'] },
    ],
    db: [{ Node: 'node9', Address: '10.0.1.9', Port: 5432, Tags: ['primary'] }],
    redis: [{ Node: 'node21', Address: '10.0.2.1', Port: 6379 }],
  },
  env: { ROLE: 'web' },
});

const data = {
  Name: 'shop',
  programs: { web: 'gunicorn app:app', worker: 'celery worker', migrate: './manage.py migrate' },
};

const templates = readdirSync(dir)
  .filter((f) => f.endsWith('.tmpl'))
  .sort();

describe('real-world consul-template templates', () => {
  it('has ten of them', () => {
    expect(templates).toHaveLength(10);
  });
  for (const file of templates) {
    it(file, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const expected = readFileSync(new URL(file.replace(/\.tmpl$/, '.out'), dir), 'utf8');
      const res = renderWithSource(text, data, source, {
        name: file,
        now: () => new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      });
      expect(res.missing).toEqual([]);
      expect(res.output).toBe(expected);
    });
  }
});
