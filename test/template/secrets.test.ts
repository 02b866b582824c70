/** Render errors leave the process (status, events, webhooks): they name the key a value came from, never the value. */
import { describe, expect, it } from 'vitest';
import { memorySource, renderWithSource, TemplateError } from '../../src/template/index.js';

const fails = (tpl: string, kv: Record<string, string>, env: Record<string, string> = {}) => {
  const source = { ...memorySource({ kv }), env: (n: string) => env[n] };
  try {
    renderWithSource(tpl, undefined, source);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return (e as Error).message;
  }
  throw new Error('the render did not fail');
};

describe('a value read from the KV store or the environment is never quoted in an error', () => {
  it('parseInt of a key names the key and the function', () => {
    const m = fails('{{ key "db/port" | parseInt }}', { 'db/port': 'hunter2-secret' });
    expect(m).not.toContain('hunter2-secret');
    expect(m).toMatch(/parseInt/);
    expect(m).toContain('<the value of key "db/port">');
  });

  it('values listed from a prefix and environment variables too', () => {
    const m = fails('{{ range ls "db" }}{{ .Value | parseBool }}{{ end }}', {
      'db/flag': 'yes-the-password',
    });
    expect(m).not.toContain('yes-the-password');
    expect(m).toContain('the value of key');
    const e = fails('{{ env "PW" | parseFloat }}', {}, { PW: 'p4ssw0rd!' });
    expect(e).not.toContain('p4ssw0rd!');
    expect(e).toContain('<the value of env PW>');
  });
});
