// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/** `tend schema`: a JSON Schema editors can use, agreeing with the loader. */
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { jsonSchema, parseManifestText } from '../../src/manifest/index.js';
import { SPEC_EXAMPLE } from './spec-example.js';

const ajv = new Ajv({ strict: true, allErrors: true, validateFormats: false });
const validate = ajv.compile(jsonSchema());

function accepts(yaml: string): boolean {
  return validate(parse(yaml)) as boolean;
}

describe('jsonSchema()', () => {
  test('compiles under ajv strict mode, as draft-07', () => {
    const s = jsonSchema();
    expect(s.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(s.required).toEqual(['services']);
  });

  test('accepts the SPEC example, ${VAR} strings included', () => {
    expect(SPEC_EXAMPLE).toContain('enabled: ${WEB_ENABLED:-true}');
    expect(accepts(SPEC_EXAMPLE)).toBe(true);
  });

  test('accepts what the loader accepts', () => {
    const yaml = [
      'http: 7070',
      'x-shared: { a: 1 }',
      'notify: [stdout, { kv: "lifecycle/{app}", events: [app] }]',
      'services:',
      '  web:',
      '    command: [sleep, 10]',
      '    enabled: "no"',
      '    restart: on-failure',
      '    stop: { signal: TERM, timeout: 0 }',
      '    register: { port: "${PORT}" }',
      '    templates: [{ source: a, destination: b, perms: 0640, wait: 2s, on_change: { signal: SIGUSR2 } }]',
      '    health: { tcp: ":80", failures: "${N}" }',
      '    logs: { file: false, max_size: 1GiB }',
      '  job:',
      '    command: x',
      '    schedule: "@daily"',
      '',
    ].join('\n');
    expect(() => parseManifestText(yaml, 't.yaml', { env: { PORT: '80', N: '2' } })).not.toThrow();
    expect(validate.errors ?? null, JSON.stringify(validate.errors)).toBe(null);
    expect(accepts(yaml)).toBe(true);
  });

  test.each([
    ['no services', 'name: x\n'],
    ['an unknown top-level key', 'servics: {}\nservices: { a: { command: x } }\n'],
    ['an unknown service key', 'services: { a: { command: x, restat: always } }\n'],
    ['a command that is a number', 'services: { a: { command: 42 } }\n'],
    ['a duration without a unit', 'services: { a: { command: x, stop: { timeout: "10" } } }\n'],
    ['a bad size', 'services: { a: { command: x, logs: { max_size: 10XB } } }\n'],
    ['a bad signal', 'services: { a: { command: x, stop: { signal: SIGFOO } } }\n'],
    ['two probe kinds', 'services: { a: { command: x, ready: { http: "http://x", tcp: ":1" } } }\n'],
    ['a log health check', 'services: { a: { command: x, health: { log: x } } }\n'],
    ['a bad service name', 'services: { "-a": { command: x } }\n'],
    ['a bad restart policy', 'services: { a: { command: x, restart: sometimes } }\n'],
    ['a port out of range', 'services: { a: { command: x, register: { port: 70000 } } }\n'],
    ['a queue option on a file sink', 'notify: [{ file: x, queue: 3 }]\nservices: { a: { command: x } }\n'],
  ])('refuses %s, as the loader does', (_what, yaml) => {
    expect(() => parseManifestText(yaml, 't.yaml', { env: {} })).toThrow();
    expect(accepts(yaml)).toBe(false);
  });

  test('every service key has a description (editors show them)', () => {
    const service = (
      jsonSchema().properties as Record<string, { additionalProperties: { properties: object } }>
    ).services.additionalProperties.properties as Record<string, { description?: string }>;
    expect(Object.keys(service)).toContain('restart');
    for (const [k, v] of Object.entries(service)) expect(v.description, k).toBeTruthy();
  });

  test('defaults are written in YAML spelling', () => {
    const service = (
      jsonSchema().properties as Record<string, { additionalProperties: { properties: object } }>
    ).services.additionalProperties.properties as Record<string, { default?: unknown }>;
    expect(service.finish_timeout.default).toBe('30s');
    expect(service.reload_signal.default).toBe('SIGHUP');
    expect(service.enabled.default).toBe(true);
  });
});
