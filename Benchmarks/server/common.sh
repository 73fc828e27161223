# Shared by the server benchmarks (sourced from the repository's root): the zpr to measure and
# the servers it runs as.

# The zpr to measure: ZPR_BIN names another build (an older one, to compare), else this one,
# built in release.
if [ -n "${ZPR_BIN:-}" ]; then
  zpr=$ZPR_BIN
else
  swift build -c release --product zpr >/dev/null
  zpr=$(swift build -c release --show-bin-path)/zpr
fi
key=bench-key-0123456789abcdef0123456789abcdef
servers=()

# serve DATABASE LOG [OPTION...]: starts `zpr serve` with the bench key on a free loopback port,
# adds it to $servers and sets $base to its URL.
serve() {
  local database=$1 log=$2
  shift 2
  ZPR_BOOTSTRAP_KEY=$key "$zpr" serve --listen 127.0.0.1:0 --database "$database" \
    --log-level warning "$@" >"$log" 2>&1 &
  servers+=($!)
  for _ in $(seq 200); do grep -qs "serving on" "$log" && break; sleep 0.1; done
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
  [ -n "$base" ] || { echo "the server did not start:" >&2; cat "$log" >&2; exit 1; }
}

# stop_servers: stops every server `serve` started, and waits for them.
stop_servers() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done
  servers=()
}
