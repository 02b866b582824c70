/** Durations and sizes: examples, messages, and properties over generated inputs. */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { formatDuration, formatSize, parseDuration, parseSize, UnitError } from '../../src/manifest/index.js';

describe('parseDuration', () => {
  test.each([
    ['0', 0],
    ['100ms', 100],
    ['10s', 10_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1500],
    ['0s', 0],
    [' 2s ', 2000],
  ])('%s → %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  test.each([
    ['10', 'invalid duration "10": add a unit, e.g. "10s" or "10ms"'],
    ['2.5', 'invalid duration "2.5": add a unit, e.g. "2.5s" or "2.5ms"'],
    [
      '10 seconds',
      'invalid duration "10 seconds": expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s',
    ],
    [
      '',
      'invalid duration "": expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s',
    ],
    [
      '-1s',
      'invalid duration "-1s": expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s',
    ],
    [
      '1m 30s',
      'invalid duration "1m 30s": expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s',
    ],
    [
      '10S',
      'invalid duration "10S": expected a number followed by a unit (ms, s, m, h, d), e.g. 100ms, 10s, 5m, 1h or 1m30s',
    ],
    ['99999999999999999999d', 'invalid duration "99999999999999999999d": too large'],
  ])('%j is refused', (s, message) => {
    expect(() => parseDuration(s)).toThrow(new UnitError(message));
  });

  test('formatDuration', () => {
    expect([0, 1, 999, 1000, 90_000, 3_723_004, 86_400_000].map(formatDuration)).toEqual([
      '0s',
      '1ms',
      '999ms',
      '1s',
      '1m30s',
      '1h2m3s4ms',
      '1d',
    ]);
  });
});

describe('parseSize', () => {
  test.each([
    ['0', 0],
    ['512B', 512],
    ['10KB', 10 * 1024],
    ['50MB', 50 * 1024 ** 2],
    ['1GB', 1024 ** 3],
    ['2TB', 2 * 1024 ** 4],
    ['1KiB', 1024],
    ['3MiB', 3 * 1024 ** 2],
    ['1GiB', 1024 ** 3],
    ['10mb', 10 * 1024 ** 2],
    ['1.5KB', 1536],
  ])('%s → %d bytes', (s, bytes) => {
    expect(parseSize(s)).toBe(bytes);
  });

  test.each([
    ['10', 'invalid size "10": add a unit, e.g. "10MB" or "10B"'],
    [
      '10 MB',
      'invalid size "10 MB": expected a number followed by a unit (B, KB, MB, GB, TB; binary, 1KB = 1024B), e.g. 512B or 10MB',
    ],
    [
      '10XB',
      'invalid size "10XB": expected a number followed by a unit (B, KB, MB, GB, TB; binary, 1KB = 1024B), e.g. 512B or 10MB',
    ],
    [
      'MB',
      'invalid size "MB": expected a number followed by a unit (B, KB, MB, GB, TB; binary, 1KB = 1024B), e.g. 512B or 10MB',
    ],
    ['99999999999TB', 'invalid size "99999999999TB": too large'],
  ])('%j is refused', (s, message) => {
    expect(() => parseSize(s)).toThrow(new UnitError(message));
  });

  test('formatSize', () => {
    expect([0, 1, 1023, 1024, 1536, 10 * 1024 ** 2, 1024 ** 3].map(formatSize)).toEqual([
      '0B',
      '1B',
      '1023B',
      '1KB',
      '1536B',
      '10MB',
      '1GB',
    ]);
  });
});

describe('properties', () => {
  const onlyUnitErrors = (f: (s: string) => number) => (s: string) => {
    try {
      const n = f(s);
      expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
    } catch (e) {
      expect(e).toBeInstanceOf(UnitError);
    }
  };

  // Strings near the grammar find more edge cases than arbitrary unicode alone.
  const nearDuration = fc
    .array(fc.constantFrom('0', '1', '9', '.', 'ms', 's', 'm', 'h', 'd', ' ', '-', 'e', '5', 'µ'), {
      maxLength: 12,
    })
    .map((parts) => parts.join(''));
  const nearSize = fc
    .array(fc.constantFrom('0', '1', '9', '.', 'B', 'K', 'M', 'G', 'T', 'i', 'b', ' ', '-'), {
      maxLength: 10,
    })
    .map((parts) => parts.join(''));

  test('parseDuration returns a whole number of ms or throws UnitError, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), nearDuration),
        onlyUnitErrors(parseDuration),
      ),
      {
        numRuns: 1000,
      },
    );
  });

  test('parseSize returns a whole number of bytes or throws UnitError, whatever the input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), nearSize), onlyUnitErrors(parseSize)),
      {
        numRuns: 1000,
      },
    );
  });

  test('non-strings are refused with UnitError too', () => {
    for (const v of [undefined, null, 10, {}, Object.create(null), Symbol('x')]) {
      expect(() => parseDuration(v as unknown as string)).toThrow(UnitError);
      expect(() => parseSize(v as unknown as string)).toThrow(UnitError);
    }
  });

  const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

  test('a compound of generated parts parses to the sum of its parts', () => {
    const part = fc.tuple(
      fc.integer({ min: 0, max: 10_000 }),
      fc.constantFrom(...(Object.keys(UNIT_MS) as Array<keyof typeof UNIT_MS>)),
    );
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 5 }), (parts) => {
        const text = parts.map(([n, u]) => `${n}${u}`).join('');
        expect(parseDuration(text)).toBe(parts.reduce((sum, [n, u]) => sum + n * UNIT_MS[u], 0));
      }),
    );
  });

  test('formatDuration and parseDuration round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  test('sizes: n units parse to n × the unit; formatSize round-trips', () => {
    const units = {
      B: 1,
      KB: 1024,
      KiB: 1024,
      MB: 1024 ** 2,
      MiB: 1024 ** 2,
      GB: 1024 ** 3,
      GiB: 1024 ** 3,
    } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.constantFrom(...(Object.keys(units) as Array<keyof typeof units>)),
        (n, u) => {
          expect(parseSize(`${n}${u}`)).toBe(n * units[u]);
        },
      ),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (bytes) => {
        expect(parseSize(formatSize(bytes))).toBe(bytes);
      }),
    );
  });
});
