/** A template's err_missing_key and functions: { allow, deny } keys: decoded, checked, shown by `tend check`. */
import { describe, expect, test } from 'vitest';
import { formatPlan } from '../../src/manifest/index.js';
import { errorsOf, load } from './helpers.js';

const head =
  'services:\n  web:\n    command: a\n    templates:\n      - source: a.tmpl\n        destination: a.conf\n';

describe('template options', () => {
  test('defaults: missing keys read as zero values, plugin and writeToFile off, nothing denied', () => {
    const { plan } = load(head);
    const t = plan.services.web.templates[0];
    expect(t.errMissingKey).toBe(false);
    expect(t.functions).toEqual({ allow: [], deny: [] });
  });

  test('err_missing_key and functions reach the plan and the check text', () => {
    const { plan } = load(
      `${head}        err_missing_key: true\n        functions:\n          allow: [plugin]\n          deny: [env, writeToFile]\n`,
    );
    const t = plan.services.web.templates[0];
    expect(t.errMissingKey).toBe(true);
    expect(t.functions).toEqual({ allow: ['plugin'], deny: ['env', 'writeToFile'] });
    expect(formatPlan(plan)).toContain('a missing map key fails, allows plugin, denies env, writeToFile');
  });

  test('an unknown function name is an error with its position and a suggestion', () => {
    expect(
      errorsOf(
        `${head}        functions:\n          allow: [plgin]\n          deny: [toJSON, keyOrDefualt]\n`,
      ),
    ).toEqual([
      '8:19: services.web.templates[0].functions.allow[0]: unknown template function "plgin"; did you mean "plugin"?',
      '9:26: services.web.templates[0].functions.deny[1]: unknown template function "keyOrDefualt"; did you mean "keyOrDefault"?',
    ]);
  });

  test('allow takes only the functions that are off by default', () => {
    expect(errorsOf(`${head}        functions: { allow: [toJSON] }\n`)).toEqual([
      '7:30: services.web.templates[0].functions.allow[0]: "toJSON" is always allowed; allow lists only the functions that are off by default: plugin, writeToFile',
    ]);
  });

  test('an unknown key under functions is an error too', () => {
    expect(errorsOf(`${head}        functions: { denylist: [plugin] }\n`)[0]).toMatch(
      /^7:22: unknown key "denylist" in services\.web\.templates\[0\]\.functions; valid keys: allow, deny/,
    );
  });
});
