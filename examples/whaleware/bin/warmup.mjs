#!/usr/bin/env node
// After the services started: wait for the app to answer, then send it a few requests so that the first
// real user does not pay for cold caches. Only then is the app UP.
import { readFileSync } from 'node:fs';

const settings = JSON.parse(readFileSync(process.env.TEND_SETTINGS_FILE, 'utf8'));
const url = `http://127.0.0.1:${settings.port}/stats`;
const deadline = Date.now() + 20_000;
for (;;) {
  try {
    const res = await fetch(url);
    if (res.ok) break;
  } catch {}
  if (Date.now() > deadline) {
    console.error(`the app did not answer on ${url}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 50));
}
for (let i = 0; i < (settings.warmup?.requests ?? 0); i++) await fetch(`http://127.0.0.1:${settings.port}/`);
console.log(`warmed up with ${settings.warmup?.requests ?? 0} requests`);
