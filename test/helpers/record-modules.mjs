/**
 * `node --import test/helpers/record-modules.mjs …` with TEND_TEST_MODULE_LOG=FILE: appends the URL of every
 * module the process resolves (tend's own, packages' ESM entries, `node:` builtins) to FILE, one a line, so a
 * test can ask which code a real `tend up` loaded. Packages' internal CommonJS requires are not listed.
 */
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

// the hooks run on their own thread, which loads this file again
if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.TEND_TEST_MODULE_LOG) appendFileSync(process.env.TEND_TEST_MODULE_LOG, `${r.url}\n`);
  return r;
}
