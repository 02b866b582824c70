/**
 * How a notify sink's URL is shown (`tend check`, `tend status`, `/api/status`, tend's stderr lines): scheme
 * and host only, `https://hooks.slack.com/…`. A webhook's secret is as often in its path (Slack's
 * `/services/T…/B…/<token>`, Discord's `/api/webhooks/<id>/<token>`) as in its user info or query, and no rule
 * can tell a token segment from a route, so the whole path, query, fragment and user info are left out. The
 * URL the requests go to is never changed.
 */
export function redactWebhookUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // not a URL at all: nothing of it is safe to show
    return '(an invalid URL)';
  }
  const hidden =
    u.pathname !== '/' || u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '';
  return `${u.protocol}//${u.host}/${hidden ? '…' : ''}`;
}

/**
 * Every http(s) URL inside a text (a notify `exec` command such as `curl -d @- https://hooks.slack.com/…`)
 * shown as `redactWebhookUrl` shows one.
 */
export function redactUrlsIn(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s'"`<>]+/gi, (m) => redactWebhookUrl(m));
}
