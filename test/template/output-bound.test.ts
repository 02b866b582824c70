import { describe, expect, it } from 'vitest';
import { MAX_OUTPUT } from '../../src/template/exec.js';
import { memorySource, renderWithSource, TemplateError } from '../../src/template/index.js';

describe('the output of one template is bounded', () => {
  it('a template that builds a huge string fails with a template error naming it, not a RangeError', () => {
    const huge = '{{ range loop 100000 }}{{ range loop 100000 }}x{{ end }}{{ end }}';
    let err: unknown;
    try {
      renderWithSource(huge, {}, memorySource({}), { name: 'lb.conf.tmpl' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as Error).message).toMatch(
      /^template: lb\.conf\.tmpl:1:\d+: executing "lb\.conf\.tmpl" at <.*>: output larger than 16 MiB/,
    );
  });

  it('writes output up to the bound', () => {
    const r = renderWithSource(
      `{{ range loop ${MAX_OUTPUT / 1024} }}{{ $.s }}{{ end }}`,
      { s: 'y'.repeat(1024) },
      memorySource({}),
    );
    expect(r.output.length).toBe(MAX_OUTPUT);
  });

  it('a function result larger than JavaScript can hold is a template error too', () => {
    const text = '{{ $s := "x" }}{{ range loop 40 }}{{ $s = print $s $s }}{{ end }}{{ len $s }}';
    expect(() => renderWithSource(text, {}, memorySource({}))).toThrow(TemplateError);
    expect(() => renderWithSource(text, {}, memorySource({}))).toThrow(
      /executing "template" at <print \$s \$s>: error calling print: Invalid string length/,
    );
  });
});
