// The web service: a small HTTP server configured from $TEND_SETTINGS_FILE. GET /stats reports its health,
// GET /break makes it report unhealthy, so that the next monitor run asks for a restart.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const settings = JSON.parse(readFileSync(process.env.TEND_SETTINGS_FILE, 'utf8'));
const started = Date.now();
let requests = 0;
let healthy = true;

const server = createServer((req, res) => {
  requests++;
  if (req.url === '/break') healthy = false;
  if (req.url === '/stats' || req.url === '/break') {
    res.writeHead(healthy ? 200 : 500, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        pid: process.pid,
        healthy,
        requests,
        memory: settings.memory,
        uptimeMs: Date.now() - started,
      }),
    );
    return;
  }
  res.end(`${settings.greeting}\n`);
});
server.listen(settings.port, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${settings.port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
