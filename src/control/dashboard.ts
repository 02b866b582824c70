/**
 * The dashboard: one self-contained page (inline CSS and vanilla JS, no CDN, works offline) served at `/`.
 * It reads /api/status once, then follows /api/events (SSE) and re-reads the status after each change; logs
 * stream from /api/logs?follow=1. The Fleet tab (`#fleet`) reads /api/fleet every 3 s while it is shown: every
 * tend of the app in the store, whose values anyone who may write under fleet/ chose, so they are set as text
 * only. Every API call carries the token: the page takes it from the address tend printed (`/?token=…`) into
 * the tab's sessionStorage and removes it from the address bar and history at once; without one, it asks for it and its buttons stay disabled. The event stream is read with fetch, not
 * EventSource, which cannot send a header (a token in every stream URL would end up in proxies' logs). Kept as a string module so the build needs no asset step. The page's
 * script avoids backticks and `${` so it can live inside this template literal unescaped.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tend</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #f6f7f9; --panel: #fff; --fg: #1d2430; --dim: #6b7482; --line: #e3e6eb; --accent: #2f6fde;
  --ok: #1f9d55; --warn: #c98a04; --bad: #d3373c; --off: #8a93a0; --info: #2f6fde;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #12161c; --panel: #1a2029; --fg: #e4e8ee; --dim: #8d97a5; --line: #2a323e; --accent: #6ea1ff;
    --ok: #3ccf7d; --warn: #e5b33a; --bad: #ff6b6f; --off: #7d8794; --info: #6ea1ff; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; font-weight: 650; }
header .meta { color: var(--dim); font-size: 13px; }
header .spacer { flex: 1; }
#conn { font-size: 12px; color: var(--dim); }
#conn::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: var(--off); margin-right: 6px; vertical-align: 1px; }
#conn.live::before { background: var(--ok); }
#conn.down::before { background: var(--bad); }
main { display: grid; grid-template-columns: minmax(0, 1fr) 300px; gap: 16px; padding: 16px 20px; }
/* narrower: the side column goes below, its three panels side by side, and the table gets the full width */
@media (max-width: 1240px) {
  main { grid-template-columns: minmax(0, 1fr); gap: 12px; padding: 12px 14px; }
  aside { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 12px; align-items: start; }
  aside section { margin-bottom: 0; }
  th, td { padding: 8px 7px; }
  td.actions button { padding: 3px 8px; }
  /* the exit's time moves to the cell's tooltip */
  td.exit .at { display: none; }
}
@media (max-width: 760px) { aside { grid-template-columns: 1fr; } .charts { grid-template-columns: 1fr; } }
.scroll-x { overflow-x: auto; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; margin-bottom: 16px; }
section > h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--dim); margin: 0; padding: 10px 14px; border-bottom: 1px solid var(--line); display: flex; align-items: center; gap: 8px; }
section > h2 .grow { flex: 1; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 9px 14px; border-bottom: 1px solid var(--line); vertical-align: baseline; }
th { font-size: 12px; color: var(--dim); font-weight: 600; }
tr:last-child td { border-bottom: 0; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: color-mix(in srgb, var(--accent) 5%, transparent); }
tbody tr.selected { background: color-mix(in srgb, var(--accent) 10%, transparent); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono { font-family: var(--mono); font-size: 13px; }
.name { font-weight: 600; }
.tag { font-size: 11px; color: var(--dim); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; margin-left: 6px; font-weight: 500; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; color: #fff; background: var(--off); }
.s-ready, .s-running, .s-UP { background: var(--ok); }
.s-starting, .s-waiting, .s-BOOT, .s-FIRSTBOOT, .s-UPGRADING, .s-WARMUP, .s-RESTARTING { background: var(--info); }
.s-unhealthy, .s-backoff { background: var(--warn); }
.s-failed, .s-exited, .s-ERROR { background: var(--bad); }
.s-stopping, .s-stopped, .s-STOPPING, .s-STOPPED { background: var(--off); }
.reason { color: var(--dim); font-size: 12px; margin-top: 2px; max-width: 46ch; overflow-wrap: anywhere; white-space: normal; }
#services td, #services th { white-space: nowrap; }
#services td.state-cell { white-space: normal; min-width: 14ch; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .dim { color: var(--dim); }
button { font: inherit; font-size: 12px; padding: 3px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
td.actions { white-space: nowrap; text-align: right; }
td.actions button + button { margin-left: 6px; }
#logs { margin: 0; padding: 10px 14px; height: 340px; overflow: auto; font: 12.5px/1.5 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; }
#logs .l-stderr { color: var(--bad); }
#logs .l-tend { color: var(--dim); font-style: italic; }
#logs .svc { color: var(--accent); font-weight: 600; }
.c36 { --svc: #0f9aa8; } .c33 { --svc: #b7860b; } .c32 { --svc: #2e9d3a; } .c35 { --svc: #b03fb0; } .c34 { --svc: #3465d4; }
.c96 { --svc: #17becf; } .c93 { --svc: #d4a017; } .c92 { --svc: #5cb85c; } .c95 { --svc: #e377c2; } .c94 { --svc: #6f8ff0; }
#logs .svc[class*=" c"], .swatch { color: var(--svc); }
.swatch::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 2px; background: var(--svc); margin-right: 6px; vertical-align: 1px; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; padding: 10px 14px 4px; }
.chart h3 { font-size: 12px; font-weight: 600; color: var(--dim); margin: 0 0 4px; display: flex; gap: 8px; }
.chart h3 .grow { flex: 1; }
.chart svg { display: block; width: 100%; height: 120px; }
.chart svg .grid { stroke: var(--line); stroke-width: 1; }
.chart svg .axis { fill: var(--dim); font-size: 10px; }
.chart svg polyline { fill: none; stroke: var(--svc); stroke-width: 1.6; vector-effect: non-scaling-stroke; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0 14px 10px; font-size: 12px; }
#restarts { padding: 4px 14px 12px; }
#restarts svg { display: block; width: 100%; height: auto; }
#restarts svg .lane { fill: var(--dim); font-size: 11px; }
#restarts svg .track { stroke: var(--line); stroke-width: 1; }
#restarts svg .mark { fill: var(--svc); }
#restarts svg .mark.failed { fill: var(--bad); }
table.tpl td { font-size: 12.5px; padding: 6px 14px; }
table.tpl tbody tr { cursor: default; }
.keys { font-family: var(--mono); font-size: 11.5px; color: var(--dim); overflow-wrap: anywhere; }
td.nowrap, th.nowrap { white-space: nowrap; }
.mono { font-family: var(--mono); font-size: 12px; }
select { font: inherit; font-size: 12px; padding: 2px 6px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); }
ol.timeline { list-style: none; margin: 0; padding: 10px 14px; max-height: 300px; overflow: auto; }
ol.timeline li { position: relative; padding: 0 0 12px 18px; border-left: 2px solid var(--line); margin-left: 5px; }
ol.timeline li:last-child { padding-bottom: 0; }
ol.timeline li::before { content: ""; position: absolute; left: -6px; top: 4px; width: 10px; height: 10px; border-radius: 50%; background: var(--off); }
ol.timeline li.t-UP::before { background: var(--ok); } ol.timeline li.t-ERROR::before { background: var(--bad); }
ol.timeline li.t-BOOT::before, ol.timeline li.t-FIRSTBOOT::before, ol.timeline li.t-UPGRADING::before, ol.timeline li.t-WARMUP::before, ol.timeline li.t-RESTARTING::before { background: var(--info); }
ol.timeline li:first-child strong { font-size: 15px; }
ol.timeline .when { color: var(--dim); font-size: 12px; margin-left: 6px; }
ol.timeline .why { color: var(--dim); font-size: 12px; }
ul.events { list-style: none; margin: 0; padding: 6px 14px 10px; max-height: 360px; overflow: auto; font-size: 12.5px; }
ul.events li { padding: 3px 0; border-bottom: 1px dashed var(--line); }
ul.events li:last-child { border-bottom: 0; }
ul.events .when { color: var(--dim); font-family: var(--mono); font-size: 11.5px; margin-right: 6px; }
.empty { color: var(--dim); padding: 12px 14px; }
#notice { display: none; margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; background: color-mix(in srgb, var(--bad) 12%, var(--panel)); border: 1px solid var(--bad); }
#notice.show { display: block; }
#gone { margin: 12px 20px 0; padding: 8px 12px; border-radius: 6px; font-weight: 600; background: color-mix(in srgb, var(--off) 18%, var(--panel)); border: 1px solid var(--off); }
nav.tabs { display: flex; gap: 4px; }
nav.tabs a { padding: 3px 10px; border-radius: 6px; color: var(--dim); text-decoration: none; font-weight: 600; font-size: 13px; }
nav.tabs a:hover { color: var(--accent); }
nav.tabs a.on { color: var(--accent); background: color-mix(in srgb, var(--accent) 12%, transparent); }
#fleet-page { padding: 16px 20px; }
#fleet { table-layout: fixed; min-width: 900px; }
#fleet td { white-space: normal; overflow-wrap: anywhere; vertical-align: top; }
#fleet tbody tr { cursor: default; }
#fleet tbody tr.self { background: color-mix(in srgb, var(--accent) 6%, transparent); }
#fleet .host { overflow-wrap: anywhere; }
#fleet .svc-chip { display: inline-block; margin: 0 8px 3px 0; }
#fleet .svc-chip .badge { font-size: 11px; padding: 0 6px; margin-left: 4px; }
#fleet .tpl-line { margin-bottom: 3px; font-size: 12.5px; }
#fleet .tpl-line .mono, .fleet-note .mono { overflow-wrap: anywhere; }
.hash { font-family: var(--mono); font-size: 11.5px; padding: 0 5px; border-radius: 4px; border: 1px solid var(--line); white-space: nowrap; }
.hash.h0 { border-color: var(--ok); } .hash.h1 { border-color: var(--warn); } .hash.h2 { border-color: var(--bad); }
.hash.h3 { border-color: var(--info); } .hash.h4 { border-color: #b03fb0; } .hash.h5 { border-color: var(--off); }
.fleet-note { padding: 10px 14px; border-bottom: 1px solid var(--line); }
.fleet-note:empty { display: none; }
.fleet-note.bad { color: var(--bad); }
#fleet-configs { padding: 8px 14px; border-bottom: 1px solid var(--line); font-size: 12.5px; }
#fleet-configs:empty { display: none; }
#fleet-configs div { margin: 2px 0; }
#fleet-skipped { padding: 8px 14px; font-size: 12px; color: var(--dim); overflow-wrap: anywhere; }
#fleet-skipped:empty { display: none; }
.rollout-item { font-size: 12.5px; margin-bottom: 3px; overflow-wrap: anywhere; }
/* tend is gone: what is left on the page is its last known state, not a live one */
body.gone main, body.gone #app-state, body.gone #app-ready, body.gone #app-maint { filter: grayscale(1); opacity: .55; }
</style>
</head>
<body>
<header>
  <h1 id="app-name">tend</h1>
  <span id="app-state" class="badge">…</span>
  <span id="app-ready" class="meta"></span>
  <span id="app-maint" class="badge s-unhealthy" hidden>maintenance</span>
  <nav class="tabs" aria-label="pages"><a id="tab-tend" href="#" class="on">This tend</a><a id="tab-fleet" href="#fleet">Fleet</a></nav>
  <span class="spacer"></span>
  <span id="app-meta" class="meta"></span>
  <button id="token-btn" type="button" hidden>enter token</button>
  <span id="conn">connecting</span>
</header>
<div id="notice" role="alert"></div>
<div id="gone" role="alert" hidden></div>
<main>
  <div>
    <section>
      <h2><span class="grow">Services</span><span id="svc-count" class="dim"></span></h2>
      <div class="scroll-x"><table id="services">
        <thead><tr><th>Service</th><th>State</th><th class="num">PID</th><th class="num">Uptime</th><th class="num">CPU</th><th class="num">Mem</th><th class="num" title="restarts; runs for a job">Restarts</th><th>Last exit</th><th>Health</th><th></th></tr></thead>
        <tbody></tbody>
      </table></div>
      <div id="disabled" class="empty" hidden></div>
    </section>
    <section id="usage">
      <h2><span class="grow">CPU and memory</span><span id="usage-span" class="dim"></span></h2>
      <div class="charts">
        <div class="chart"><h3><span class="grow">CPU</span><span id="cpu-max"></span></h3><svg id="cpu-chart" viewBox="0 0 400 120" preserveAspectRatio="none" role="img" aria-label="CPU per service"></svg></div>
        <div class="chart"><h3><span class="grow">Memory</span><span id="mem-max"></span></h3><svg id="mem-chart" viewBox="0 0 400 120" preserveAspectRatio="none" role="img" aria-label="memory per service"></svg></div>
      </div>
      <div id="legend" class="legend"></div>
    </section>
    <section>
      <h2><span class="grow">Restarts</span><span id="restart-count" class="dim"></span></h2>
      <div id="restarts"></div>
    </section>
    <section>
      <h2><span class="grow">Logs</span><select id="log-service" aria-label="service"></select><button id="log-clear" type="button">clear</button></h2>
      <pre id="logs"></pre>
    </section>
  </div>
  <aside>
    <section>
      <h2>Lifecycle</h2>
      <ol id="timeline" class="timeline"></ol>
    </section>
    <section>
      <h2>Templates</h2>
      <div id="templates"></div>
    </section>
    <section>
      <h2>Events</h2>
      <ul id="events" class="events"></ul>
    </section>
  </aside>
</main>
<div id="fleet-page" hidden>
  <section>
    <h2><span class="grow">Fleet</span><span id="fleet-count" class="dim"></span></h2>
    <div id="fleet-note" class="fleet-note"></div>
    <div id="fleet-rollouts" class="fleet-note"></div>
    <div id="fleet-configs"></div>
    <div class="scroll-x"><table id="fleet">
      <colgroup><col style="width: 15%"><col style="width: 8%"><col style="width: 8%"><col style="width: 22%"><col style="width: 27%"><col style="width: 12%"><col style="width: 8%"></colgroup>
      <thead><tr><th>Host</th><th>Version</th><th>State</th><th>Services</th><th>Config (content hash, rendered)</th><th>Rollout</th><th>Since</th></tr></thead>
      <tbody></tbody>
    </table></div>
    <div id="fleet-skipped"></div>
  </section>
</div>
<script>
"use strict";
(function () {
  var colours = {};
  var status = null, fetchedAt = 0, selected = null, refreshTimer = null, logAbort = null;
  // gone: the event stream ended and /api/status does not answer, so tend is not running (or not reachable)
  var streamLive = false, gone = false, goneAt = 0;
  var MAX_LOG_LINES = 2000, MAX_EVENTS = 100;
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function dur(ms) {
    if (ms === undefined || ms === null) return "–";
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + "s";
    var m = Math.floor(s / 60); if (m < 60) return m + "m " + (s % 60) + "s";
    var h = Math.floor(m / 60); if (h < 24) return h + "h " + (m % 60) + "m";
    return Math.floor(h / 24) + "d " + (h % 24) + "h";
  }
  function clock(t) { var d = new Date(t); return d.toLocaleTimeString([], { hour12: false }); }
  function notice(text) { var n = $("notice"); n.textContent = text || ""; n.className = text ? "show" : ""; }

  // the token from the printed address moves to this tab's storage and leaves the address bar and history
  (function takeToken() {
    var q = new URLSearchParams(location.search), t = q.get("token");
    if (t === null) return;
    if (t) sessionStorage.setItem("tend-token", t);
    q.delete("token");
    var rest = q.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  })();
  function token() { return sessionStorage.getItem("tend-token") || ""; }
  function authHeaders() {
    var t = token();
    return t ? { Authorization: "Bearer " + t } : {};
  }
  // no token, or tend refused it: say how to get one, and keep every button disabled
  var tokenRefused = false;
  function canAct() { return !!token() && !tokenRefused; }
  function onUnauthorized() {
    if (tokenRefused) return;
    tokenRefused = true;
    $("token-btn").hidden = false;
    notice(token() ? "tend refused this page's token (tend restarted with a new one?): open the address tend printed at start, or enter the token"
      : "This tend needs its token: open the address tend printed at start (http://…/?token=…), or enter TEND_TOKEN");
    render();
  }
  $("token-btn").addEventListener("click", function () {
    var t = window.prompt("tend's token (TEND_TOKEN, or the one in the address tend printed):");
    if (!t) return;
    sessionStorage.setItem("tend-token", t.trim());
    tokenRefused = false;
    $("token-btn").hidden = true;
    notice("");
    refresh().then(function () { followLogs(); });
    connect();
  });

  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 60);
  }
  function setGone(on) {
    if (gone === on) return;
    gone = on;
    if (on) goneAt = Date.now();
    document.body.classList.toggle("gone", on);
    $("gone").hidden = !on;
    $("gone").textContent = on ? "tend is not running (since " + clock(goneAt) + "): this page shows its last known state" : "";
    render();
  }
  function refresh() {
    return fetch("api/status", { cache: "no-store", headers: authHeaders() }).then(function (r) {
      if (r.status === 401) { onUnauthorized(); return Promise.reject(null); }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (s) {
      status = s; fetchedAt = Date.now(); setGone(false); render();
    }).catch(function (e) { if (e !== null && !streamLive) setGone(true); });
  }

  // "restarting in 2s" counted down from the deadline tend gave, between two reads of the status
  function countdown(text, at) {
    if (!at || !text) return text;
    var left = Math.max(0, at - Date.now());
    var shown = left < 1000 ? Math.round(left) + "ms" : left < 60000 ? Math.ceil(left / 1000) + "s" : dur(left);
    return text.replace(/(restarting|retrying) in [0-9.]+(ms|s|m|h|d)([0-9.]+(ms|s|m|h))?/, function (_m, what) { return what + " in " + shown; });
  }
  function reasonOf(s) {
    if (s.waiting) return s.waiting;
    if (s.state === "waiting" && s.waitingFor && s.waitingFor.length) return s.waitingFor.join("; ");
    if (s.reason) return countdown(s.reason, s.retryAt);
    if (s.health && !s.health.ok) return s.health.check + " check failing" + (s.health.output ? ": " + s.health.output : "");
    return "";
  }
  function healthOf(s) {
    if (!s.checks.health && !s.checks.ready) return el("span", { class: "dim", text: "–" });
    if (!s.health) return el("span", { class: s.ready ? "ok" : "dim", text: s.ready ? "ok" : "pending" });
    return el("span", { class: s.health.ok ? "ok" : "bad", text: s.health.ok ? "ok" : "failing", title: s.health.output || "" });
  }
  function bytes(n) {
    if (n === undefined || n === null) return "–";
    if (n < 1048576) return Math.round(n / 1024) + " KiB";
    if (n < 1073741824) return (n / 1048576).toFixed(n < 104857600 ? 1 : 0) + " MiB";
    return (n / 1073741824).toFixed(1) + " GiB";
  }
  function colourClass(name) {
    var c = colours[name];
    return c ? "c" + c : "";
  }
  function ago(t) { return t ? dur(Date.now() - t) + " ago" : "never"; }
  function runsOf(s) {
    var r = s.runs || { runs: 0 };
    var last = r.last ? (r.last.signal ? r.last.signal : "exit " + r.last.exitCode) : "";
    return el("span", { class: r.last && !r.last.ok ? "bad" : "", title: r.last ? last + ", " + ago(r.last.at) : "no run yet",
      text: r.runs + (r.runs === 1 ? " run" : " runs") + (last ? " · " + last : "") });
  }
  function exitOf(e) {
    if (!e) return "–";
    return (e.signal ? e.signal : String(e.code)) + " · " + clock(e.at);
  }

  function render() {
    if (!status) return;
    var a = status.app, elapsed = (gone ? goneAt : Date.now()) - fetchedAt;
    document.title = a.name + " · " + a.state + " · tend";
    $("app-name").textContent = a.name;
    $("app-state").textContent = a.state;
    $("app-state").className = "badge s-" + a.state;
    $("app-ready").textContent = gone ? "tend is not running" : a.ready ? "ready"
      : "not ready" + (a.notReady && a.notReady.length ? ": " + a.notReady.join(", ") : "");
    $("app-ready").className = "meta " + (a.ready && !gone ? "ok" : "");
    $("app-maint").hidden = !a.maintenance;
    $("app-meta").textContent = "tend " + a.version + " · pid " + a.pid + " · up " + dur(a.uptimeMs + elapsed);
    $("svc-count").textContent = status.services.length + (status.services.length === 1 ? " service" : " services");

    status.services.forEach(function (s) { if (s.colour) colours[s.name] = s.colour; });
    var tbody = document.querySelector("#services tbody");
    var rows = status.services.map(function (s) {
      var up = s.uptimeMs === undefined || s.uptimeMs === null ? undefined : s.uptimeMs + elapsed;
      var running = s.pid !== undefined && s.pid !== null;
      var off = canAct() ? undefined : "disabled";
      var actions = el("td", { class: "actions" }, [
        el("button", { type: "button", "data-action": "restart", text: "Restart", disabled: off }),
        running || s.state === "waiting" || s.state === "backoff" || s.state === "starting"
          ? el("button", { type: "button", "data-action": "stop", text: "Stop", disabled: off })
          : el("button", { type: "button", "data-action": "start", text: "Start", disabled: off })
      ]);
      var tr = el("tr", { "data-service": s.name, class: s.name === selected ? "selected" : "" }, [
        el("td", { class: "nowrap" }, [el("span", { class: "name swatch " + colourClass(s.name), text: s.name }), s.job ? el("span", { class: "tag", text: "job" }) : null,
          s.essential ? el("span", { class: "tag", text: "essential" }) : null]),
        // running but not ready yet (its readiness probe has not passed) is not green
        el("td", { class: "state-cell" }, [el("span", { class: "badge state s-" + (s.state === "running" && !s.ready ? "starting" : s.state), text: s.state }),
          reasonOf(s) ? el("div", { class: "reason", text: reasonOf(s) }) : null]),
        el("td", { class: "num mono pid", text: running ? String(s.pid) : "–" }),
        el("td", { class: "num uptime", text: dur(up) }),
        el("td", { class: "num cpu", text: s.usage ? s.usage.cpu.toFixed(1) + "%" : "–" }),
        el("td", { class: "num mem", text: s.usage ? bytes(s.usage.rssBytes) : "–" }),
        s.job ? el("td", { class: "num restarts" }, [runsOf(s)]) : el("td", { class: "num restarts", text: String(s.restarts) }),
        el("td", { class: "mono exit", title: s.lastExit ? exitOf(s.lastExit) : undefined }, s.lastExit
          ? [s.lastExit.signal ? s.lastExit.signal : String(s.lastExit.code), el("span", { class: "at", text: " · " + clock(s.lastExit.at) })]
          : ["–"]),
        el("td", { class: "health" }, [healthOf(s)]),
        actions
      ]);
      return tr;
    });
    tbody.replaceChildren.apply(tbody, rows);
    var dis = $("disabled");
    dis.hidden = !status.disabled.length;
    dis.textContent = status.disabled.length ? "Disabled: " + status.disabled.join(", ") : "";

    var tl = $("timeline");
    var entries = status.timeline.slice().reverse().map(function (t) {
      return el("li", { class: "t-" + t.state }, [el("strong", { text: t.state }), el("span", { class: "when", text: clock(t.time) }),
        t.reason ? el("div", { class: "why", text: t.reason }) : null]);
    });
    if (!entries.length) entries = [el("li", { class: "t-" + a.state }, [el("strong", { text: a.state }), el("span", { class: "when", text: "since start" })])];
    tl.replaceChildren.apply(tl, entries);

    renderTemplates();
    renderRestarts();

    var sel = $("log-service"), names = ["(all)"].concat(status.services.map(function (s) { return s.name; }));
    var current = Array.prototype.map.call(sel.options, function (o) { return o.value; });
    if (current.join() !== names.join()) {
      sel.replaceChildren.apply(sel, names.map(function (n) { return el("option", { value: n, text: n }); }));
      sel.value = selected || "(all)";
    }
  }

  function renderTemplates() {
    var box = $("templates"), items = [];
    status.services.forEach(function (s) {
      (s.templates || []).forEach(function (t) {
        var state = t.state === "rendered" ? "ok" : t.state === "error" || t.state === "missing" ? "bad" : "dim";
        items.push(el("li", {}, [
          el("div", {}, [el("span", { class: "name swatch " + colourClass(s.name), text: s.name }), " ",
            el("span", { class: "mono", text: t.destination })]),
          el("div", { class: "why" }, [el("span", { class: state, text: t.state }),
            " · rendered " + (t.renderedAt ? ago(t.renderedAt) : "never") + " · from " + t.source]),
          t.keys && t.keys.length ? el("div", { class: "keys", text: "reads " + t.keys.join(", ") })
            : el("div", { class: "keys", text: t.keys ? "reads no key" : "" }),
          t.missing && t.missing.length ? el("div", { class: "keys bad", text: "missing " + t.missing.join(", ") }) : null,
          t.reason ? el("div", { class: "why", text: t.reason }) : null
        ]));
      });
    });
    if (!items.length) { box.replaceChildren(el("div", { class: "empty", text: "No templates" })); return; }
    box.replaceChildren(el("ul", { class: "events tpl" }, items));
  }

  var samples = null, samplesTimer = null;
  // a crash shows on the restart timeline without waiting for the next sample
  function samplesSoon() {
    if (samplesTimer) return;
    samplesTimer = setTimeout(function () { samplesTimer = null; fetchSamples(); }, 400);
  }
  function fetchSamples() {
    if (!token() || tokenRefused) return;
    fetch("api/samples", { cache: "no-store", headers: authHeaders() }).then(function (r) {
      if (r.status === 401) { onUnauthorized(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (v) { if (v) { samples = v; renderCharts(); renderRestarts(); } }).catch(function () {});
  }
  var SVG = "http://www.w3.org/2000/svg";
  function svgEl(tag, attrs, children) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) if (attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  // one line per service over the sampled window; a gap where it did not run
  function chart(svg, key, fmt, label) {
    var W = 400, H = 120, times = samples.times, names = Object.keys(samples.services);
    var max = 0;
    names.forEach(function (n) { samples.services[n][key].forEach(function (v) { if (v !== null && v > max) max = v; }); });
    if (key === "cpu") max = Math.max(max, 5); else max = Math.max(max, 1048576);
    var t0 = times[0], t1 = times[times.length - 1], span = Math.max(t1 - t0, samples.everyMs);
    var kids = [1, 2, 3].map(function (i) { return svgEl("line", { class: "grid", x1: 0, x2: W, y1: H * i / 4, y2: H * i / 4 }); });
    names.forEach(function (n) {
      var pts = [], series = samples.services[n][key];
      function flush() {
        if (pts.length === 1) pts.push((Number(pts[0].split(",")[0]) + 2) + "," + pts[0].split(",")[1]);
        if (pts.length) kids.push(svgEl("polyline", { class: colourClass(n), points: pts.join(" ") }, [svgEl("title", {}, [n])]));
        pts = [];
      }
      series.forEach(function (v, i) {
        if (v === null) { flush(); return; }
        var x = ((times[i] - t0) / span) * W, y = H - 2 - (v / max) * (H - 6);
        pts.push(x.toFixed(1) + "," + y.toFixed(1));
      });
      flush();
    });
    svg.replaceChildren.apply(svg, kids);
    $(label).textContent = "max " + fmt(max);
  }
  function renderCharts() {
    if (!samples || !samples.times.length) return;
    chart($("cpu-chart"), "cpu", function (v) { return v.toFixed(0) + "%"; }, "cpu-max");
    chart($("mem-chart"), "rss", bytes, "mem-max");
    var span = samples.times[samples.times.length - 1] - samples.times[0];
    $("usage-span").textContent = "last " + dur(Math.max(span, samples.everyMs)) + ", every " + (samples.everyMs < 1000 ? samples.everyMs + "ms" : dur(samples.everyMs));
    var legend = $("legend");
    legend.replaceChildren.apply(legend, Object.keys(samples.services).map(function (n) {
      var u = null;
      if (status) status.services.forEach(function (s) { if (s.name === n) u = s.usage; });
      return el("span", { class: "swatch " + colourClass(n), text: n + (u ? " " + u.cpu.toFixed(1) + "% · " + bytes(u.rssBytes) : "") });
    }));
  }
  // each crash and restart on one time axis, a lane per service that had one
  function renderRestarts() {
    var box = $("restarts");
    if (!samples) return;
    var marks = samples.restarts, now = Date.now();
    $("restart-count").textContent = marks.length ? marks.length + (marks.length === 1 ? " restart" : " restarts") : "";
    if (!marks.length) { box.replaceChildren(el("div", { class: "empty", text: "No crash or restart since tend started" })); return; }
    var lanes = [];
    marks.forEach(function (m) { if (lanes.indexOf(m.service) < 0) lanes.push(m.service); });
    var W = Math.max(300, box.clientWidth - 28), LANE = 22, LEFT = 110, H = lanes.length * LANE + 20;
    var t0 = Math.min(marks[0].at, samples.times.length ? samples.times[0] : now), span = Math.max(now - t0, 60000);
    var kids = [];
    lanes.forEach(function (n, i) {
      var y = i * LANE + LANE / 2;
      kids.push(svgEl("text", { class: "lane", x: 0, y: y + 4 }, [n.length > 14 ? n.slice(0, 13) + "…" : n]));
      kids.push(svgEl("line", { class: "track", x1: LEFT, x2: W, y1: y, y2: y }));
    });
    marks.forEach(function (m) {
      var x = LEFT + ((m.at - t0) / span) * (W - LEFT - 6), y = lanes.indexOf(m.service) * LANE + LANE / 2;
      kids.push(svgEl("circle", { class: "mark " + colourClass(m.service) + (m.what === "failed" ? " failed" : ""), cx: x.toFixed(1), cy: y, r: 5 },
        [svgEl("title", {}, [m.service + " " + m.what + " at " + clock(m.at)])]));
    });
    [0, 0.5, 1].forEach(function (f) {
      var t = t0 + f * span;
      kids.push(svgEl("text", { class: "lane", x: LEFT + f * (W - LEFT - 6), y: H - 4, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle" }, [clock(t)]));
    });
    box.replaceChildren(svgEl("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": "restarts over time" }, kids));
  }

  function act(name, action, button) {
    if (!canAct()) return;
    // stopping or restarting a service interrupts what it serves: only on a second, explicit yes
    if (action !== "start" && !window.confirm(action.charAt(0).toUpperCase() + action.slice(1) + " " + name + "?")) return;
    button.disabled = true;
    var h = authHeaders();
    fetch("api/services/" + encodeURIComponent(name) + "/" + action + "?wait=0", { method: "POST", headers: h })
      .then(function (r) {
        if (r.status === 401) { onUnauthorized(); return; }
        if (!r.ok) return r.json().then(function (b) { notice(b.error || ("HTTP " + r.status)); });
        notice("");
        refreshSoon();
      })
      .catch(function (e) { notice(String(e)); })
      .finally(function () { button.disabled = !canAct(); });
  }

  document.querySelector("#services tbody").addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-service]");
    if (!tr) return;
    var name = tr.getAttribute("data-service");
    var b = ev.target.closest("button[data-action]");
    if (b) { act(name, b.getAttribute("data-action"), b); return; }
    selectService(name);
  });
  $("log-service").addEventListener("change", function (ev) {
    var v = ev.target.value; selectService(v === "(all)" ? null : v);
  });
  $("log-clear").addEventListener("click", function () { $("logs").replaceChildren(); });

  function selectService(name) {
    selected = name;
    $("log-service").value = name || "(all)";
    render();
    followLogs();
  }

  function appendLog(l) {
    var pre = $("logs");
    var atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    var line = el("div", { class: "l-" + l.stream }, [
      selected ? null : el("span", { class: "svc " + colourClass(l.service), text: l.service + " | " }), l.text
    ]);
    pre.appendChild(line);
    while (pre.childNodes.length > MAX_LOG_LINES) pre.removeChild(pre.firstChild);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  function followLogs() {
    if (logAbort) logAbort.abort();
    var ctrl = new AbortController(); logAbort = ctrl;
    $("logs").replaceChildren();
    var url = "api/logs?n=200&follow=1" + (selected ? "&service=" + encodeURIComponent(selected) : "");
    fetch(url, { signal: ctrl.signal, headers: authHeaders() }).then(function (r) {
      if (r.status === 401) { onUnauthorized(); ctrl.abort(); return; }
      if (!r.ok) {
        return r.json().then(function (b) {
          $("logs").replaceChildren(el("div", { class: "l-tend", text: "Logs are not available here: " + (b.error || r.status) }));
          ctrl.abort();
        });
      }
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = "";
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) return;
          buf += dec.decode(x.value, { stream: true });
          var i;
          while ((i = buf.indexOf("\\n")) >= 0) {
            var text = buf.slice(0, i); buf = buf.slice(i + 1);
            if (text.trim()) { try { appendLog(JSON.parse(text)); } catch (e) {} }
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {}).then(function () {
      // the stream ended (tend restarted, network): try again unless another service was picked
      if (logAbort === ctrl && !ctrl.signal.aborted) setTimeout(function () { if (logAbort === ctrl) followLogs(); }, 2000);
    });
  }

  // a crash and the restart it brings in one line, as tend's console says it (src/events/describe.ts)
  var toldRestart = {};
  function describe(e) {
    if (e.kind === "service") {
      var crashed = (e.signal || (e.exitCode !== undefined && e.exitCode !== null)) && (e.to === "backoff" || e.to === "starting");
      if (crashed) {
        toldRestart[e.service] = e.reason;
        var delay = /restarting in (\\S+)$/.exec(e.reason || "");
        return e.service + " " + (e.signal ? "killed by " + e.signal : "exited " + e.exitCode) + " · restart " + (e.restarts + 1) + (delay ? " in " + delay[1] : " now");
      }
      if (toldRestart[e.service] !== undefined && (e.to === "starting" || e.to === "running") && e.reason === toldRestart[e.service]) {
        if (e.to === "running") delete toldRestart[e.service];
        return null;
      }
      delete toldRestart[e.service];
    }
    switch (e.kind) {
      case "service": return e.service + " → " + e.to + (e.pid && e.to === "running" ? " (pid " + e.pid + ")" : "") + (e.reason ? ": " + e.reason : "");
      case "app": return "app → " + e.to + (e.reason ? ": " + e.reason : "");
      case "health": return e.service + " " + e.check + " check " + (e.ok ? "passing" : "failing") + (e.output ? ": " + e.output : "");
      case "config": return "config " + e.action + (e.destination ? " " + e.destination : "") + (e.reason ? ": " + e.reason : "");
      case "job": return e.service + " job " + e.run + (e.exitCode !== undefined && e.exitCode !== null ? " (exit " + e.exitCode + ")" : "");
      case "finish": return e.service + " finish hook " + (e.ok ? "ok" : "failed");
      case "maintenance": return "maintenance " + (e.on ? "on" : "off");
      default: return null;
    }
  }
  function addEvent(e) {
    var text = describe(e);
    if (!text) return;
    var ul = $("events");
    ul.insertBefore(el("li", {}, [el("span", { class: "when", text: clock(e.time) }), text]), ul.firstChild);
    while (ul.childNodes.length > MAX_EVENTS) ul.removeChild(ul.lastChild);
  }

  // server-sent events over fetch (for the Authorization header): since=0 fills the feed from the bus history,
  // reconnects resume after the last id seen, as EventSource would
  var lastId = null, events = null;
  function connect() {
    if (events) events.abort();
    var ctrl = new AbortController(); events = ctrl;
    var h = authHeaders();
    if (lastId !== null) h["Last-Event-ID"] = lastId;
    fetch("api/events" + (lastId === null ? "?since=0" : ""), { headers: h, signal: ctrl.signal, cache: "no-store" }).then(function (r) {
      if (r.status === 401) { onUnauthorized(); ctrl.abort(); return; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      streamLive = true; $("conn").textContent = "live"; $("conn").className = "live"; refresh();
      var reader = r.body.getReader(), dec = new TextDecoder(), buf = "", id = null, data = [];
      function dispatch() {
        if (id !== null) lastId = id;
        if (data.length) {
          var e = null; try { e = JSON.parse(data.join("\\n")); } catch (x) {}
          if (e) { addEvent(e); refreshSoon(); if (e.kind === "service") samplesSoon(); }
        }
        id = null; data = [];
      }
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) return;
          buf += dec.decode(x.value, { stream: true });
          var i;
          while ((i = buf.indexOf("\\n")) >= 0) {
            var line = buf.slice(0, i).replace(/\\r$/, ""); buf = buf.slice(i + 1);
            if (line === "") dispatch();
            else if (line.indexOf("id: ") === 0) id = line.slice(4);
            else if (line.indexOf("data: ") === 0) data.push(line.slice(6));
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () {}).then(function () {
      if (events !== ctrl || ctrl.signal.aborted) return;
      // the stream ended: tend restarted (it answers again) or is gone (status fails too); try again
      streamLive = false; $("conn").textContent = "reconnecting"; $("conn").className = "down"; refresh();
      setTimeout(function () { if (events === ctrl) connect(); }, 2000);
    });
  }

  // The fleet page (#fleet): every tend of this app that publishes in the KV store, read from api/fleet every 3 s
  // while the page is shown. Every value in it was written by some tend, or by anyone who may write under fleet/:
  // it is only ever set as text (textContent, attribute values), never parsed as HTML, and its keys go in Maps.
  var fleet = null, fleetError = "", fleetTimer = null, fleetReading = false, MAX_FLEET_ROWS = 500;
  function onFleetTab() { return location.hash === "#fleet"; }
  function showTab() {
    var f = onFleetTab();
    document.querySelector("main").hidden = f;
    $("fleet-page").hidden = !f;
    $("tab-tend").className = f ? "" : "on";
    $("tab-fleet").className = f ? "on" : "";
    if (f) {
      fetchFleet();
      if (!fleetTimer) fleetTimer = setInterval(fetchFleet, 3000);
    } else if (fleetTimer) { clearInterval(fleetTimer); fleetTimer = null; }
  }
  window.addEventListener("hashchange", showTab);
  function fetchFleet() {
    if (!token() || tokenRefused) { renderFleet(); return; }
    // one read at a time: a store slow to answer (up to 5 s) must not pile reads up behind the 3 s timer
    if (document.hidden || fleetReading) return;
    fleetReading = true;
    fetch("api/fleet", { cache: "no-store", headers: authHeaders() }).then(function (r) {
      if (r.status === 401) { onUnauthorized(); return; }
      return r.json().then(function (b) {
        if (!r.ok) { fleetError = b && b.error ? String(b.error) : "HTTP " + r.status; return; }
        fleet = b; fleetError = "";
      });
    }).catch(function (e) { fleetError = "tend did not answer (" + e + ")"; }).then(function () { fleetReading = false; renderFleet(); });
  }
  // a value from the store as text: strings as they are, anything else shown, never trusted; long ones cut
  function str(v, max) {
    var t = typeof v === "string" ? v : v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    max = max || 200;
    return t.length > max ? t.slice(0, max - 1) + "…" : t;
  }
  function objects(v) { return Array.isArray(v) ? v.filter(function (x) { return x !== null && typeof x === "object"; }) : []; }
  function stateClass(v) { return "s-" + str(v, 40).replace(/[^A-Za-z]/g, ""); }
  function timeOf(v) { var t = typeof v === "string" ? Date.parse(v) : NaN; return isFinite(t) ? t : null; }
  function shortHash(h) { return typeof h === "string" && h ? h.replace(/^sha256:/, "").slice(0, 12) : ""; }
  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }
  function isSelf(e) { return !!fleet && !!fleet.self && e.pid === fleet.self.pid && e.state_dir === fleet.self.state_dir; }

  // which config each tend runs: per destination, its distinct content hashes, the most common first
  function configsOf(entries) {
    var byDest = new Map();
    entries.forEach(function (e) {
      objects(e.templates).forEach(function (t) {
        var d = str(t.destination, 400), h = shortHash(t.hash);
        if (!h) return;
        if (!byDest.has(d)) byDest.set(d, new Map());
        var m = byDest.get(d);
        m.set(h, (m.get(h) || 0) + 1);
      });
    });
    var out = new Map();
    byDest.forEach(function (m, d) {
      var hashes = Array.from(m.entries()).sort(function (a, b) { return b[1] - a[1]; });
      out.set(d, hashes);
    });
    return out;
  }
  function hashChip(configs, dest, h) {
    var hashes = configs.get(dest) || [], i = 0;
    hashes.forEach(function (x, k) { if (x[0] === h) i = k; });
    return el("span", { class: "hash h" + (i % 6), title: hashes.length > 1 ? "one of " + hashes.length + " configs of this file in the fleet" : "the same on every tend that renders it", text: h });
  }
  // The rollouts a tend reports in its document (src/fleet, "rollouts": one item per service with rollout:, its phase —
  // waiting for a slot, applying, done, failed, skipped — the content hash and since when). Read defensively: an
  // item of another shape is shown as its fields.
  function rolloutItems(r) {
    if (r === undefined || r === null || r === "") return [];
    var items = Array.isArray(r) ? r : typeof r === "object" ? Object.keys(r).map(function (k) {
      var v = r[k];
      return v !== null && typeof v === "object" && !Array.isArray(v) ? Object.assign({ service: k }, v) : { service: k, phase: v };
    }) : [{ phase: r }];
    return items.slice(0, 20).map(function (it) { return it !== null && typeof it === "object" ? it : { phase: it }; });
  }
  function sinceOf(v) { return typeof v === "number" && isFinite(v) ? v : timeOf(v); }
  function rolloutLine(it) {
    var parts = [];
    Object.keys(it).forEach(function (k) {
      var v = it[k];
      if (v === undefined || v === null || v === "" || k === "reason") return;
      if (k === "service" || k === "phase") parts.push(str(v, 80));
      else if (k === "hash" || /_hash$/.test(k)) parts.push(shortHash(v) || str(v, 80));
      else if ((k === "since" || /_at$/.test(k)) && sinceOf(v) !== null) parts.push((k === "since" ? "" : k + " ") + ago(sinceOf(v)));
      else parts.push(k + " " + str(v, 80));
    });
    return parts.join(" · ");
  }
  var ACTIVE = { waiting: 1, applying: 1 };
  // the fleet's rollouts: per service and content, which tends are at which phase
  function rolloutSummary(entries) {
    var groups = new Map();
    entries.forEach(function (e) {
      rolloutItems(e.rollouts).forEach(function (it) {
        var id = str(it.service, 80) + " (" + (shortHash(it.hash) || "?") + ")";
        if (!groups.has(id)) groups.set(id, new Map());
        var phases = groups.get(id), ph = str(it.phase, 40) || "?";
        if (!phases.has(ph)) phases.set(ph, []);
        phases.get(ph).push(str(e.host, 80));
      });
    });
    var lines = [];
    groups.forEach(function (phases, id) {
      var active = false, parts = [];
      phases.forEach(function (hosts, ph) {
        if (ACTIVE[ph] || ph === "failed") active = true;
        parts.push(ph + " on " + (hosts.length > 4 ? plural(hosts.length, "tend", "tends") : hosts.join(", ")));
      });
      lines.push((active ? "Rollout of " : "Last rollout of ") + id + ": " + parts.join(" · "));
    });
    return lines;
  }

  function renderFleet() {
    if ($("fleet-page").hidden) return;
    var note = $("fleet-note"), tbody = document.querySelector("#fleet tbody");
    note.className = "fleet-note";
    if (!token() || tokenRefused) {
      note.textContent = "The fleet view needs this tend's token (see above).";
      tbody.replaceChildren(); return;
    }
    if (!fleet) {
      note.textContent = fleetError ? "The fleet cannot be read: " + fleetError : "Reading the fleet…";
      if (fleetError) note.className = "fleet-note bad";
      return;
    }
    var app = str(fleet.app), entries = objects(fleet.entries), configs = configsOf(entries);
    var mine = entries.filter(isSelf)[0];
    var text;
    if (fleetError) { text = "The fleet cannot be read now (" + fleetError + "); the list below is the last one read."; note.className = "fleet-note bad"; }
    else if (fleet.unsupported) text = str(fleet.unsupported, 400) + ". tend fleet and this page list the tends of an app on etcd and file folder stores.";
    else if (!entries.length) text = fleet.publishing
      ? "No tend of " + app + " is listed yet. This tend publishes; its entry appears within a moment."
      : "Fleet is off: no tend of " + app + " publishes in this store, this one included. A tend publishes its status (host, version, services, config hashes) only with TEND_FLEET=on in its environment; see docs/fleet.md.";
    else if (!fleet.publishing) text = "This tend does not publish its status (TEND_FLEET is not on in its environment); " + plural(entries.length, "other tend does", "other tends do") + ".";
    else text = mine ? "This tend publishes as " + str(mine.host) + "." : "This tend publishes; its entry is not listed yet.";
    note.textContent = text;

    var ro = $("fleet-rollouts");
    ro.replaceChildren.apply(ro, rolloutSummary(entries).slice(0, 20).map(function (t) { return el("div", { text: t }); }));

    var splits = [];
    configs.forEach(function (hashes, d) { if (hashes.length > 1) splits.push([d, hashes]); });
    $("fleet-count").textContent = entries.length ? plural(entries.length, "tend", "tends") + (splits.length ? " · configs differ" : configs.size ? " · one config" : "") : "";
    var cfg = $("fleet-configs");
    cfg.replaceChildren.apply(cfg, splits.map(function (x) {
      return el("div", {}, [el("span", { class: "mono", text: x[0] }), ": "].concat(x[1].map(function (h, i) {
        return el("span", {}, [i ? " · " : "", hashChip(configs, x[0], h[0]), " on " + plural(h[1], "tend", "tends")]);
      })));
    }));

    // a store can hold any number of entries: the first MAX_FLEET_ROWS are drawn, the rest counted below
    var rows = entries.slice(0, MAX_FLEET_ROWS).map(function (e) {
      var self = isSelf(e);
      var svcs = objects(e.services).map(function (s) {
        var st = str(s.state, 40), cls = s.state === "running" && s.ready !== true ? "s-starting" : stateClass(s.state);
        return el("span", { class: "svc-chip" }, [el("span", { class: "name", text: str(s.name, 80) }),
          el("span", { class: "badge " + cls, text: st + (s.state === "running" && s.ready !== true ? " (not ready)" : "") }),
          typeof s.restarts === "number" && s.restarts > 0 ? el("span", { class: "dim", text: " ↻" + s.restarts }) : null]);
      });
      var tpls = objects(e.templates).map(function (t) {
        var d = str(t.destination, 400), h = shortHash(t.hash), at = timeOf(t.rendered_at);
        return el("div", { class: "tpl-line" }, [el("span", { class: "mono", text: d }), " ",
          h ? hashChip(configs, d, h) : el("span", { class: "dim", text: "not rendered" }),
          el("span", { class: "dim", text: (at !== null ? " · " + ago(at) : "") + (t.state && t.state !== "rendered" ? " · " + str(t.state, 40) : "") })]);
      });
      var roll = rolloutItems(e.rollouts).map(function (it) {
        return el("div", { class: "rollout-item" + (it.phase === "failed" ? " bad" : "") }, [rolloutLine(it),
          it.reason ? el("div", { class: "reason", text: str(it.reason, 400) }) : null]);
      });
      var started = timeOf(e.started_at), updated = timeOf(e.updated_at);
      return el("tr", { class: self ? "self" : "" }, [
        el("td", {}, [el("span", { class: "name host", text: str(e.host) }), self ? el("span", { class: "tag", text: "this tend" }) : null,
          el("div", { class: "reason", title: e.state_dir ? "state_dir " + str(e.state_dir, 400) : undefined, text: "pid " + str(e.pid, 12) })]),
        el("td", { class: "mono nowrap", text: str(e.version, 40) }),
        el("td", {}, [el("span", { class: "badge " + stateClass(e.app_state), text: str(e.app_state, 40) })]),
        el("td", {}, svcs.length ? svcs : [el("span", { class: "dim", text: "none" })]),
        el("td", {}, tpls.length ? tpls : [el("span", { class: "dim", text: "none" })]),
        el("td", {}, roll.length ? roll : [el("span", { class: "dim", text: "–" })]),
        el("td", { class: "nowrap" }, [started !== null ? "up " + dur(Date.now() - started) : "–",
          el("div", { class: "reason", text: updated !== null ? "changed " + ago(updated) : "" })])
      ]);
    });
    tbody.replaceChildren.apply(tbody, rows);
    var skipped = [];
    if (entries.length > MAX_FLEET_ROWS) skipped.push((entries.length - MAX_FLEET_ROWS) + " more tends not shown (tend fleet lists them all)");
    if (fleet.stale && fleet.stale.length) skipped.push(plural(fleet.stale.length, "stale entry", "stale entries") + " left out (older than their TTL: tends that died)");
    (Array.isArray(fleet.errors) ? fleet.errors : []).slice(0, 20).forEach(function (x) { skipped.push("skipped: " + str(x, 400)); });
    $("fleet-skipped").replaceChildren.apply($("fleet-skipped"), skipped.map(function (t) { return el("div", { text: t }); }));
  }

  if (!token()) onUnauthorized();
  showTab();
  refresh().then(function () { if (canAct()) followLogs(); });
  if (token()) connect();
  setInterval(function () { render(); renderFleet(); }, 1000);
  fetchSamples();
  setInterval(fetchSamples, 5000);
  window.addEventListener("resize", function () { renderRestarts(); });
})();
</script>
</body>
</html>
`;
