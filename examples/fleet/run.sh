#!/usr/bin/env bash
# Three NATS servers (one JetStream cluster), the Amazon sandbox and three
# Caddy replicas sharing one queue, all on this machine:
#
#   bash examples/fleet/run.sh           # runs until Ctrl-C
#   bash examples/fleet/run.sh --check   # posts orders to every replica, waits
#                                        # until the sandbox has each once, stops
#
# Replicas: http://127.0.0.1:8181, :8182, :8183 (admin :28181, :28182, :28183);
# NATS: 4231-4233 (cluster 6231-6233); the sandbox: http://127.0.0.1:8190.
# Everything it writes is under examples/fleet/data (remove it to start over).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
data=$here/data
bin=$data/bin
if [ "${1:-}" = "--check" ]; then # from nothing: no stream, spool or dedupe window of an earlier run
	find "$data" -mindepth 1 -maxdepth 1 ! -name bin -exec rm -rf {} + 2>/dev/null || true
fi
mkdir -p "$bin"
echo "building nats-server (the version fleettest/go.mod pins) and Caddy (cmd/caddy: the module and the sandbox)…"
(cd "$root/fleettest" && go build -o "$bin/nats-server" github.com/nats-io/nats-server/v2)
(cd "$root" && go build -o "$bin/caddy" ./cmd/caddy)

pids=()
stop() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT

for i in 1 2 3; do
	cat >"$data/nats-$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:423$i
jetstream { store_dir: "$data/nats-$i" }
cluster {
  name: capi-fleet
  listen: 127.0.0.1:623$i
  routes: [nats://127.0.0.1:6231, nats://127.0.0.1:6232, nats://127.0.0.1:6233]
}
CONF
	"$bin/nats-server" -c "$data/nats-$i.conf" >"$data/nats-$i.log" 2>&1 &
	pids+=($!)
done
"$bin/caddy" run --config "$here/sandbox.Caddyfile" >"$data/sandbox.log" 2>&1 &
pids+=($!)
for i in 1 2 3; do
	REPLICA=$i FLEET_DATA=$data "$bin/caddy" run --config "$here/Caddyfile" >"$data/caddy-$i.log" 2>&1 &
	pids+=($!)
done

wait_for() { # what, command…
	local what=$1; shift
	for _ in $(seq 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "timed out waiting for $what"; return 1
}
for i in 1 2 3; do wait_for "replica $i" curl -sf "http://127.0.0.1:2818$i/amazon_capi/"; done
echo "three replicas up: http://127.0.0.1:8181 :8182 :8183; the sandbox's page: http://127.0.0.1:8190/"

if [ "${1:-}" != "--check" ]; then
	echo "post an order:  curl -X POST 127.0.0.1:8181/api/orders -d '{\"order_id\":\"A-1\",\"total\":12.5,\"customer\":{\"email\":\"a@example.com\"}}'"
	echo "each replica's fleet view: curl -s 127.0.0.1:28181/amazon_capi/ | jq '.[0].fleet'"
	wait
	exit
fi

orders=90
for n in $(seq "$orders"); do
	replica=$((n % 3 + 1))
	curl -sf -X POST "http://127.0.0.1:818$replica/api/orders" \
		-d "{\"order_id\":\"F-$n\",\"total\":$n.5,\"customer\":{\"email\":\"buyer$n@example.com\"}}" >/dev/null
done
# The same order posted to a second replica: the stream keeps it once.
curl -sf -X POST "http://127.0.0.1:8182/api/orders" -d '{"order_id":"F-1","total":1.5,"customer":{"email":"buyer1@example.com"}}' >/dev/null
distinct() { curl -sf http://127.0.0.1:8190/sandbox/events | python3 -c 'import json,sys; e=json.load(sys.stdin); print(len({x["eventId"] for x in e["events"]}), len(e["events"]))'; }
wait_for "the sandbox to have $orders orders" sh -c "[ \"\$(curl -sf http://127.0.0.1:8190/sandbox/events | python3 -c 'import json,sys; print(len({x[\"eventId\"] for x in json.load(sys.stdin)[\"events\"]}))')\" = $orders ]"
read -r unique total < <(distinct)
echo "the sandbox has $unique distinct orders in $total events"
[ "$unique" = "$orders" ] && [ "$total" = "$orders" ]
