/**
 * The dashboard: one self-contained page (inline CSS and vanilla JS, no CDN, works offline) served at `/`.
 * It reads /api/status once, then follows /api/events (SSE) and re-reads the status after each change; logs
 * stream from /api/logs?follow=1. Kept as a string module so the build needs no asset step. The page's
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
main { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; padding: 16px 20px; }
@media (max-width: 960px) { main { grid-template-columns: 1fr; } }
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
.reason { color: var(--dim); font-size: 12px; margin-top: 2px; max-width: 46ch; overflow-wrap: anywhere; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .dim { color: var(--dim); }
button { font: inherit; font-size: 12px; padding: 3px 10px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
button:hover { border-color: var(--accent); color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
td.actions { white-space: nowrap; text-align: right; }
td.actions button + button { margin-left: 6px; }
#logs { margin: 0; padding: 10px 14px; height: 340px; overflow: auto; font: 12.5px/1.5 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; }
#logs .l-stderr { color: var(--bad); }
#logs .l-tend { color: var(--dim); font-style: italic; }
#logs .svc { color: var(--accent); }
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
  <span class="spacer"></span>
  <span id="app-meta" class="meta"></span>
  <span id="conn">connecting</span>
</header>
<div id="notice" role="alert"></div>
<div id="gone" role="alert" hidden></div>
<main>
  <div>
    <section>
      <h2><span class="grow">Services</span><span id="svc-count" class="dim"></span></h2>
      <table id="services">
        <thead><tr><th>Service</th><th>State</th><th class="num">PID</th><th class="num">Uptime</th><th class="num">Restarts</th><th>Last exit</th><th>Health</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
      <div id="disabled" class="empty" hidden></div>
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
      <h2>Events</h2>
      <ul id="events" class="events"></ul>
    </section>
  </aside>
</main>
<script>
"use strict";
(function () {
  var status = null, fetchedAt = 0, selected = null, refreshTimer = null, logAbort = null, askedForToken = false;
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

  function authHeaders() {
    var t = sessionStorage.getItem("tend-token");
    return t ? { Authorization: "Bearer " + t } : {};
  }

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
    return fetch("api/status", { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (s) {
      status = s; fetchedAt = Date.now(); setGone(false); render();
    }).catch(function () { if (!streamLive) setGone(true); });
  }

  function reasonOf(s) {
    if (s.state === "waiting" && s.waitingFor && s.waitingFor.length) return s.waitingFor.join("; ");
    if (s.reason) return s.reason;
    if (s.health && !s.health.ok) return s.health.check + " check failing" + (s.health.output ? ": " + s.health.output : "");
    return "";
  }
  function healthOf(s) {
    if (!s.checks.health && !s.checks.ready) return el("span", { class: "dim", text: "–" });
    if (!s.health) return el("span", { class: s.ready ? "ok" : "dim", text: s.ready ? "ok" : "pending" });
    return el("span", { class: s.health.ok ? "ok" : "bad", text: s.health.ok ? "ok" : "failing", title: s.health.output || "" });
  }
  function exitOf(e) {
    if (!e) return "–";
    return (e.signal ? e.signal : "code " + e.code) + " · " + clock(e.at);
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

    var tbody = document.querySelector("#services tbody");
    var rows = status.services.map(function (s) {
      var up = s.uptimeMs === undefined || s.uptimeMs === null ? undefined : s.uptimeMs + elapsed;
      var running = s.pid !== undefined && s.pid !== null;
      var actions = el("td", { class: "actions" }, [
        el("button", { type: "button", "data-action": "restart", text: "Restart" }),
        running || s.state === "waiting" || s.state === "backoff" || s.state === "starting"
          ? el("button", { type: "button", "data-action": "stop", text: "Stop" })
          : el("button", { type: "button", "data-action": "start", text: "Start" })
      ]);
      var tr = el("tr", { "data-service": s.name, class: s.name === selected ? "selected" : "" }, [
        el("td", {}, [el("span", { class: "name", text: s.name }), s.job ? el("span", { class: "tag", text: "job" }) : null,
          s.essential ? el("span", { class: "tag", text: "essential" }) : null]),
        // running but not ready yet (its readiness probe has not passed) is not green
        el("td", { class: "state-cell" }, [el("span", { class: "badge state s-" + (s.state === "running" && !s.ready ? "starting" : s.state), text: s.state }),
          reasonOf(s) ? el("div", { class: "reason", text: reasonOf(s) }) : null]),
        el("td", { class: "num mono pid", text: running ? String(s.pid) : "–" }),
        el("td", { class: "num uptime", text: dur(up) }),
        el("td", { class: "num restarts", text: String(s.restarts) }),
        el("td", { class: "mono exit", text: exitOf(s.lastExit) }),
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

    var sel = $("log-service"), names = ["(all)"].concat(status.services.map(function (s) { return s.name; }));
    var current = Array.prototype.map.call(sel.options, function (o) { return o.value; });
    if (current.join() !== names.join()) {
      sel.replaceChildren.apply(sel, names.map(function (n) { return el("option", { value: n, text: n }); }));
      sel.value = selected || "(all)";
    }
  }

  function act(name, action, button) {
    button.disabled = true;
    var h = authHeaders();
    fetch("api/services/" + encodeURIComponent(name) + "/" + action + "?wait=0", { method: "POST", headers: h })
      .then(function (r) {
        if (r.status === 401) {
          var t = window.prompt("This tend needs its token (TEND_TOKEN) for " + action + ":");
          if (t) { sessionStorage.setItem("tend-token", t); return act(name, action, button); }
        }
        if (!r.ok) return r.json().then(function (b) { notice(b.error || ("HTTP " + r.status)); });
        notice("");
        refreshSoon();
      })
      .catch(function (e) { notice(String(e)); })
      .finally(function () { button.disabled = false; });
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
      selected ? null : el("span", { class: "svc", text: l.service + " | " }), l.text
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
      if (r.status === 401 && !askedForToken) {
        askedForToken = true;
        var t = window.prompt("This tend needs its token (TEND_TOKEN) to show logs:");
        if (t) { sessionStorage.setItem("tend-token", t); logAbort = null; followLogs(); return; }
      }
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

  function describe(e) {
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

  function connect() {
    // since=0 fills the feed from the bus history; reconnects resume from Last-Event-ID instead
    var es = new EventSource("api/events?since=0");
    es.onopen = function () { streamLive = true; $("conn").textContent = "live"; $("conn").className = "live"; refresh(); };
    // the stream ended: tend restarted (it answers again) or is gone (status fails too); EventSource retries
    es.onerror = function () { streamLive = false; $("conn").textContent = "reconnecting"; $("conn").className = "down"; refresh(); };
    es.onmessage = function (m) {
      var e; try { e = JSON.parse(m.data); } catch (x) { return; }
      addEvent(e);
      refreshSoon();
    };
  }

  refresh().then(function () { followLogs(); });
  connect();
  setInterval(render, 1000);
})();
</script>
</body>
</html>
`;
