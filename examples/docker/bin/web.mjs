// A small web service: /ready once it has loaded its settings, /health, and / greeting with the settings'
// greeting. It stops cleanly on SIGTERM, which tend sends on `docker stop`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const settings = JSON.parse(readFileSync(process.env.TEND_SETTINGS_FILE, 'utf8'));
const port = Number(process.env.PORT ?? 8080);

const server = createServer((req, res) => {
  if (req.url === '/ready' || req.url === '/health') return res.end('ok\n');
  res.end(`${settings.greeting} from ${process.env.TEND_APP}/${process.env.TEND_SERVICE}\n`);
});
server.listen(port, '0.0.0.0', () => console.log(`web: listening on ${port}`));
process.on('SIGTERM', () => {
  console.log('web: SIGTERM, closing');
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
