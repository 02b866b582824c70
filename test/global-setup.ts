/**
 * Builds the CLI once before the tests that run it as a real process, into a folder of this test run's own
 * (inside the repo, so that node_modules resolves): concurrent runs never see each other's half-written files.
 * tsc still emits when some module has a type error (the typecheck step of `npm test` reports those).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export default function setup() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const outDir = `${root}.test-dist/run-${process.pid}`;
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], {
    cwd: root,
    stdio: 'ignore',
  });
  if (!existsSync(`${outDir}/cli/main.js`)) throw new Error(`build failed: ${outDir}/cli/main.js is missing`);
  process.env.TEND_TEST_CLI = `${outDir}/cli/main.js`;
  return () => rmSync(outDir, { recursive: true, force: true });
}
