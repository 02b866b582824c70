/** `tend export dotenv|envfile|configmap` end to end: a manifest, a file KV store, the built CLI. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { runTend } from '../helpers/cli.js';
import { parseComposeDotenv, parseSystemdEnvFile } from './parsers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const GREETING = `it's "quoted", costs $5 # really\nsecond line`;

function project() {
  const dir = mkdtempSync(join(tmpdir(), 'tend-export-'));
  dirs.push(dir);
  const files: Record<string, string> = {
    'tend.yaml': `
name: Shop
settings:
  defaults: { db: { host: localhost, port: 5432 }, motd: "hi $$USER" }
  kv_prefix: settings/
services:
  web:
    command: exec gunicorn app:app
    env: { PORT: "8080", MODE: "from env" }
    env_from: [{ prefix: config/web }]
  worker:
    command: exec worker
    enabled: false
    env_from: [{ prefix: config/worker }]
`,
    'kv/settings/db/port': '6543',
    'kv/config/web/db/host': 'db.internal',
    'kv/config/web/greeting': GREETING,
    'kv/config/web/mode': 'from kv',
    'kv/config/worker/queue-name': 'jobs',
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const CFG = JSON.stringify({ db: { host: 'localhost', port: '6543' }, motd: 'hi $USER' });
const SETTINGS = {
  CFG,
  SETTINGS_DB_HOST: 'localhost',
  SETTINGS_DB_PORT: '6543',
  SETTINGS_MOTD: 'hi $USER',
};

describe('tend export dotenv|envfile|configmap', () => {
  it('dotenv: settings and the env_from of every enabled service', () => {
    const dir = project();
    const r = runTend(['export', 'dotenv'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(Object.fromEntries(parseComposeDotenv(r.stdout))).toEqual({
      ...SETTINGS,
      DB_HOST: 'db.internal',
      GREETING,
      MODE: 'from kv',
    });
  });

  it('envfile --service: also its env, env_from winning, and a disabled service can be exported', () => {
    const dir = project();
    const web = runTend(['export', 'envfile', '--service', 'web'], { cwd: dir });
    expect(web.code, web.stderr).toBe(0);
    expect(Object.fromEntries(parseSystemdEnvFile(web.stdout))).toEqual({
      ...SETTINGS,
      PORT: '8080',
      MODE: 'from kv',
      DB_HOST: 'db.internal',
      GREETING,
    });
    const worker = runTend(['export', 'envfile', '--service', 'worker', '--settings', 'none'], { cwd: dir });
    expect(worker.code, worker.stderr).toBe(0);
    expect(worker.stderr).toBe('');
    expect(Object.fromEntries(parseSystemdEnvFile(worker.stdout))).toEqual({ QUEUE_NAME: 'jobs' });
  });

  it('configmap: a ConfigMap named after the app and service, all values strings', () => {
    const dir = project();
    const r = runTend(
      ['export', 'configmap', '--service', 'web', '--namespace', 'prod', '--settings', 'json'],
      {
        cwd: dir,
        env: { CFG: '{"motd":"from $CFG"}' },
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const doc = YAML.parse(r.stdout);
    expect(doc.kind).toBe('ConfigMap');
    expect(doc.metadata).toEqual({
      name: 'shop-web',
      namespace: 'prod',
      labels: {
        'app.kubernetes.io/name': 'Shop',
        'app.kubernetes.io/managed-by': 'tend',
        'app.kubernetes.io/component': 'web',
      },
    });
    expect(doc.data).toEqual({
      CFG: JSON.stringify({ db: { host: 'localhost', port: '6543' }, motd: 'from $CFG' }),
      PORT: '8080',
      MODE: 'from kv',
      DB_HOST: 'db.internal',
      GREETING,
    });
  });

  it('--no-kv: settings without the overlay, no env_from', () => {
    const dir = project();
    const r = runTend(['export', 'dotenv', '--no-kv', '--settings', 'flat'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(Object.fromEntries(parseComposeDotenv(r.stdout))).toEqual({
      SETTINGS_DB_HOST: 'localhost',
      SETTINGS_DB_PORT: '5432',
      SETTINGS_MOTD: 'hi $USER',
    });
    expect(r.stdout).toContain('# without the KV store (--no-kv)');
  });

  it('fails with exit 1 and a way out when the KV store does not answer', () => {
    const dir = project();
    const r = runTend(['export', 'envfile', '--kv', 'consul://127.0.0.1:1', '--timeout', '2s'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read settings\/ from the KV store consul:\/\/127\.0\.0\.1:1: .*--no-kv/);
    expect(r.stdout).toBe('');
  });

  it('exit 2 for an unknown service or a bad flag', () => {
    const dir = project();
    const r = runTend(['export', 'dotenv', '--service', 'nope'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown service "nope"/);
    expect(runTend(['export', 'dotenv', '--settings', 'xml'], { cwd: dir }).code).toBe(2);
  });
});
