/**
 * The `rollout:` key: defaults, a template's own rollout, positioned errors for bad values and for a job, and the
 * `tend check` on the stores that hold a semaphore.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManifestError, parseManifestText } from '../../src/manifest/index.js';
import { runTend } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function errorsOf(text: string): string[] {
  try {
    parseManifestText(text, '/p/tend.yaml', { env: {} });
  } catch (e) {
    if (e instanceof ManifestError) return e.message.split('\n');
    throw e;
  }
  return [];
}

describe('rollout: in the manifest', () => {
  it('fills the defaults and keeps a template its own rollout', () => {
    const { plan } = parseManifestText(
      `services:
  web:
    command: x
    rollout: {}
    templates:
      - { source: a.tmpl, destination: a.conf, rollout: { max_parallel: 3, ready_timeout: 1m30s } }
`,
      '/p/tend.yaml',
      { env: {} },
    );
    expect(plan.services.web?.rollout).toEqual({
      maxParallel: 1,
      readyTimeoutMs: 60_000,
      at: '/p/tend.yaml:4:5',
    });
    expect(plan.services.web?.templates[0]?.rollout).toEqual({
      maxParallel: 3,
      readyTimeoutMs: 90_000,
      at: '/p/tend.yaml:6:48',
    });
  });

  it('refuses bad values and a job, each with file, line and key', () => {
    expect(
      errorsOf(`services:
  web:
    command: x
    rollout: { max_parallel: 0, ready_timeout: 0s, splay: 5s }
`),
    ).toEqual([
      expect.stringMatching(
        /^\/p\/tend\.yaml:4:30: services\.web\.rollout\.max_parallel: must be at least 1/,
      ),
      expect.stringMatching(
        /^\/p\/tend\.yaml:4:48: services\.web\.rollout\.ready_timeout: must be at least 1ms/,
      ),
      expect.stringMatching(
        /^\/p\/tend\.yaml:4:52: unknown key "splay" in services\.web\.rollout; valid keys: max_parallel, ready_timeout/,
      ),
    ]);
    expect(
      errorsOf(`services:
  nightly:
    command: x
    schedule: "@daily"
    rollout: { max_parallel: 2 }
`),
    ).toEqual([
      expect.stringMatching(
        /^\/p\/tend\.yaml:5:5: service "nightly" is a job \(schedule\) and cannot have a rollout/,
      ),
    ]);
  });
});

describe('rollout: every store holds a semaphore', () => {
  it('tend check accepts rollout: on a file store and on etcd, and shows it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-rollout-file-'));
    dirs.push(dir);
    for (const kv of ['file:./kv', 'etcd://127.0.0.1:1/shop/']) {
      writeFileSync(
        join(dir, 'tend.yaml'),
        `name: shop
kv: ${kv}
services:
  web:
    command: exec sleep 60
    rollout: { max_parallel: 2, ready_timeout: 20s }
`,
      );
      const ok = runTend(['check'], { cwd: dir });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(
        /rollout\s+2 tends at a time, each ready within 20s or reverted \(changes that restart or reload it\)/,
      );
    }
  });

  it('refuses rollout: on a file store that is one YAML/JSON document (tend writes nothing into it), at check and at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-rollout-doc-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'kv.yaml'), "# the operator's file\napp:\n  msg: v1\n");
    writeFileSync(
      join(dir, 'tend.yaml'),
      `name: shop
kv: file:./kv.yaml
services:
  web:
    command: exec sleep 60
    rollout: { max_parallel: 2 }
`,
    );
    for (const cmd of ['check', 'up']) {
      const r = runTend([cmd], { cwd: dir });
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(
        /tend\.yaml:6:5: services\.web\.rollout: a file store that is one YAML\/JSON document is the operator's file, and tend writes nothing into it; .*use a folder store/,
      );
    }
    expect(readFileSync(join(dir, 'kv.yaml'), 'utf8')).toBe("# the operator's file\napp:\n  msg: v1\n");
  });
});
