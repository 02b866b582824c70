// A tiny HTTP service: answers with the greeting from the config file tend renders (etc/web.json).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const config = JSON.parse(readFileSync(new URL('../etc/web.json', import.meta.url), 'utf8'));
const port = Number(process.env.PORT ?? 8080);
const started = Date.now();
createServer((req, res) => {
  console.log(`${req.method} ${req.url}`);
  const up = Math.round((Date.now() - started) / 1000);
  res.end(`${config.greeting} (pid ${process.pid}, up ${up}s, ${config.workers} workers)\n`);
}).listen(port, '127.0.0.1', () =>
  console.log(`listening on http://127.0.0.1:${port}/ with "${config.greeting}"`),
);
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  process.exit(0);
});
