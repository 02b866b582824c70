/** Mistakes on the command line get a clean message and exit 2, never a stack trace. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(manifest: string) {
  const dir = mkdtempSync(join(tmpdir(), 'tend-cli-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'tend.yaml'), `state_dir: ${join(dir, 'state')}\n${manifest}`);
  writeFileSync(join(dir, 'a.tmpl'), 'x={{ key "x" }}\n');
  mkdirSync(join(dir, 'kv'));
  writeFileSync(join(dir, 'kv/x'), '1');
  return dir;
}

const web = (enabled: string) =>
  `services:\n  web:\n    command: sleep 1\n    enabled: ${enabled}\n    templates:\n      - { source: a.tmpl, destination: a.conf }\n`;

describe('bad KV store URLs', () => {
  for (const args of [
    ['render', '--kv', 'etcd://[bad'],
    ['render', '--kv', 'bogus://x'],
    ['up', '--kv', 'bogus://x'],
  ]) {
    it(`tend ${args.join(' ')}: a clean message, exit 2`, () => {
      const dir = project(web('true'));
      const r = runTend(args, { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).toMatch(/bad host|unknown KV store URL/);
    });
  }
});

describe('tend render --dry-run with every service disabled', () => {
  it('says which services it skipped and why, and --all renders them', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a manifest's own ${VAR} interpolation
    const dir = project(web('${WEB_ON:-false}'));
    const skipped = runTend(['render', '--dry-run'], { cwd: dir });
    expect(skipped.stderr).toMatch(/skipped: web \(enabled: false, or not named by --only/);
    expect(skipped.stdout).toBe('');
    const all = runTend(['render', '--dry-run', '--all'], { cwd: dir });
    expect(all.code).toBe(0);
    expect(all.stdout).toBe('# web: a.conf (from a.tmpl)\nx=1\n');
    expect(all.stderr).toBe('');
  });
});
