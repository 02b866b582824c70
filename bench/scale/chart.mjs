// One line chart per figure of the scale run: services (or keys) on a log axis (x), the figure on a log axis (y) when it
// spans more than a factor of 20, else linear from 0. Plain SVG text, no dependency; tend in colour.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = { tend: '#1f77b4', runit: '#7f7f7f', supervisord: '#d62728', pm2: '#2ca02c' };
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const W = 560;
const H = 340;
const L = 70;
const R = 110;
const T = 52;
const B = 46;

const label = (v) => {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
};

/** The round step (1, 2 or 5 × a power of ten) at or above x. */
function niceStep(x) {
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

/** series: [{ name, points: [[services, value], …] }] → the SVG document */
export function lineChartSvg({ title, subtitle, series, xLabel = 'services (log scale)' }) {
  const all = series.flatMap((s) => s.points);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" role="img">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold" fill="#222">${esc(title)}</text>`,
    `<text x="12" y="40" font-size="11" fill="#555">${esc(subtitle)}</text>`,
  ];
  if (all.length === 0) {
    parts.push(`<text x="${L}" y="${T + 40}" font-size="12" fill="#555">no data</text></svg>`);
    return parts.join('\n');
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const x0 = Math.log10(Math.min(...xs));
  const x1 = Math.max(Math.log10(Math.max(...xs)), x0 + 1);
  const yPos = ys.filter((y) => y > 0);
  const logY = yPos.length === ys.length && Math.max(...ys) / Math.min(...yPos) > 20;
  let y0;
  let y1;
  if (logY) {
    y0 = Math.floor(Math.log10(Math.min(...yPos)));
    y1 = Math.ceil(Math.log10(Math.max(...yPos)));
    if (y1 === y0) y1 = y0 + 1;
  } else {
    y0 = 0;
    y1 = niceStep((Math.max(...ys) || 1) / 4) * 4;
    if (y1 < Math.max(...ys) * 1.05) y1 += y1 / 4;
  }
  const pw = W - L - R;
  const ph = H - T - B;
  const px = (x) => L + ((Math.log10(x) - x0) / (x1 - x0)) * pw;
  const py = (y) => {
    const v = logY ? Math.log10(Math.max(y, 10 ** y0)) : y;
    return T + ph - ((v - y0) / (y1 - y0)) * ph;
  };
  // axes and grid
  parts.push(`<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let e = Math.ceil(x0); e <= Math.floor(x1); e++) {
    const x = px(10 ** e);
    parts.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${T + ph}" stroke="#eee"/>`);
    parts.push(
      `<text x="${x}" y="${T + ph + 16}" font-size="11" text-anchor="middle" fill="#333">${label(10 ** e)}</text>`,
    );
  }
  for (const c of new Set(xs)) {
    if (Number.isInteger(Math.log10(c))) continue;
    parts.push(
      `<text x="${px(c)}" y="${T + ph + 16}" font-size="11" text-anchor="middle" fill="#333">${label(c)}</text>`,
    );
  }
  parts.push(
    `<text x="${L + pw / 2}" y="${H - 10}" font-size="11" text-anchor="middle" fill="#333">${esc(xLabel)}</text>`,
  );
  const yTicks = logY
    ? Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i))
    : Array.from({ length: Math.round(y1 / niceStep(y1 / 5)) + 1 }, (_, i) => i * niceStep(y1 / 5)).filter(
        (v) => v <= y1 * 1.0001,
      );
  for (const v of yTicks) {
    const y = py(v);
    parts.push(`<line x1="${L}" y1="${y}" x2="${L + pw}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${L - 6}" y="${y + 4}" font-size="11" text-anchor="end" fill="#333">${label(v)}</text>`,
    );
  }
  if (logY)
    parts.push(`<text x="${L - 6}" y="${T - 8}" font-size="10" text-anchor="end" fill="#777">log</text>`);
  // series
  series.forEach((s, i) => {
    const color = COLORS[s.name] ?? PALETTE[i % PALETTE.length];
    const width = s.name === 'tend' ? 3 : 1.6;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1)
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of pts)
      parts.push(
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="3" fill="${color}"><title>${esc(s.name)}: ${label(p[1])} at ${p[0]}</title></circle>`,
      );
    const ly = T + 14 + i * 18;
    parts.push(
      `<line x1="${L + pw + 12}" y1="${ly - 4}" x2="${L + pw + 32}" y2="${ly - 4}" stroke="${color}" stroke-width="${width}"/>`,
    );
    parts.push(`<text x="${L + pw + 36}" y="${ly}" font-size="11" fill="#222">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
