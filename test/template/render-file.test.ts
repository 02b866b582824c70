/** The library side of `tend template FILE [--data JSON_FILE]`. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goFloat, memorySource, renderFileOnce, TemplateError } from '../../src/template/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tend-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('renderFileOnce', () => {
  it('renders with dot bound to the JSON data file (ints stay ints, 1.0 stays a float)', () => {
    const file = write('a.tmpl', '{{ .name }} {{ .n }} {{ printf "%T %T" .n .f }} {{ .f }}\n');
    const dataFile = write('a.json', '{"name": "web", "n": 3, "f": 1.0}');
    expect(renderFileOnce({ file, dataFile }).output).toBe('web 3 int float64 1\n');
  });
  it('reads the KV source and files from disk', () => {
    const motd = write('motd', 'hi');
    const file = write('b.tmpl', `{{ key "app/port" }} {{ file "${motd}" }} {{ keyOrDefault "x" "d" }}`);
    const res = renderFileOnce({
      file,
      source: memorySource({ kv: { app: { port: '8080' } }, readFiles: true }),
    });
    expect(res.output).toBe('8080 hi d');
    expect(res.missing).toEqual([]);
  });
  it('reports keys that would block', () => {
    const file = write('c.tmpl', '{{ key "nope" }}');
    expect(renderFileOnce({ file }).missing).toEqual(['key:nope']);
  });
  it('throws Go-style errors named after the file', () => {
    const file = write('bad.tmpl', 'line\n{{ if .x }}');
    expect(() => renderFileOnce({ file })).toThrow(
      new TemplateError('template: bad.tmpl:2: unexpected EOF', 'parse'),
    );
    const exec = write('exec.tmpl', '{{ index .l 5 }}');
    try {
      renderFileOnce({ file: exec, data: { l: [1], f: goFloat(2) } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TemplateError);
      expect((e as TemplateError).kind).toBe('exec');
      expect((e as Error).message).toBe(
        'template: exec.tmpl:1:3: executing "exec.tmpl" at <index .l 5>: error calling index: index out of range: 5',
      );
    }
  });
  it('rejects a bad data file with a clear message', () => {
    const file = write('d.tmpl', 'x');
    const dataFile = write('d.json', '{oops');
    expect(() => renderFileOnce({ file, dataFile })).toThrow(/data file .*d\.json/);
  });
});
