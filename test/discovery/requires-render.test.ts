/**
 * `requires: [db]` with a template that reads `{{ service "db" }}`: when db appears in discovery, the consumer
 * starts once, on the file rendered with db's instance (it used to start on the stale file, then restart for
 * "config changed").
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTend, stopAllTends } from '../helpers/cli.js';
import { freePort } from '../helpers/etcd.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('requires and a template reading the required service', () => {
  it('starts the consumer once, on the file that lists the new instance', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-req-render-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'kv'));
    const port = await freePort();
    writeFileSync(
      join(dir, 'upstream.tmpl'),
      '{{ range service "db" }}upstream {{ .Address }}:{{ .Port }}\n{{ end }}',
    );
    writeFileSync(
      join(dir, 'tend.yaml'),
      `name: r
kv: file:${join(dir, 'kv')}
services:
  db:
    command: exec python3 -m http.server ${port} --bind 127.0.0.1
    ready: { tcp: "127.0.0.1:${port}", interval: 100ms, timeout: 20s }
    register: { port: ${port}, address: 127.0.0.1, ttl: 5s }
  web:
    command: echo "web starts with [$(cat upstream.conf)]"; exec sleep 60
    requires: [db]
    templates:
      - { source: upstream.tmpl, destination: upstream.conf }
`,
    );
    const t = startTend(['up'], { cwd: dir });
    // the consumer's first (and only) run prints the file it started on
    const [line] = await t.waitForOutput(/web starts with \[.*\]/, 30_000);
    expect(line).toBe(`web starts with [upstream 127.0.0.1:${port}]`);
    await t.waitForOutput(/app UP/);
    expect(t.output()).not.toMatch(/web stopping: config changed/);
    expect(t.output().match(/tend \| web starting/g)).toHaveLength(1);
  });
});
