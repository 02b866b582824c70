/**
 * Builds dist/ once before the tests that run the real CLI. tsc still emits when another module has a type
 * error (the typecheck step of `npm test` reports those), so a broken file elsewhere never hides a CLI test.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default function setup() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'ignore' });
  if (!existsSync(`${root}/dist/cli/main.js`)) throw new Error('build failed: dist/cli/main.js is missing');
}
