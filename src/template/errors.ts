/**
 * The one error type of the template engine. `message` is exactly what Go's text/template
 * prints, e.g. `template: web.conf:3: unexpected EOF` (parse) or
 * `template: web.conf:3:7: executing "web.conf" at <.a.b>: map has no entry for key "b"` (exec).
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    message: string,
    /** `parse` for syntax errors, `exec` for failures while rendering. */
    readonly kind: 'parse' | 'exec',
  ) {
    super(message);
  }
}
