#!/usr/bin/env bash
# Measures the site's CPU per matched event, all-in, at a paced load: the
# same number of requests per second to (a) bare reverse_proxy and (c) the
# module on the matched 1 KiB checkout (three match keys, spool, delivery to
# a cheap accepting sink), so that both runs get the same batching from the
# kernel and the Go runtime. At saturation (run.sh) any extra work per
# request also lowers the rate, and a lower rate batches less: there the
# difference overstates the module's own cost and swings with the machine.
#
# Each wrk connection waits PACE ms after every answer, so the rate is about
# connections ÷ (PACE + latency), well below what the machine can do. Each
# run's CPU (user + system of the site's Caddy) is counted from the start of
# the run until the destination has delivered every event it queued, and
# divided by the requests answered; (c) − (a) is taken per pair, pairs
# alternate their order, and the median and quartiles are printed.
#
#   bash bench/cpu.sh [seconds per run, default 6] [pairs, default 15] [connections, default 8] [pace ms, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
secs=${1:-6}
pairs=${2:-15}
conns=${3:-8}
pace=${4:-2}
out=bench/out/cpu
mkdir -p "$out"
rm -rf "$out/spool"

need_wrk
go build -o "$out/caddy" ./cmd/caddy

base=$(free_ports 5)
A=$base C=$((base + 1)) UP=$((base + 2)) SINK=$((base + 3)) ADMIN=$((base + 4))
cat >"$out/Caddyfile" <<CONF
$(globals "$ADMIN")
$(sites "$UP" "$A" "$C" "$SINK" CPU-c "$PWD/$out/spool")
CONF
cat >"$out/Amazon" <<CONF
$(globals off)
$(sink_site "$SINK")
CONF
chrt --idle 0 "$out/caddy" run --config "$out/Amazon" --adapter caddyfile >"$out/amazon.log" 2>&1 &
amazon_pid=$!
"$out/caddy" run --config "$out/Caddyfile" --adapter caddyfile >"$out/caddy.log" 2>&1 &
caddy_pid=$!
trap 'kill $caddy_pid $amazon_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$A/" && break; sleep 0.1; done

checkout_lua "$out/checkout.lua"
printf '\nfunction delay()\n\treturn %s\nend\n' "$pace" >>"$out/checkout.lua"

run() { # port → "requests/s µs-per-request"
	local before
	before=$(cpu "$caddy_pid")
	wrk -t2 -c"$conns" -d"${secs}s" -s "$out/checkout.lua" "http://127.0.0.1:$1/checkout" >"$out/wrk.txt" 2>&1
	settle CPU-c
	awk -v a="$before" -v b="$(cpu "$caddy_pid")" -v hz="$(getconf CLK_TCK)" '
		/requests in/ {n = $1} /^Requests\/sec/ {r = $2}
		END {printf "%s %.1f\n", r, (b - a) / hz * 1e6 / n}' "$out/wrk.txt"
}

echo "warming up…"
run "$A" >/dev/null
run "$C" >/dev/null
: >"$out/pairs.txt"
for i in $(seq 1 "$pairs"); do
	if [ $((i % 2)) -eq 1 ]; then a=$(run "$A") c=$(run "$C"); else c=$(run "$C") a=$(run "$A"); fi
	echo "$a $c" | tee -a "$out/pairs.txt"
done
quartiles() { sort -g | awk '{v[NR] = $1} END {printf "%.1f (quartiles %.1f–%.1f, all %.1f–%.1f)", v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 1) / 4)], v[1], v[NR]}'; }
echo
echo "paced: $conns connections, $pace ms between a connection's requests, ${secs}s runs, $pairs pairs"
echo "(a) bare reverse_proxy:   $(awk '{print $1}' "$out/pairs.txt" | median) req/s, $(awk '{print $2}' "$out/pairs.txt" | quartiles) µs of CPU per request"
echo "(c) matched checkout:     $(awk '{print $3}' "$out/pairs.txt" | median) req/s, $(awk '{print $4}' "$out/pairs.txt" | quartiles) µs of CPU per request, all-in"
echo "µs per matched event, all-in, (c) − (a) per pair: $(awk '{print $4 - $2}' "$out/pairs.txt" | quartiles)   target ≤ 8"
s=$(status CPU-c)
echo "the module matched $(field matched <<<"$s"), sent $(field sent <<<"$s"); dropped $(field dropped <<<"$s"), waiting $(field queue_depth <<<"$s")"
