import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PATH, renderReference } from '../../scripts/manifest-reference.mjs';
import { jsonSchema } from '../../src/manifest/index.js';
import { runTend } from '../helpers/cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('docs', () => {
  it('the manifest reference matches the schema (regenerate: npm run build && node scripts/manifest-reference.mjs)', () => {
    const committed = readFileSync(`${root}${REFERENCE_PATH}`, 'utf8');
    expect(committed).toBe(renderReference(jsonSchema()));
  });

  it('every tend.yaml shown in the guides is a valid manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-docs-'));
    try {
      let checked = 0;
      for (const name of readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))) {
        const text = readFileSync(join(root, 'docs', name), 'utf8');
        for (const [, yaml] of text.matchAll(/```yaml\n([\s\S]*?)```/g)) {
          if (!/^services:/m.test(yaml)) continue;
          writeFileSync(join(dir, 'tend.yaml'), yaml);
          const r = runTend(['check'], { cwd: dir });
          expect(r.code, `${name}:\n${yaml}\n${r.stderr}`).toBe(0);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
