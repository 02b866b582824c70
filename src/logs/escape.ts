/**
 * What a service prints reaches tend's terminal through the echo and `tend logs`. Raw control characters there
 * let a service rewrite the operator's screen: clear it, set the window title, or erase its own line with
 * `\r\e[K` and print a fake `tend | web ready`. So on tend's terminal output every control character but tab
 * is shown escaped (`\r`, `\x1b`, `\u009b`); the log files keep the bytes as written.
 */

// C0 controls but tab (newlines never reach here: lines are split on them), DEL, and the C1 controls (0x9b is
// a CSI on terminals that take 8-bit controls)
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f\u0080-\u009f]/g;

function escapeOne(c: string): string {
  const code = c.charCodeAt(0);
  if (code === 0x0d) return '\\r';
  if (code === 0x0a) return '\\n';
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u${code.toString(16).padStart(4, '0')}`;
}

/** `text` with every control character but tab written out as an escape. */
export function escapeControls(text: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, escapeOne) : text;
}
