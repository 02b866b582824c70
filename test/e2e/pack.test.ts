/**
 * `npm pack` makes a package that installs and runs on its own: built by `prepack` from a checkout that has
 * no dist/ (as a fresh clone), installed with `npm i -g --prefix` into an empty folder, then `tend --version`
 * and `tend check` run from the installed bin. Dependencies come from npm's cache when it has them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'tend-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm pack', () => {
  it('packs a built package that `npm i -g` installs and runs', () => {
    const checkout = join(work, 'checkout');
    for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', 'src']) {
      if (existsSync(join(root, f))) cpSync(join(root, f), join(checkout, f), { recursive: true });
    }
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
    expect(existsSync(join(checkout, 'dist'))).toBe(false);

    const npm = (args: string[], cwd: string) =>
      execFileSync('npm', args, {
        cwd,
        encoding: 'utf8',
        env: {
          ...process.env,
          npm_config_update_notifier: 'false',
          npm_config_fund: 'false',
          npm_config_audit: 'false',
        },
        timeout: 180_000,
      });
    npm(['pack', '--pack-destination', work], checkout);
    const tgz = readdirSync(work).find((f) => /^tend-.*\.tgz$/.test(f));
    expect(tgz).toBeDefined();
    const listing = execFileSync('tar', ['tzf', join(work, tgz as string)], { encoding: 'utf8' });
    expect(listing).toMatch(/^package\/dist\/cli\/main\.js$/m);
    expect(listing).not.toMatch(/^package\/(src|test)\//m);

    const prefix = join(work, 'global');
    npm(['i', '-g', '--prefer-offline', '--prefix', prefix, join(work, tgz as string)], work);
    const tend = join(prefix, 'bin', 'tend');
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    expect(execFileSync(tend, ['--version'], { encoding: 'utf8' }).trim()).toBe(version);

    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'tend.yaml'), 'services:\n  hello:\n    command: echo hi\n');
    const check = spawnSync(tend, ['check'], { cwd: project, encoding: 'utf8' });
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/1\. hello/);
  }, 240_000);
});
