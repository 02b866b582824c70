import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REFERENCE_PATH, renderReference } from '../../scripts/manifest-reference.mjs';
import { jsonSchema } from '../../src/manifest/index.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('docs', () => {
  it('the manifest reference matches the schema (regenerate: npm run build && node scripts/manifest-reference.mjs)', () => {
    const committed = readFileSync(`${root}${REFERENCE_PATH}`, 'utf8');
    expect(committed).toBe(renderReference(jsonSchema()));
  });
});
