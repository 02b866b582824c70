// A tiny HTTP service: answers with a greeting and how long it has been up.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const started = Date.now();
createServer((req, res) => {
  console.log(`${req.method} ${req.url}`);
  res.end(
    `hello from ${process.env.TEND_SERVICE}, pid ${process.pid}, up ${Math.round((Date.now() - started) / 1000)}s\n`,
  );
}).listen(port, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${port}/`));
process.on('SIGTERM', () => {
  console.log('SIGTERM: closing');
  process.exit(0);
});
