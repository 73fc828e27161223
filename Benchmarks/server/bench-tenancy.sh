#!/usr/bin/env bash
# Measures the control plane at size: the tenancy `zpr bench tenancy` generates (100,000
# resources by default, about 110,000 VNICs) applied to a server on the default SQLite store,
# then single writes (latency percentiles at one connection, so each write is measured alone),
# and reads per second (16 connections), next to GET /healthz (no store) as the baseline
# measured in the same run. Usage:
#   [ZPR_BIN=path/to/zpr] Benchmarks/server/bench-tenancy.sh [RESOURCES] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
resources=${1:-100000}
seconds=${2:-15}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
source Benchmarks/server/common.sh
work=$(mktemp -d /tmp/zpr-bench-XXXXXX)
trap 'stop_servers; rm -rf "$work"' EXIT
"$zpr" bench tenancy --resources "$resources" --iterations 1 --write "$work/tenancy.yaml" >/dev/null
serve "$work/zpr.sqlite" "$work/serve.log"
export ZPR_SERVER=$base ZPR_API_KEY=$key HOME=$work
echo "zpr at size: $(du -h "$work/tenancy.yaml" | cut -f1) tenancy file, $resources resources, $(nproc) cores"
start=$(date +%s.%N)
"$zpr" apply -f "$work/tenancy.yaml" >"$work/apply.out"
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN {printf "apply of the whole file: %.1f s\n", e - s}'
policy=$(curl -sf -H "Authorization: Bearer $key" "$base/v1/zprPolicies?limit=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
instance=$(curl -sf -H "Authorization: Bearer $key" "$base/v1/instances?limit=1" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
# The instance's attributes, taken off and put back in turn.
attributes=$(curl -sf -H "Authorization: Bearer $key" "$base/v1/instances/$instance" |
  python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin).get("securityAttributes", {})))')
# The first write after a start reads the tenancy once into the live state.
start=$(date +%s.%N)
curl -sf -X PATCH -H "Authorization: Bearer $key" "$base/v1/zprPolicies/$policy" \
  -d '{"description": "warm"}' >/dev/null
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN {printf "first write after the apply (builds the live state): %.2f s\n", e - s}'
# A wrk script of PATCHes whose body is the Lua expression given (of the request's number).
patches() {
  cat >"$work/$1.lua" <<LUA
wrk.method = "PATCH"
wrk.headers["Authorization"] = "Bearer $key"
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, nil, nil, $2)
end
LUA
}
patches policy "'{\"description\":\"revision ' .. counter .. '\"}'"
patches instance "counter % 2 == 0 and '{\"securityAttributes\":$attributes}' or '{\"securityAttributes\":{}}'"
run() { # connections, name, then wrk arguments
  local connections=$1 name=$2
  shift 2
  local out rate p50 p99 errors
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@")
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  printf '%-44s %10s req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$name" "$rate" "$p50" "$p99" "${errors:-0}"
}
run 1 "baseline: GET /healthz (1 connection)" "$base/healthz"
run 1 "write: PATCH /v1/zprPolicies/ID" -s "$work/policy.lua" "$base/v1/zprPolicies/$policy"
run 1 "write: PATCH /v1/instances/ID" -s "$work/instance.lua" "$base/v1/instances/$instance"
run 16 "baseline: GET /healthz (16 connections)" "$base/healthz"
run 16 "read: GET /v1/instances/ID" -H "Authorization: Bearer $key" "$base/v1/instances/$instance"
run 16 "read: GET /v1/instances?limit=100" -H "Authorization: Bearer $key" \
  "$base/v1/instances?limit=100"
echo "revision after the writes: $(curl -s -H "Authorization: Bearer $key" "$base/v1/revision")"
