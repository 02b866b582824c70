import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsonSchema } from '../../src/manifest/index.js';

describe('tend.schema.json', () => {
  it('is the schema `tend schema` prints (regenerate: node dist/cli/main.js schema > tend.schema.json)', () => {
    const committed = JSON.parse(readFileSync(new URL('../../tend.schema.json', import.meta.url), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(jsonSchema())));
  });
});
