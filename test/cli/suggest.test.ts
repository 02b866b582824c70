import { describe, expect, it } from 'vitest';
import { closest, editDistance } from '../../src/cli/suggest.js';

const COMMANDS = [
  'up',
  'run',
  'check',
  'schema',
  'status',
  'ps',
  'ls',
  'down',
  'start',
  'stop',
  'restart',
  'logs',
];

describe('did you mean', () => {
  it('counts a swap of two letters as one edit', () => {
    expect(editDistance('stauts', 'status')).toBe(1);
    expect(editDistance('top', 'stop')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests a close command and none for a different word', () => {
    expect(closest('stauts', COMMANDS)).toBe('status');
    expect(closest('restrat', COMMANDS)).toBe('restart');
    expect(closest('lgos', COMMANDS)).toBe('logs');
    expect(closest('top', COMMANDS)).toBeUndefined();
    expect(closest('exec', COMMANDS)).toBeUndefined();
    expect(closest('Status', COMMANDS)).toBe('status');
  });

  it('suggests service names the same way', () => {
    expect(closest('wrker', ['web', 'worker'])).toBe('worker');
    expect(closest('db', ['web', 'worker'])).toBeUndefined();
  });
});
