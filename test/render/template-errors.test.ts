/**
 * A template that does not parse or fails to execute is a template error, said as one (issue 20): `tend up`
 * names the service and the template's file and line instead of "config incomplete", `/api/status` gives the
 * template its own state, and `tend check` refuses such a file before anything starts.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-tpl-errors-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const MANIFEST = `services:
  holder:
    command: exec sleep 60
    templates:
      - { source: templates/x.ctmpl, destination: out/x.conf }
`;

const BAD = 'a={{ key "a" }}\nb=2\nc={{ nosuchfunc "x" }}\n';

describe('tend up and a template error', () => {
  it('fails the service with "template error in FILE:LINE", not "config incomplete"', async () => {
    const dir = project({ 'tend.yaml': MANIFEST, 'templates/x.ctmpl': BAD, 'kv/a': '1' });
    const t = startTend(['up'], { cwd: dir });
    const failed = await t.waitForOutput(/holder failed[^\n]*/, 20_000);
    expect(failed[0]).toContain('template error in templates/x.ctmpl:3: function "nosuchfunc" not defined');
    expect(failed[0]).not.toContain('config incomplete');
    // its own event, naming the service
    expect(t.output()).toContain(
      'holder: template error in templates/x.ctmpl:3: function "nosuchfunc" not defined',
    );
    // its own state in /api/status
    const s = runTend(['status', '--json'], { cwd: dir });
    expect(s.code).toBe(0);
    const view = JSON.parse(s.stdout);
    expect(view.templates).toEqual([
      expect.objectContaining({
        service: 'holder',
        state: 'template-error',
        reason: expect.stringMatching(
          /^template error in templates\/x\.ctmpl:3: function "nosuchfunc" not defined/,
        ),
      }),
    ]);
    expect(view.services[0].reason).toMatch(/^template error in templates\/x\.ctmpl:3:/);
  });

  it('an execution error is a template error too, and complete data later starts the service', async () => {
    const dir = project({
      'tend.yaml': MANIFEST,
      'templates/x.ctmpl': '{{ with $c := key "cfg" | parseJSON }}port={{ $c.port }}{{ end }}\n',
      'kv/cfg': 'not json',
    });
    const t = startTend(['up'], { cwd: dir });
    const line = await t.waitForOutput(/holder: template error in templates\/x\.ctmpl:1:\d+: [^\n]*/, 20_000);
    expect(line[0]).toContain('parseJSON');
    expect(t.output()).not.toMatch(/config incomplete/);
    writeFileSync(join(dir, 'kv/cfg'), '{"port": 80}');
    await t.waitForOutput(/holder running/, 20_000);
  });
});

describe('tend check and template sources', () => {
  it('refuses a template that does not parse, with its path and line, exit 2', () => {
    const dir = project({ 'tend.yaml': MANIFEST, 'templates/x.ctmpl': BAD });
    const r = runTend(['check'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'template error in templates/x.ctmpl:3: function "nosuchfunc" not defined (template of holder)',
    );
    expect(r.stdout).toBe('');
  });

  it("refuses a syntax error the same way, and parses with the template's own delimiters", () => {
    const dir = project({
      'tend.yaml': `services:
  a:
    command: exec sleep 60
    templates:
      - { source: t/ok.tmpl, destination: out/ok, left_delimiter: "[[", right_delimiter: "]]" }
      - { source: t/broken.tmpl, destination: out/broken }
`,
      't/ok.tmpl': '{{ this is not parsed }} [[ key "a" ]]\n',
      't/broken.tmpl': 'x\n{{ if true }}open\n',
    });
    const r = runTend(['check'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^template error in t\/broken\.tmpl:3: unexpected EOF \(template of a\)$/m);
    expect(r.stderr).not.toContain('ok.tmpl');
  });

  it('a source that cannot be read yet (generated at boot) is a note, not an error', () => {
    const dir = project({
      'tend.yaml': `services:
  holder:
    command: exec sleep 60
    templates:
      - { source: generated/x.ctmpl, destination: out/x.conf }
`,
    });
    const r = runTend(['check'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^note: generated\/x\.ctmpl \(template of holder\) cannot be read now .*: it is parsed when it renders$/m,
    );
  });
});
