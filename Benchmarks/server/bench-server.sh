#!/usr/bin/env bash
# Measures the API on this machine with wrk (Debian's package): reads and writes per second and
# latency percentiles on the default SQLite store, next to /healthz (no store) as the baseline
# measured in the same run. Usage: [ZPR_BIN=path/to/zpr] Benchmarks/server/bench-server.sh
# [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-15}
connections=${2:-16}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
source Benchmarks/server/common.sh
work=$(mktemp -d /tmp/zpr-bench-XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
serve "$work/zpr.sqlite" "$work/serve.log"
export ZPR_SERVER=$base ZPR_API_KEY=$key HOME=$work
"$zpr" apply -f examples/tenancies/three-tier.yaml >/dev/null
id=$("$zpr" policy get three-tier --format json | sed -n 's/.*"id" : "\(zprPolicy-[^"]*\)".*/\1/p')
# A user who may read everything but is no administrator: every call is decided statement by
# statement (an administrator's key is decided at the first one).
curl -sf -X POST -H "Authorization: Bearer $key" "$base/v1/groups" \
  -d '{"name": "Readers", "description": "read only", "members": ["reader"]}' >/dev/null
curl -sf -X POST -H "Authorization: Bearer $key" "$base/v1/iamPolicies" \
  -d '{"name": "readers", "description": "r", "statements": ["allow group Readers to read all-resources in tenancy"]}' >/dev/null
reader=$(curl -sf -X POST -H "Authorization: Bearer $key" "$base/v1/apiKeys" \
  -d '{"user": "reader", "groups": []}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')
cat >"$work/write.lua" <<LUA
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"name":"three-tier","description":"revision ' .. counter .. '","statements":['
    .. '"in network.vcn:prod VCN allow app.tier:web endpoints to connect to app.tier:app endpoints with protocol=\'tcp/8080\'",'
    .. '"in network.vcn:prod VCN allow app.tier:app endpoints to connect to app.tier:db endpoints with protocol=\'tcp/5432\'"]}'
  return wrk.format(nil, nil, nil, body)
end
LUA
run() { # slug, name, then wrk arguments
  local slug=$1 name=$2
  shift 2
  local out
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@")
  local rate p50 p99 errors
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rate" "$p50" "$p99" "${errors:-0}"
  echo "$rate" >"$work/$slug.rate"
  echo "$name" >"$work/$slug.name"
}
echo "zpr API on SQLite, wrk -t1 -c$connections -d${seconds}s, $(nproc) cores"
run healthz "baseline: GET /healthz" "$base/healthz"
run read "read: GET /v1/zprPolicies/ID" -H "Authorization: Bearer $key" "$base/v1/zprPolicies/$id"
run list "read: GET /v1/instances (list)" -H "Authorization: Bearer $key" "$base/v1/instances"
run reader "read as a reader: GET /v1/instances" -H "Authorization: Bearer $reader" "$base/v1/instances"
run write "write: PUT /v1/zprPolicies/ID" -s "$work/write.lua" "$base/v1/zprPolicies/$id"
baseline=$(cat "$work/healthz.rate")
for slug in read list reader write; do
  awk -v r="$(cat "$work/$slug.rate")" -v b="$baseline" -v n="$(cat "$work/$slug.name")" \
    'BEGIN {printf "%-34s %.2f x the /healthz rate\n", n, r / b}'
done
echo "revision after the writes: $(curl -s -H "Authorization: Bearer $key" "$base/v1/revision")"
