// A stand-in for the Python web app: reads the rendered config once at start (as most apps do, hence the
// restart on change), and serves it (without the password) on /config, and /ready for tend's probe.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

/** `[section]` + `key = value` lines → { 'section.key': value } */
function parseIni(text) {
  const conf = {};
  let section = '';
  for (const line of text.split('\n')) {
    const head = /^\s*\[(\w+)\]\s*$/.exec(line);
    if (head) section = head[1];
    const kv = /^\s*(\w+)\s*=\s*(.*)$/.exec(line);
    if (kv) conf[`${section}.${kv[1]}`] = kv[2];
  }
  return conf;
}

const conf = parseIni(readFileSync(process.argv[2] ?? 'etc/web.conf', 'utf8'));
delete conf['database.password'];
const port = Number(conf['web.port'] ?? 8380);
createServer((req, res) => {
  if (req.url === '/ready') return res.end('ok\n');
  res.setHeader('content-type', 'application/json');
  res.end(`${JSON.stringify(conf)}\n`);
}).listen(port, '127.0.0.1', () =>
  console.log(`web: ${conf['web.workers']} workers on 127.0.0.1:${port}, database ${conf['database.host']}`),
);
process.on('SIGTERM', () => process.exit(0));
