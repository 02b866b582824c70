// Template engine benchmark: parse time, and execute time of a 1,000-line template ranging over
// a 10,000-key tree, beside Go's own text/template on the same files.
//
//   npm run build && node bench/template/run.mjs
//   (Go's numbers: go run ./tools/gotemplate bench, which also regenerates bench/template/fixture)
//
// TEND_TEMPLATE_MODULE may point at another build of src/template/index.js.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const modPath = process.env.TEND_TEMPLATE_MODULE;
const mod = await import(
  modPath ? pathToFileURL(modPath).href : new URL('../../dist/template/index.js', import.meta.url).href
);
const { parse, execute, parseJSONData } = mod;

const text = readFileSync(`${here}/fixture/bench.tmpl`, 'utf8');
const data = parseJSONData(readFileSync(`${here}/fixture/bench.json`, 'utf8'));
const go = JSON.parse(readFileSync(`${here}/fixture/go-result.json`, 'utf8'));

function time(runs, fn) {
  const t0 = process.hrtime.bigint();
  let r;
  for (let i = 0; i < runs; i++) r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6 / runs, r];
}

for (let i = 0; i < 20; i++) parse('bench', text); // warm-up
const [parseMs, tpl] = time(200, () => parse('bench', text));
for (let i = 0; i < 5; i++) execute(tpl, data); // warm-up
const [execMs, out] = time(30, () => execute(tpl, data));
const sha = createHash('sha256').update(out, 'utf8').digest('hex');
const same = sha === go.output_sha256;

const ratio = (a, b) => (a / b).toFixed(2);
const md = `# Template engine benchmark

\`node bench/template/run.mjs\` (after \`npm run build\`); Go's column from \`go run ./tools/gotemplate bench\`
(Go ${go.go}, standard library text/template) on the same machine and the same files:
\`bench/template/fixture/bench.tmpl\` (${go.template_lines} lines) over \`bench.json\` (a 10,000-key tree,
a 10,000-entry list of pairs, 50 settings). Output: ${go.output_lines} lines, ${go.output_bytes} bytes;
tend's output is ${same ? 'byte-identical to' : '**different from**'} Go's (sha256 ${sha.slice(0, 16)}…).

| step | tend (Node ${process.versions.node}) | Go ${go.go} | tend / Go |
|---|---:|---:|---:|
| parse (ms, mean of 200) | ${parseMs.toFixed(2)} | ${go.parse_ms.toFixed(2)} | ${ratio(parseMs, go.parse_ms)} |
| execute (ms, mean of 30) | ${execMs.toFixed(2)} | ${go.execute_ms.toFixed(2)} | ${ratio(execMs, go.execute_ms)} |

Target: within 3x of Go. Timings vary run to run by ±20%; ratios are what matter.
`;
writeFileSync(`${here}/RESULTS.md`, md);
console.log(md);
if (!same) process.exitCode = 1;
