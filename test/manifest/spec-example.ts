/** The manifest of SPEC.md §3, verbatim. */
export const SPEC_EXAMPLE = `name: shop                    # default: the folder's name
data_dir: ./data              # persistent data; firstboot marker lives here
state_dir: ./.tend            # socket, pid file, state
http: 127.0.0.1:7070          # optional TCP listener: /healthz /readyz /metrics /api, dashboard
kv: file:./kv                 # or etcd://127.0.0.1:2379, consul://127.0.0.1:8500 (default file:./kv)
settings:                     # the application's own JSON config (whaleware CFG)
  defaults: ./defaults.json   # or an inline map
  schema: ./settings.schema.json  # optional JSON Schema: validate and coerce
  env: CFG                    # env var holding a JSON override (default CFG)
  kv_prefix: settings/        # optional overlay from the KV store
stages:                       # app lifecycle, each optional
  boot: ./bin/boot
  firstboot: ./bin/firstboot
  upgrade: ./bin/upgrade
  warmup: ./bin/warmup
  monitor: { command: ./bin/monitor, interval: 30s, timeout: 10s }
notify:                       # where lifecycle events go; several allowed
  - stdout
  - { webhook: http://127.0.0.1:9000/lifecycle }
  - { exec: ./bin/lifecycle } # called with the STATE as argument, event JSON on stdin
  - { file: ./data/events.jsonl }
  - { kv: "lifecycle/{service}" }
services:
  web:
    command: gunicorn app:app -b 127.0.0.1:8080   # string → sh -c; list → argv
    enabled: \${WEB_ENABLED:-true}  # \${VAR} / \${VAR:-default} interpolation anywhere
    env: { PORT: "8080" }
    env_from: [{ prefix: config/web }]            # envconsul: keys → env vars
    after: [db]               # local services that must be ready first
    requires: [postgres]      # discovered services that must be healthy first
    templates:
      - source: templates/web.conf.tmpl           # Go text/template, consul-template functions
        destination: ./etc/web.conf
        perms: "0640"
        on_change: restart    # restart | reload | none | { signal: SIGUSR2 } | { exec: CMD }
        wait: { min: 0s, max: 2s }
        missing: wait         # wait | fail | empty; see §5
        missing_timeout: 5m
        sentinel: "@@MISSING@@"                   # rendered output containing it = incomplete
        check: nginx -t -c "$TEND_CHECK_FILE"    # validates the new file before it goes live
    ready: { http: http://127.0.0.1:8080/ready, timeout: 60s }   # or tcp / exec / log: REGEX
    health: { http: http://127.0.0.1:8080/health, interval: 10s, timeout: 2s, failures: 3 }
    restart: { policy: always, backoff: { initial: 100ms, max: 30s }, max_failures: 5, window: 60s, cooldown: 5m }
    stop: { signal: SIGTERM, timeout: 10s }
    reload_signal: SIGHUP
    register: { port: 8080, tags: [http] }        # publish in discovery while ready
    finish: ./bin/report-exit # runs after each exit; TEND_EXIT_CODE, TEND_EXIT_SIGNAL, TEND_SERVICE
    logs: { file: ./logs/web.log, format: json, max_size: 50MB, keep: 5, stdout: true }
    essential: false          # true: its end stops the stack, tend exits with its code
  cleanup:
    schedule: "*/5 * * * *"   # a job: runs on schedule, never restarted by template changes
    command: ./bin/cleanup
`;
