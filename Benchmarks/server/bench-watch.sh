#!/usr/bin/env bash
# Measures the watch: the time from a commit until N clients watching GET /v1/revision/watch
# have heard of it (p50, p99, max), through a real `zpr serve`, on SQLite and on PostgreSQL.
# Each round, every client has a watch waiting (after=REVISION); one client then POSTs a
# compartment (a commit) and each watcher's time is from sending that POST until its answer
# arrives. On SQLite the commit goes through the same server; on PostgreSQL it goes through a
# second server on the same database (another replica: the watchers learn of it by
# LISTEN/NOTIFY). The client is Python's standard library only (one epoll loop, raw sockets).
# Usage: [ZPR_BIN=path/to/zpr] [ZPR_BENCH_POSTGRES_URL=postgres://...] \
#   Benchmarks/server/bench-watch.sh [WATCHERS...]   (default: 1000 3000)
# PostgreSQL is measured when ZPR_BENCH_POSTGRES_URL (or ZPR_TEST_POSTGRES_URL, as
# scripts/test-postgres.sh prints it) names a server where a database may be created.
set -euo pipefail
cd "$(dirname "$0")/../.."
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 3000)
rounds=${ROUNDS:-5}
source Benchmarks/server/common.sh
postgres=${ZPR_BENCH_POSTGRES_URL:-${ZPR_TEST_POSTGRES_URL:-}}
work=$(mktemp -d /tmp/zpr-bench-watch-XXXXXX)
database=""
cleanup() {
  stop_servers
  if [ -n "$database" ]; then
    psql "$postgres" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    database=""
  fi
}
trap 'cleanup; rm -rf "$work"' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cat >"$work/watch.py" <<'PY'
import json, selectors, socket, sys, time

watch_base, commit_base, key, count, rounds, label = sys.argv[1:7]
count, rounds = int(count), int(rounds)

def address(base):
    host, port = base.split("//")[1].split(":")
    return host, int(port)

def request(method, path, body=b""):
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body

def complete(data):
    """The body of a whole HTTP response in data, or None while it is not all there."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    length = 0
    for line in data[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = data[end + 4:]
    return body if len(body) >= length else None

def fetch(base, method, path, body=b""):
    with socket.create_connection(address(base)) as s:
        s.sendall(request(method, path, body))
        data = b""
        while (answer := complete(data)) is None:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit(f"the server closed the connection: {data!r}")
            data += chunk
        return json.loads(answer)

revision = fetch(watch_base, "GET", "/v1/revision")["revision"]
selector = selectors.DefaultSelector()
watchers = []
for _ in range(count):
    s = socket.create_connection(address(watch_base))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setblocking(False)
    watchers.append(s)
    selector.register(s, selectors.EVENT_READ, "watch")
latencies, commits = [], []
for index in range(rounds):
    watch = request("GET", f"/v1/revision/watch?after={revision}&timeout=60")
    for s in watchers:
        s.sendall(watch)
    # Every watch must be waiting in the server before the commit: give them time to arrive.
    time.sleep(1.0 + count / 1000)
    commit = socket.create_connection(address(commit_base))
    commit.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    commit.setblocking(False)
    selector.register(commit, selectors.EVENT_READ, "commit")
    body = json.dumps({"name": f"bench-{label}-{count}-{index}"}).encode()
    start = time.perf_counter()
    commit.sendall(request("POST", "/v1/compartments", body))
    buffers = {}
    heard = {}
    committed = None
    while len(heard) < count or committed is None:
        events = selector.select(timeout=30)
        if not events:
            raise SystemExit(f"round {index}: {len(heard)} of {count} watchers heard in 30 s")
        now = time.perf_counter()  # when these answers had arrived
        for key_, _ in events:
            s = key_.fileobj
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit("the server closed a connection")
            buffers[s] = buffers.get(s, b"") + chunk
            answer = complete(buffers[s])
            if answer is None:
                continue
            if key_.data == "commit":
                committed = now - start
                selector.unregister(s)
                s.close()
                continue
            if b'"changed":true' not in answer:
                raise SystemExit(f"a watch answered unchanged: {answer!r}")
            heard[s] = now - start
            buffers[s] = b""
            if len(heard) == 1:
                revision = max(revision, json.loads(answer)["revision"])
    latencies += heard.values()
    commits.append(committed)

def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]

ms = lambda seconds: f"{seconds * 1000:7.1f} ms"
print(f"{label:<40} {count:>5} watchers x {rounds} commits   p50 {ms(percentile(latencies, 50))}"
      f"   p99 {ms(percentile(latencies, 99))}   max {ms(max(latencies))}"
      f"   (the commit's own answer: p50 {ms(percentile(commits, 50))})")
PY

echo "zpr watch: from a commit until every watcher heard of it, $rounds commits each, $(nproc) cores"
for count in "${counts[@]}"; do
  serve "$work/zpr-$count.sqlite" "$work/sqlite-$count.log" --max-connections 10000
  python3 "$work/watch.py" "$base" "$base" "$key" "$count" "$rounds" "SQLite, one server"
  cleanup
done
if [ -n "$postgres" ]; then
  command -v psql >/dev/null || { echo "psql is missing: apt-get install postgresql-client" >&2; exit 2; }
  for count in "${counts[@]}"; do
    database=zpr_bench_watch_$$_$count
    psql "$postgres" -q -c "CREATE DATABASE $database" >/dev/null
    url="${postgres%/*}/$database"
    serve "$url" "$work/postgres-a-$count.log" --max-connections 10000
    first=$base
    serve "$url" "$work/postgres-b-$count.log" --max-connections 10000
    second=$base
    python3 "$work/watch.py" "$first" "$second" "$key" "$count" "$rounds" \
      "PostgreSQL, commit on the other replica"
    cleanup
  done
else
  echo "PostgreSQL: skipped (set ZPR_BENCH_POSTGRES_URL or ZPR_TEST_POSTGRES_URL)"
fi
