/** The per-template err_missing_key and functions options, through the manifest and `tend render` (the built CLI). */
import { afterEach, describe, expect, it } from 'vitest';
import { runTend } from '../helpers/cli.js';
import { cleanup, project, read } from '../render/harness.js';

afterEach(async () => {
  await cleanup();
});

function manifest(extra: string): string {
  return `
services:
  web:
    command: exec sleep 60
    templates:
      - source: web.tmpl
        destination: etc/web.conf
${extra}`;
}

describe('template options in tend render', () => {
  it('a missing key of a map[string]string renders empty; err_missing_key makes it an error', () => {
    const tmpl = 'b=[{{ (splitToMap "," ":" (key "pairs")).b }}]\n';
    let dir = project({ 'kv/pairs': 'a:x', 'web.tmpl': tmpl, 'tend.yaml': manifest('') });
    let r = runTend(['render', '--once'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(read(dir, 'etc/web.conf')).toBe('b=[]\n');
    dir = project({
      'kv/pairs': 'a:x',
      'web.tmpl': tmpl,
      'tend.yaml': manifest('        err_missing_key: true\n'),
    });
    r = runTend(['render', '--once'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('map has no entry for key "b"');
    expect(read(dir, 'etc/web.conf')).toBeUndefined();
  });

  it('plugin runs only where the template allows it; deny removes a function', () => {
    const tmpl = 'v={{ plugin "echo" "hello" }}\n';
    let dir = project({ 'web.tmpl': tmpl, 'tend.yaml': manifest('') });
    let r = runTend(['render', '--once'], { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('plugin is disabled');
    dir = project({ 'web.tmpl': tmpl, 'tend.yaml': manifest('        functions: { allow: [plugin] }\n') });
    r = runTend(['render', '--once'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(read(dir, 'etc/web.conf')).toBe('v=hello\n');
    dir = project({
      'web.tmpl': '{{ env "HOME" }}',
      'tend.yaml': manifest('        functions: { deny: [env] }\n'),
    });
    r = runTend(['render', '--once'], { cwd: dir });
    expect(r.stderr).toContain("env is denied by this template's functions.deny in the manifest");
  });
});
