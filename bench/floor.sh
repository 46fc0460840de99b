#!/usr/bin/env bash
# Splits what a matched request costs the site into layers, in a running
# Caddy: the same 1 KiB checkout as bench/run.sh, Amazon down (case e), and
# a Caddy built with the benchfloor tag, whose module stops after a given
# layer (caddymodule/floor_benchfloor.go):
#   match   the matcher only
#   tee     + reading the body
#   encode  + a ready event given an ID and encoded
#   spool   + handed to the forwarder, which spools it
#   full    the real module (the mapping builds each event)
#   burn    a control: the matcher, then AMAZON_CAPI_FLOOR_BURN (default
#           10µs) of pure CPU; what any added work costs the site
# For each layer it runs pairs of (a) bare reverse_proxy and the module,
# alternating which goes first, and prints the medians over the pairs of the
# requests/s ratio and of the site's extra CPU per request.
#
#   bash bench/floor.sh [seconds per run, default 3] [pairs, default 10] [layers…]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
secs=${1:-3}
pairs=${2:-10}
shift $(($# < 2 ? $# : 2))
layers=${*:-match tee encode spool full}
out=bench/out/floor
mkdir -p "$out"

need_wrk
go build -tags benchfloor -o "$out/caddy" ./cmd/caddy

base=$(free_ports 4)
A=$base M=$((base + 1)) UP=$((base + 2)) DOWN=$((base + 3))

cat >"$out/Caddyfile" <<CONF
$(globals off)
$(sites "$UP" "$A" "$M" "$DOWN" FLOOR "$PWD/$out/spool")
CONF
checkout_lua "$out/checkout.lua"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; true' EXIT

run() { # port → "rps cpu-µs-per-request"
	local before
	before=$(cpu "$pid")
	wrk -t2 -c32 -d"${secs}s" -s "$out/checkout.lua" "http://127.0.0.1:$1/checkout" >"$out/wrk.txt" 2>&1
	awk -v a="$before" -v b="$(cpu "$pid")" -v hz="$(getconf CLK_TCK)" '
		/requests in/ {n = $1} /^Requests\/sec/ {r = $2}
		END {printf "%s %.1f\n", r, (b - a) / hz * 1e6 / n}' "$out/wrk.txt"
}

printf '%-7s %9s %8s %12s %13s\n' layer "(a) rps" "÷ (a)" "range" "+CPU µs/req"
for layer in $layers; do
	rm -rf "$out/spool"
	AMAZON_CAPI_FLOOR=$layer "$out/caddy" run --config "$out/Caddyfile" --adapter caddyfile >"$out/caddy.log" 2>&1 &
	pid=$!
	for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$A/" && break; sleep 0.1; done
	wrk -t2 -c32 -d2s -s "$out/checkout.lua" "http://127.0.0.1:$M/checkout" >/dev/null
	: >"$out/$layer.txt"
	for i in $(seq 1 "$pairs"); do
		if [ $((i % 2)) -eq 1 ]; then a=$(run "$A") m=$(run "$M"); else m=$(run "$M") a=$(run "$A"); fi
		echo "$a $m" >>"$out/$layer.txt"
	done
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	a_rps=$(awk '{print $1}' "$out/$layer.txt" | median)
	ratio=$(awk '{printf "%.3f\n", $3 / $1}' "$out/$layer.txt" | median)
	range=$(awk '{printf "%.3f\n", $3 / $1}' "$out/$layer.txt" | sort -g | sed -n '1p;$p' | paste -sd-)
	extra=$(awk '{printf "%.1f\n", $4 - $2}' "$out/$layer.txt" | median)
	printf '%-7s %9.0f %8s %12s %13s\n' "$layer" "$a_rps" "$ratio" "$range" "$extra"
done
