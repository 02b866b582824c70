// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in plain strings is the manifest syntax under test
/**
 * A notify URL's secret — Slack's token in the path, `?token=`, `user:password@`, a header value, a URL inside
 * a notify `exec` command — is never shown: not by `tend check` (text and --json), `tend status`,
 * `/api/status`, `/metrics`, tend's stderr lines about a failing sink, nor in events. Only what is sent keeps
 * it: the receiver gets the full path, the query, Basic auth and the header.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redactUrlsIn, redactWebhookUrl } from '../../src/manifest/index.js';
import { http } from '../control/http.js';
import { runTend, startTend, stopAllTends } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await stopAllTends();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('redactWebhookUrl', () => {
  it('keeps scheme and host, and says when it left something out', () => {
    expect(redactWebhookUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET')).toBe(
      'https://hooks.slack.com/…',
    );
    expect(redactWebhookUrl('https://example.com/?token=abc')).toBe('https://example.com/…');
    expect(redactWebhookUrl('http://alice:pw@example.com:8080')).toBe('http://example.com:8080/…');
    expect(redactWebhookUrl('http://alice@example.com/')).toBe('http://example.com/…');
    expect(redactWebhookUrl('http://example.com#frag')).toBe('http://example.com/…');
    expect(redactWebhookUrl('http://127.0.0.1:9000/')).toBe('http://127.0.0.1:9000/');
    expect(redactWebhookUrl('not a url SECRET')).toBe('(an invalid URL)');
  });

  it('finds the URLs inside a command', () => {
    expect(redactUrlsIn("curl -d @- 'https://discord.com/api/webhooks/1/TOKEN' && echo ok")).toBe(
      "curl -d @- 'https://discord.com/…' && echo ok",
    );
  });
});

const SECRET = /XXXXSECRET|T000|B000|t0k3n|token=|b0b|pa55w0rd|h3ad3r|DEADSECRET|EXECSECRET/;

describe('a notify URL tend check refuses', () => {
  it('is not quoted whole in the error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tend-redact-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'tend.yaml'),
      'notify:\n  - webhook: ${HOOK}\nservices:\n  a:\n    command: sleep 1\n',
    );
    const scheme = runTend(['check'], {
      cwd: dir,
      env: { HOOK: 'htps://hooks.slack.com/services/T000/B000/XXXXSECRET' },
    });
    expect(scheme.code).toBe(2);
    expect(scheme.stderr).toContain('expected a http or https URL, got "htps://hooks.slack.com/…"');
    expect(scheme.stderr).not.toMatch(SECRET);
    const invalid = runTend(['check'], { cwd: dir, env: { HOOK: 'http://a b/XXXXSECRET' } });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/notify\[0\]\.webhook: invalid URL/);
    expect(invalid.stderr).not.toMatch(SECRET);
  });
});

describe('notify URLs with secrets, through a real tend up', () => {
  it('are shown as scheme and host everywhere, and sent whole', async () => {
    const got: { url?: string; headers: IncomingHttpHeaders }[] = [];
    const receiver = createServer((req, res) => {
      got.push({ url: req.url, headers: req.headers });
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    servers.push(receiver);
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    // a port nobody listens on: its sink fails, and tend's stderr line about it names the sink
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));

    const dir = mkdtempSync(join(tmpdir(), 'tend-redact-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'tend.yaml'),
      `notify:
  - webhook: http://b0b:pa55w0rd@127.0.0.1:${port}/services/T000/B000/XXXXSECRET?token=t0k3n
    headers: { X-Api-Key: h3ad3r }
  - webhook: http://127.0.0.1:${deadPort}/hooks/DEADSECRET
  - exec: 'cat > /dev/null # http://127.0.0.1:1/x/EXECSECRET'
    events: [app]
  - file: events.jsonl
services:
  web:
    command: exec sleep 600
`,
    );

    const check = runTend(['check'], { cwd: dir });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain(`webhook http://127.0.0.1:${port}/… (timeout`);
    expect(check.stdout).toContain(`webhook http://127.0.0.1:${deadPort}/… (timeout`);
    expect(check.stdout).toContain('exec cat > /dev/null # http://127.0.0.1:1/…');
    expect(check.stdout + check.stderr).not.toMatch(SECRET);
    const json = runTend(['check', '--json'], { cwd: dir });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).notify[0]).toMatchObject({
      url: `http://127.0.0.1:${port}/…`,
      headers: { 'X-Api-Key': '***' },
    });
    expect(json.stdout).not.toMatch(SECRET);

    const t = startTend(['up'], { cwd: dir });
    await t.waitForOutput(/app UP/, 20_000);
    await waitFor(() => got.length > 0, { what: 'an event at the receiver' });
    // what is sent keeps everything
    expect(got[0].url).toBe('/services/T000/B000/XXXXSECRET?token=t0k3n');
    expect(got[0].headers.authorization).toBe(`Basic ${Buffer.from('b0b:pa55w0rd').toString('base64')}`);
    expect(got[0].headers['x-api-key']).toBe('h3ad3r');

    await t.waitForOutput(new RegExp(`notify webhook http://127\\.0\\.0\\.1:${deadPort}/…: `), 15_000);
    const sock = { socketPath: join(dir, '.tend', 'tend.sock') };
    const st = (await http(sock, '/api/status')).text;
    expect(st).toContain(`webhook http://127.0.0.1:${port}/…`);
    expect(st).not.toMatch(SECRET);
    expect((await http(sock, '/metrics')).text).not.toMatch(SECRET);
    const cli = startTend(['status'], { cwd: dir });
    expect(await cli.exit()).toBe(0);
    expect(cli.output()).toContain(`webhook http://127.0.0.1:${deadPort}/…`);
    expect(cli.output()).not.toMatch(SECRET);

    t.kill('SIGTERM');
    await t.exit(20_000);
    expect(t.output()).not.toMatch(SECRET);
    const events = readFileSync(join(dir, 'events.jsonl'), 'utf8');
    expect(events).toMatch(/STOPPED/);
    expect(events).not.toMatch(SECRET);
  });
});
