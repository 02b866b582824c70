/** Real manifest files in temp folders, and short ways to look at what the loader says about them. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type Loaded, type LoadOptions, loadManifest, ManifestError } from '../../src/manifest/index.js';

const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tend-manifest-'));
  dirs.push(d);
  return d;
}

/** Writes `text` as tend.yaml in a fresh folder; returns the file's path. */
export function writeManifest(text: string, name = 'tend.yaml'): string {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  return file;
}

export function load(text: string, opts: LoadOptions = {}): Loaded & { file: string } {
  const file = writeManifest(text);
  return { ...loadManifest(file, { env: {}, ...opts }), file };
}

/** The errors of a manifest that must fail, as `line:column: message` (the file name left out). */
export function errorsOf(text: string, opts: LoadOptions = {}): string[] {
  const file = writeManifest(text);
  try {
    loadManifest(file, { env: {}, ...opts });
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    for (const i of e.errors) if (i.file !== file) throw new Error(`error names ${i.file}, not ${file}`);
    return e.errors.map((i) => `${i.line}:${i.column}: ${i.message}`);
  }
  throw new Error('the manifest loaded, but errors were expected');
}

/** `file:line:col: message` warnings without the file part. */
export function warningsOf(loaded: Loaded & { file: string }): string[] {
  return loaded.warnings.map((w) => w.slice(loaded.file.length + 1));
}
