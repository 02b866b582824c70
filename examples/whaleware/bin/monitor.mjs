#!/usr/bin/env node
// Every interval while UP: print a JSON object of health statistics (tend publishes it as a `stats` event,
// whaleware's pushstats) and exit non-zero when the app needs a restart.
import { readFileSync } from 'node:fs';

const { port } = JSON.parse(readFileSync(process.env.TEND_SETTINGS_FILE, 'utf8'));
try {
  const res = await fetch(`http://127.0.0.1:${port}/stats`, { signal: AbortSignal.timeout(3000) });
  const stats = await res.json();
  console.log(JSON.stringify(stats));
  if (!res.ok) {
    console.error(`app reports unhealthy (HTTP ${res.status})`);
    process.exit(1);
  }
} catch (err) {
  console.error(`app unreachable: ${err.message}`);
  process.exit(2);
}
