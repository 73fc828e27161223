#!/usr/bin/env bash
# Time from a policy change on the server to its enforcement by every agent: a release
# `zpr serve` on SQLite with the three-tier example, one `zpr agent --server` per VNIC (each
# applying nft in a network namespace of its own), then CHANGES policy changes through the API
# (the web tier's port flips between 8080 and 8081); each is timed until every agent reports
# the new revision (an agent reports right after nft applied it). Needs root.
# Usage: Benchmarks/enforcer/bench-propagation.sh [CHANGES]
# Its network namespaces (zprpPID-HOST) are removed when it ends, fails or is interrupted
# (INT, TERM, HUP); those of an earlier run that was killed outright (SIGKILL) are removed at
# the start.
set -euo pipefail
cd "$(dirname "$0")/../.."
changes="${1:-50}"
prefix="zprp$$"
hosts=(web-1 app-1 db-1)
pids=()
scratch=""
cleanup() {
  trap - EXIT INT TERM HUP
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  for host in "${hosts[@]}"; do ip netns del "$prefix-$host" 2>/dev/null || true; done
  if [[ -n "$scratch" ]]; then rm -rf "$scratch"; fi
}
# A signal alone ends bash without the EXIT trap: exit, which runs it, with the signal's status.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Namespaces of earlier runs whose script is gone.
for name in $(ip netns list | awk '{print $1}' | grep -E '^zprp[0-9]+-' || true); do
  owner="${name#zprp}"
  owner="${owner%%-*}"
  if [[ ! -d "/proc/$owner" ]]; then ip netns del "$name" 2>/dev/null || true; fi
done

swift build -c release --product zpr >/dev/null
zpr=.build/release/zpr
scratch="$(mktemp -d)"

export ZPR_API_KEY="bench-propagation-key-0123456789abcdef0123"
ZPR_BOOTSTRAP_KEY="$ZPR_API_KEY" "$zpr" serve --listen 127.0.0.1:0 \
  --database "$scratch/zpr.sqlite" >"$scratch/serve.log" 2>&1 &
pids+=($!)
disown
for _ in $(seq 100); do
  grep -q "serving on" "$scratch/serve.log" && break
  sleep 0.1
done
server="$(grep -o 'http://127.0.0.1:[0-9]*' "$scratch/serve.log" | head -1)"
"$zpr" apply --server "$server" -f examples/tenancies/three-tier.yaml >/dev/null
for host in "${hosts[@]}"; do
  ip netns add "$prefix-$host"
  # The namespaces stand in for the hosts without their addresses: the agents are told so.
  "$zpr" agent --server "$server" --host "$host" --namespace "$prefix-$host" \
    --enforce-without-addresses >"$scratch/agent-$host.log" 2>&1 &
  pids+=($!)
  disown
done

# In the background, so that a signal is handled at once rather than when it ends (bash waits
# for a command in the foreground before it runs a trap).
python3 - "$server" "$changes" <<'PY' &
import json, sys, time, urllib.request
server, changes = sys.argv[1], int(sys.argv[2])
key = __import__("os").environ["ZPR_API_KEY"]
def call(method, path, body=None):
    request = urllib.request.Request(server + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        text = answer.read()
        return json.loads(text) if text else None
def all_at(revision):
    items = call("GET", "/v1/agents")["items"]
    return len(items) == 3 and all(i["revision"] >= revision and i["status"] == "enforcing" for i in items)
tenancy = open("examples/tenancies/three-tier.yaml").read()
revision = call("GET", "/v1/revision")["revision"]
deadline = time.time() + 30
while not all_at(revision):
    if time.time() > deadline: sys.exit("the agents did not report within 30 s")
    time.sleep(0.05)
times = []
for n in range(changes):
    port = "8081" if n % 2 == 0 else "8080"
    text = tenancy.replace("tcp/8080", "tcp/" + port).replace("port: 8080", "port: " + port)
    start = time.perf_counter()
    revision = call("POST", "/v1/apply", {"tenancy": text})["revision"]
    while not all_at(revision):
        time.sleep(0.002)
    times.append(time.perf_counter() - start)
times.sort()
def pct(p): return times[min(len(times) - 1, int(round(p / 100 * (len(times) - 1))))]
print(f"{changes} policy changes, 3 agents: p50 {pct(50)*1000:.0f} ms, p99 {pct(99)*1000:.0f} ms, max {times[-1]*1000:.0f} ms")
PY
pids+=($!)
wait "${pids[-1]}"
