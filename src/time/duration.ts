/**
 * The one human form of a duration in tend's messages: `350ms`, `4.2s`, `5m`, `1m30s`, `1h2m`, `2d3h`.
 * Short on purpose (it sits inside reasons and log lines), and every form but the one-decimal seconds is one
 * `parseDuration` reads back, so a user can paste it into the manifest.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) {
    const s = Math.round(ms / 1000);
    return pair(Math.floor(s / 60), 'm', s % 60, 's');
  }
  const m = Math.round(ms / 60_000);
  if (m < 24 * 60) return pair(Math.floor(m / 60), 'h', m % 60, 'm');
  const h = Math.round(ms / 3_600_000);
  return pair(Math.floor(h / 24), 'd', h % 24, 'h');
}

function pair(big: number, bigUnit: string, small: number, smallUnit: string): string {
  return small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${small}${smallUnit}`;
}
