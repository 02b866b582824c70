/** `tend check` names each template that still calls consul-template's pre-0.18 function names. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { templateNotes } from '../../src/template/index.js';
import { runTend } from '../helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tend-old-names-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'templates'));
  writeFileSync(
    join(dir, 'templates/old.ctmpl'),
    'port={{ key_or_default "app/port" "80" }}\n{{ if key_exists "app/debug" }}debug{{ end }}\n',
  );
  writeFileSync(join(dir, 'templates/new.ctmpl'), 'port={{ keyOrDefault "app/port" "80" }}\n');
  writeFileSync(
    join(dir, 'templates/vault.ctmpl'),
    '{{ if env "VAULT" }}{{ with secret "db/creds" }}{{ .Data.password }}{{ end }}{{ end }}{{ nomadVar "x" }}\n',
  );
  writeFileSync(join(dir, 'templates/text.ctmpl'), '# key_or_default is mentioned in text only\n');
  writeFileSync(
    join(dir, 'tend.yaml'),
    `services:
  web:
    command: exec sleep 60
    templates:
      - { source: templates/old.ctmpl, destination: out/old.conf }
      - { source: templates/new.ctmpl, destination: out/new.conf }
      - { source: templates/text.ctmpl, destination: out/text.conf }
  worker:
    command: exec sleep 60
    templates:
      - { source: templates/old.ctmpl, destination: out/old2.conf }
      - { source: templates/missing.ctmpl, destination: out/missing.conf }
      - { source: templates/vault.ctmpl, destination: out/vault.conf }
`,
  );
  return dir;
}

const NOTE =
  'note: templates/old.ctmpl uses key_or_default (now keyOrDefault), key_exists (now keyExists): names from before consul-template 0.18; they still work';

const VAULT_NOTE =
  'note: templates/vault.ctmpl calls secret, nomadVar: tend has no Vault or Nomad support, so a render fails if the call runs (docs/templates.md)';

describe('tend check and the old function names', () => {
  it('prints one line per template file using an old name, with the current name', () => {
    const dir = project();
    const r = runTend(['check'], { cwd: dir });
    expect(r.code).toBe(0);
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('note:'));
    // templates/missing.ctmpl cannot be read: a note of its own (test/render/template-errors.test.ts)
    expect(notes.filter((l) => !l.includes('cannot be read now'))).toEqual([NOTE, VAULT_NOTE]);
  });
  it('keeps --json output parseable: the notes go to stderr', () => {
    const dir = project();
    const r = runTend(['check', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toContain(NOTE);
    expect(r.stderr).toContain(VAULT_NOTE);
  });
  it('templateNotes skips unreadable files and templates without old names', () => {
    const dir = project();
    expect(
      templateNotes(
        [
          { source: join(dir, 'templates/new.ctmpl') },
          { source: join(dir, 'templates/missing.ctmpl') },
          { source: join(dir, 'templates/old.ctmpl') },
        ],
        dir,
      ),
    ).toEqual([NOTE]);
  });
});
