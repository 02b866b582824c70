import { readFileSync } from 'node:fs';

/**
 * Read once from package.json, so a release bump needs no code change. The build sits two folders below it
 * (dist/runtime), or three in the tests' per-run builds (.test-dist/run-N/runtime).
 */
export const VERSION: string = (() => {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'tend') return pkg.version;
    } catch {}
  }
  return '0.0.0';
})();
