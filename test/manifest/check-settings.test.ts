/**
 * `tend check` shows what a settings change does to each service (`on_settings_change`, else
 * `settings.on_change`) and where its reload and signal actions go (`reload_signal`, `signal_group`): these
 * keys used to be accepted and acted on, but missing from the text a user checks a manifest with.
 */
import { describe, expect, test } from 'vitest';
import { formatPlan } from '../../src/manifest/index.js';
import { load } from './helpers.js';

/** The rows of one service in `tend check`, label → value. */
function rows(text: string, service: string): Record<string, string> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^  \\d+\\. ${service}\\b`).test(l));
  expect(start).toBeGreaterThan(-1);
  const out: Record<string, string> = {};
  for (const l of lines.slice(start + 1)) {
    const m = /^ {5}(\S+) +(.*)$/.exec(l);
    if (!m) break;
    out[m[1]] = m[2];
  }
  return out;
}

describe('tend check and settings changes', () => {
  const manifest = `
settings:
  kv_prefix: app/
  on_change: reload
services:
  inherits:
    command: exec sleep 60
  own:
    command: exec sleep 60
    on_settings_change: { signal: SIGUSR2 }
    signal_group: true
  quiet:
    command: exec sleep 60
    on_settings_change: none
    reload_signal: SIGUSR1
  job:
    command: 'true'
    schedule: '* * * * *'
`;

  test('each service says what a change under settings.kv_prefix does to it', () => {
    const text = formatPlan(load(manifest).plan);
    expect(text).toMatch(/^ {2}settings +.*← kv app\/ \(on change reload\)$/m);
    expect(rows(text, 'inherits')).toMatchObject({
      settings: 'on change reload',
      reload: 'SIGHUP; reload and signal actions go to the main process',
    });
    expect(rows(text, 'own')).toMatchObject({
      settings: 'on change SIGUSR2',
      reload: 'SIGHUP; reload and signal actions go to the whole process group',
    });
    expect(rows(text, 'quiet')).toMatchObject({
      settings: 'on change none',
      reload: 'SIGUSR1; reload and signal actions go to the main process',
    });
    expect(rows(text, 'job').settings).toBe('on change none (a job reads the settings at each run)');
  });

  test('without settings.kv_prefix, an on_settings_change that can never act says so', () => {
    const text = formatPlan(
      load(`
services:
  plain:
    command: exec sleep 60
  told:
    command: exec sleep 60
    on_settings_change: reload
`).plan,
    );
    expect(rows(text, 'plain').settings).toBeUndefined();
    expect(rows(text, 'plain').reload).toBeUndefined();
    expect(rows(text, 'told').settings).toMatch(
      /^on change reload \(never happens: without settings\.kv_prefix/,
    );
  });

  test('a template shows its sentinel and its delimiters when they are not {{ }}', () => {
    const text = formatPlan(
      load(`
services:
  web:
    command: exec sleep 60
    templates:
      - source: a.tmpl
        destination: a.conf
        sentinel: NOT-YET
        left_delimiter: '[['
        right_delimiter: ']]'
`).plan,
    );
    expect(rows(text, 'web').template).toMatch(
      /output with "NOT-YET" counts as missing, delimiters \[\[ \]\]/,
    );
  });
});
