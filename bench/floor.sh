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
# For each layer it runs pairs of (a) bare reverse_proxy and the module,
# alternating which goes first, and prints the medians over the pairs of the
# requests/s ratio and of the site's extra CPU per request.
#
#   bash bench/floor.sh [seconds per run, default 3] [pairs, default 10] [layers…]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-3}
pairs=${2:-10}
shift $(($# < 2 ? $# : 2))
layers=${*:-match tee encode spool full}
out=bench/out/floor
mkdir -p "$out"

if ! command -v wrk >/dev/null 2>&1; then
	echo "installing wrk (Debian)…"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
go build -tags benchfloor -o "$out/caddy" ./cmd/caddy

free() { for p in $(seq "$1" $(($1 + 3))); do (: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 1; done; return 0; }
base=$((20000 + RANDOM % 20000))
until free "$base"; do base=$((20000 + RANDOM % 20000)); done
A=$base M=$((base + 1)) UP=$((base + 2)) DOWN=$((base + 3))

cat >"$out/Caddyfile" <<CONF
{
	admin off
	persist_config off
	default_bind 127.0.0.1
	auto_https off
	log {
		level ERROR
	}
}
http://127.0.0.1:$UP {
	respond "ok"
}
http://127.0.0.1:$A {
	reverse_proxy 127.0.0.1:$UP
}
http://127.0.0.1:$M {
	amazon_capi {
		endpoint       http://127.0.0.1:$DOWN
		token_url      http://127.0.0.1:$DOWN/auth/o2/token
		account_id     FLOOR
		client_id      c
		client_secret  s
		refresh_token  r
		spool          $PWD/$out/spool
		event purchase {
			match {
				method POST
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			value     body.order.total
			currency  body.order.currency
			units_sold body.items.#.qty|@sum
			country   body.shipping.country
			match_key EMAIL body.customer.email
			match_key PHONE body.customer.phone
			match_key FIP   request.remote_ip
		}
	}
	reverse_proxy 127.0.0.1:$UP
}
CONF
pad=$(printf 'x%.0s' $(seq 1 700))
cat >"$out/checkout.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"Jane.Doe@example.com","phone":"+1 206 555 0100"},"shipping":{"country":"US"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"note":"$pad"}'
LUA

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # port → "rps cpu-µs-per-request"
	local before
	before=$(cpu "$pid")
	wrk -t2 -c32 -d"${secs}s" -s "$out/checkout.lua" "http://127.0.0.1:$1/checkout" >"$out/wrk.txt" 2>&1
	awk -v a="$before" -v b="$(cpu "$pid")" -v hz="$(getconf CLK_TCK)" '
		/requests in/ {n = $1} /^Requests\/sec/ {r = $2}
		END {printf "%s %.1f\n", r, (b - a) / hz * 1e6 / n}' "$out/wrk.txt"
}
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

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
	a_rps=$(awk '{print $1}' "$out/$layer.txt" | median)
	ratio=$(awk '{printf "%.3f\n", $3 / $1}' "$out/$layer.txt" | median)
	range=$(awk '{printf "%.3f\n", $3 / $1}' "$out/$layer.txt" | sort -g | sed -n '1p;$p' | paste -sd-)
	extra=$(awk '{printf "%.1f\n", $4 - $2}' "$out/$layer.txt" | median)
	printf '%-7s %9.0f %8s %12s %13s\n' "$layer" "$a_rps" "$ratio" "$range" "$extra"
done
