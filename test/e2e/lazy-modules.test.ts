/**
 * `tend up` loads the code a manifest uses, and no more: no template engine, render loop, probes, discovery,
 * notify sinks or KV client for a manifest of plain services; a reload that starts using them loads and
 * attaches them then, and they work as if they had been there from the start. The modules are read from a
 * real run, through a resolve hook (test/helpers/record-modules.mjs) given to tend's node with NODE_OPTIONS.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { freePort } from '../helpers/etcd.js';

const RECORDER = fileURLToPath(new URL('../helpers/record-modules.mjs', import.meta.url));
/** the build under test: its modules are named relative to it (`render/loop.js`) */
const BUILD = pathToFileURL(join(CLI, '..', '..')).href;

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setUp(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-lazy-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'kv'));
  writeFileSync(join(dir, 'tend.yaml'), manifest);
  const log = join(dir, 'modules.log');
  const t = startTend(['up'], {
    cwd: dir,
    env: { NODE_OPTIONS: `--import ${RECORDER}`, TEND_TEST_MODULE_LOG: log },
  });
  /** tend's own modules (`render/loop.js`) and packages (`nm:etcd3`) loaded so far */
  const loaded = () => {
    const urls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    return new Set(
      urls.map((u) => {
        const pkg = u.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
        if (pkg) return `nm:${pkg[1]}`;
        return u.startsWith(`${BUILD}/`) ? u.slice(BUILD.length + 1) : u;
      }),
    );
  };
  return { dir, t, loaded };
}

/** tend's folders and packages a manifest of plain services has no use for */
const UNUSED = [
  /^template\/(?!names\.js)/,
  /^render\//,
  /^health\//,
  /^discovery\//,
  /^notify\//,
  /^kv\/(etcd|consul)\.js$/,
  // the other commands' definitions, and the dashboard page until someone asks for it
  /^cli\/(client|export|fleet|render)\.js$/,
  /^control\/dashboard\.js$/,
  /^nm:(etcd3|@grpc|ajv|prom-client)/,
];

describe('tend up loads what the manifest uses', () => {
  it('a manifest of plain services starts without the template engine, probes, discovery, notify, KV clients or the dashboard', async () => {
    const { t, loaded } = setUp(`name: plain
services:
  a:
    command: exec sleep 600
  b:
    command: exec sleep 600
`);
    await t.waitForOutput(/app UP/, 30_000);
    const mods = [...loaded()];
    // the recorder works: what every run needs is there
    expect(mods).toContain('supervisor/service.js');
    expect(mods).toContain('control/server.js');
    expect(mods.filter((m) => UNUSED.some((re) => re.test(m)))).toEqual([]);
  });

  it('a reload that adds a template, a readiness probe, a registration and requires attaches their modules then', async () => {
    const port = await freePort();
    const { dir, t, loaded } = setUp(`name: r
services:
  db:
    command: exec python3 -m http.server ${port} --bind 127.0.0.1
  web:
    command: exec sleep 600
`);
    await t.waitForOutput(/app UP/, 30_000);
    expect([...loaded()].filter((m) => /^(render|health|discovery)\//.test(m))).toEqual([]);

    writeFileSync(
      join(dir, 'upstream.tmpl'),
      '{{ range service "db" }}upstream {{ .Address }}:{{ .Port }}\n{{ end }}',
    );
    writeFileSync(
      join(dir, 'tend.yaml'),
      `name: r
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
    const r = runTend(['reload'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // db ready (probe) → registered (discovery) → web's requires met and its template rendered from the
    // registry (render): web starts once, on the rendered file
    const [line] = await t.waitForOutput(/web starts with \[.*\]/, 30_000);
    expect(line).toBe(`web starts with [upstream 127.0.0.1:${port}]`);
    const mods = [...loaded()];
    for (const m of ['render/loop.js', 'health/checks.js', 'discovery/module.js', 'template/template.js']) {
      expect(mods).toContain(m);
    }
  });
});
