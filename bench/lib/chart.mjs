// The chart of the main figures: one small panel per figure, a horizontal bar per supervisor, tend in colour.
// Plain SVG text, no dependency. A bar far longer than the others (supervisord's 1 s restart pause) is cut at
// the panel's edge and marked, so that the short ones stay readable; its value is printed anyway.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const PANEL_W = 330;
const LABEL_W = 86;
const BAR_W = 170;
const ROW_H = 22;
const TOP = 44;
const COLS = 3;

/**
 * panels: [{ title, note ('lower is better'), unit, rows: [{ name, value, text? }], target?: { value, label } }]
 * Returns the SVG document.
 */
export function chartSvg(panels, { title, subtitle }) {
  const maxRows = Math.max(...panels.map((p) => p.rows.length));
  const panelH = TOP + maxRows * ROW_H + 26;
  const rowsOfPanels = Math.ceil(panels.length / COLS);
  const width = COLS * PANEL_W + 20;
  const height = 58 + rowsOfPanels * panelH + 10;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" role="img">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="17" font-weight="bold" fill="#222">${esc(title)}</text>`,
    `<text x="12" y="44" font-size="11" fill="#555">${esc(subtitle)}</text>`,
  ];
  panels.forEach((p, i) => {
    const x0 = 10 + (i % COLS) * PANEL_W;
    const y0 = 58 + Math.floor(i / COLS) * panelH;
    parts.push(`<g transform="translate(${x0},${y0})">`);
    parts.push(`<rect x="0" y="0" width="${PANEL_W - 10}" height="${panelH - 8}" rx="6" fill="#f7f7f8"/>`);
    parts.push(`<text x="10" y="18" font-size="12.5" font-weight="bold" fill="#222">${esc(p.title)}</text>`);
    parts.push(`<text x="10" y="33" font-size="10.5" fill="#666">${esc(p.note)}</text>`);
    const values = p.rows.map((r) => r.value).filter((v) => Number.isFinite(v) && v > 0);
    const sorted = [...values].sort((a, b) => b - a);
    // cut a bar that dwarfs the rest: the scale then fits the second longest with room to spare
    const cut = sorted.length > 1 && sorted[0] > 6 * sorted[1];
    let scaleMax = cut ? sorted[1] * 1.6 : (sorted[0] ?? 1);
    if (p.target && Number.isFinite(p.target.value) && p.target.value > scaleMax && !cut)
      scaleMax = p.target.value;
    p.rows.forEach((r, j) => {
      const y = TOP + j * ROW_H;
      const isTend = r.name === 'tend';
      parts.push(
        `<text x="10" y="${y + 14}" font-size="11.5" fill="#222"${isTend ? ' font-weight="bold"' : ''}>${esc(r.name)}</text>`,
      );
      if (!Number.isFinite(r.value)) {
        parts.push(
          `<text x="${LABEL_W}" y="${y + 14}" font-size="10.5" fill="#888">${esc(r.text ?? 'n/a')}</text>`,
        );
        return;
      }
      const over = r.value > scaleMax;
      const w = Math.max(1.5, (Math.min(r.value, scaleMax) / scaleMax) * BAR_W);
      const fill = isTend ? '#1b8a7a' : '#9aa3ad';
      parts.push(
        `<rect x="${LABEL_W}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW_H - 7}" fill="${fill}"/>`,
      );
      if (over) {
        const bx = LABEL_W + w - 12;
        parts.push(
          `<path d="M${bx} ${y + 2} l5 ${ROW_H - 5} M${bx + 5} ${y + 2} l5 ${ROW_H - 5}" stroke="#f7f7f8" stroke-width="2.5"/>`,
        );
      }
      parts.push(
        `<text x="${LABEL_W + w + 4}" y="${y + 14}" font-size="10.5" fill="#222">${esc(r.text ?? r.value)}</text>`,
      );
    });
    if (p.target && Number.isFinite(p.target.value) && p.target.value <= scaleMax) {
      const tx = LABEL_W + (p.target.value / scaleMax) * BAR_W;
      const yEnd = TOP + p.rows.length * ROW_H;
      parts.push(
        `<line x1="${tx.toFixed(1)}" y1="${TOP - 2}" x2="${tx.toFixed(1)}" y2="${yEnd}" stroke="#c0392b" stroke-dasharray="3 2"/>`,
        `<text x="${tx.toFixed(1)}" y="${yEnd + 12}" font-size="9.5" fill="#c0392b" text-anchor="middle">${esc(p.target.label)}</text>`,
      );
    }
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
