import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { execScript } from '../../src/supervisor/spawn.js';

describe('a one-command service script is exec’d, so the command is the main process', () => {
  it('puts exec before one simple command, after its assignments, keeping redirections', () => {
    expect(execScript('gunicorn app:app -b :8000')).toBe('exec gunicorn app:app -b :8000');
    expect(execScript('PORT=80 FOO="a b" ./server --x')).toBe('PORT=80 FOO="a b" exec ./server --x');
    expect(execScript('cmd >/dev/null 2>&1 # quiet')).toBe('exec cmd >/dev/null 2>&1 # quiet');
    expect(execScript('run --n $(nproc) "a;b" \'c|d\' x\\;y')).toBe(
      'exec run --n $(nproc) "a;b" \'c|d\' x\\;y',
    );
  });

  it('leaves alone anything that is not one simple command, or that it is not sure of', () => {
    for (const script of [
      'a; b',
      'a && b',
      'a || b',
      'a | b',
      'a &',
      'a &>log',
      '(a)',
      'a\nb',
      'exec a',
      'cd /srv && ./run',
      'if true; then a; fi',
      'A=1',
      'echo "$(printf "%s" x)"',
      'trap "" HUP; a',
      'ulimit -n 4096',
    ])
      expect(execScript(script), script).toBeUndefined();
  });

  it('keeps what sh -c did: the same output and exit code', () => {
    for (const script of ['X=7 sh -c \'echo "x=$X"; exit 4\' 2>&1', 'printf "%s\\n" "a;b" c\\|d']) {
      const sh = (s: string) => spawnSync('/bin/sh', ['-c', s], { encoding: 'utf8' });
      const before = sh(script);
      const after = sh(execScript(script) ?? '');
      expect([after.stdout, after.status]).toEqual([before.stdout, before.status]);
    }
  });
});
