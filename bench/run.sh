#!/usr/bin/env bash
# Measures what the module costs the site, over loopback, with one Caddy
# binary built from cmd/caddy, side by side in one run:
#   (a) bare reverse_proxy
#   (b) amazon_capi in front, request not matched
#   (c) amazon_capi, matched 1 KiB JSON checkout, three match keys, spool
#   (d) as (c), Amazon (the sandbox) answering after 2 s
#   (e) as (c), Amazon down (connection refused)
# and prints requests/s, p50, p99, the ratio of each to (a), the CPU the
# site's Caddy spent per request, and for (c) the events the sandbox
# received against the requests sent.
#
# The sandbox stands in for Amazon, whose CPU is not the shop's: it runs in
# its own process under the SCHED_IDLE policy (chrt --idle), so on a machine
# the load saturates it takes only what the site leaves idle, and catches up
# after each case. Its CPU per event is printed too.
#
#   bash bench/run.sh [seconds per case, default 10] [connections, default 32] [rounds, default 5]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
secs=${1:-10}
conns=${2:-32}
rounds=${3:-5}
out=bench/out
mkdir -p "$out"
rm -rf "$out/spool-"*

need_wrk
go build -o "$out/caddy" ./cmd/caddy

base=$(free_ports 10)
A=$base B=$((base + 1)) C=$((base + 2)) D=$((base + 3)) E=$((base + 4))
UP=$((base + 5)) SB=$((base + 6)) SLOW=$((base + 7)) DOWN=$((base + 8)) ADMIN=$((base + 9))

cat > "$out/Caddyfile" <<CONF
$(globals "$ADMIN")
http://127.0.0.1:$UP {
	respond "ok"
}
http://127.0.0.1:$A {
	reverse_proxy 127.0.0.1:$UP
}
http://127.0.0.1:$B {
$(capi "$SB" BENCH-b "$PWD/$out/spool-b")
	reverse_proxy 127.0.0.1:$UP
}
http://127.0.0.1:$C {
$(capi "$SB" BENCH-c "$PWD/$out/spool-c")
	reverse_proxy 127.0.0.1:$UP
}
http://127.0.0.1:$D {
$(capi "$SLOW" BENCH-d "$PWD/$out/spool-d")
	reverse_proxy 127.0.0.1:$UP
}
http://127.0.0.1:$E {
$(capi "$DOWN" BENCH-e "$PWD/$out/spool-e")
	reverse_proxy 127.0.0.1:$UP
}
CONF
cat > "$out/Amazon" <<CONF
$(globals off)
http://127.0.0.1:$SB {
	amazon_capi_sandbox {
		keep 10
	}
}
http://127.0.0.1:$SLOW {
	amazon_capi_sandbox {
		keep 10
		delay 2s
	}
}
CONF

chrt --idle 0 "$out/caddy" run --config "$out/Amazon" --adapter caddyfile >"$out/amazon.log" 2>&1 &
amazon_pid=$!
"$out/caddy" run --config "$out/Caddyfile" --adapter caddyfile >"$out/caddy.log" 2>&1 &
caddy_pid=$!
trap 'kill $caddy_pid $amazon_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$A/" && curl -fs -o /dev/null "http://127.0.0.1:$SB/sandbox/events" && break; sleep 0.1; done

checkout_lua "$out/checkout.lua"

run() { # name port path
	local url="http://127.0.0.1:$2$3" before amazon_before
	before=$(cpu "$caddy_pid") amazon_before=$(cpu "$amazon_pid")
	wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$out/checkout.lua" "$url" >"$out/wrk-$1.txt" 2>&1
	local rps p50 p99 reqs us
	rps=$(awk '/^Requests\/sec/ {print $2}' "$out/wrk-$1.txt")
	p50=$(awk '$1=="50%" {print $2}' "$out/wrk-$1.txt")
	p99=$(awk '$1=="99%" {print $2}' "$out/wrk-$1.txt")
	reqs=$(awk '/requests in/ {print $1}' "$out/wrk-$1.txt")
	us=$(awk -v a="$before" -v b="$(cpu "$caddy_pid")" -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN {printf "%.0f", (b - a) / hz * 1e6 / n}')
	settle
	echo "$1 $rps $p50 $p99 $reqs $us $(awk -v a="$amazon_before" -v b="$(cpu "$amazon_pid")" -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN {printf "%.0f", (b - a) / hz * 1e6 / n}')"
}
# settle waits (at most two minutes) until the destination of (c) has
# delivered everything, so the next case does not pay for its delivery.
settle() {
	for _ in $(seq 1 240); do
		curl -fs "http://127.0.0.1:$ADMIN/amazon_capi/" | sed 's/"destination"/\n/g' | grep '^:"BENCH-c@' | grep -q '"queue_depth":0,' && return
		sleep 0.5
	done
}

echo "warming up…"
wrk -t2 -c"$conns" -d5s -s "$out/checkout.lua" "http://127.0.0.1:$A/checkout" >/dev/null
wrk -t2 -c"$conns" -d5s -s "$out/checkout.lua" "http://127.0.0.1:$E/checkout" >/dev/null
# The machine drifts (the same case varies by ±10 % from one minute to the
# next), so each case is measured right next to a run of (a), in pairs whose
# order alternates from round to round, and compared with that run; the
# table shows medians over the rounds.
: >"$out/results.txt"
declare -A target=([a]="$A /checkout" [b]="$B /other" [c]="$C /checkout" [d]="$D /checkout" [e]="$E /checkout")
for round in $(seq 1 "$rounds"); do
	echo "round $round of $rounds…"
	for x in b c d e; do
		pair="a $x"
		[ $((round % 2)) -eq 0 ] && pair="$x a"
		for c in $pair; do
			# shellcheck disable=SC2086
			echo "$round$x $(run $c ${target[$c]})" >>"$out/results.txt"
		done
	done
done

column() { # case, awk function of: rps p50 p99 reqs cpu amazon, and those of the (a) run paired with it
	awk -v c="$1" '
		{ rps = $3; p50 = ms($4); p99 = ms($5); reqs = $6; cpu = $7; amazon = $8 }
		$2 == "a" { a_rps[$1] = rps; a_p99[$1] = p99 }
		$2 == c { r[$1] = rps; q50[$1] = p50; q99[$1] = p99; n[$1] = reqs; u[$1] = cpu; z[$1] = amazon }
		END { for (k in r) print '"$2"'(r[k], q50[k], q99[k], n[k], u[k], z[k], a_rps[k], a_p99[k]) }
		function ms(v, x) { x = v + 0; if (v ~ /us$/) return x / 1000; if (v ~ /ms$/) return x; if (v ~ /s$/) return x * 1000; return x }
		function pick_rps(r, p50, p99, n, u, z, ar, ap) { return r }
		function pick_p50(r, p50, p99, n, u, z, ar, ap) { return p50 }
		function pick_p99(r, p50, p99, n, u, z, ar, ap) { return p99 }
		function pick_ratio(r, p50, p99, n, u, z, ar, ap) { return r / ar }
		function pick_p99ratio(r, p50, p99, n, u, z, ar, ap) { return p99 / ap }
		function pick_cpu(r, p50, p99, n, u, z, ar, ap) { return u }
		function pick_amazon(r, p50, p99, n, u, z, ar, ap) { return z }
		function pick_reqs(r, p50, p99, n, u, z, ar, ap) { return n }
	' "$out/results.txt"
}

printf '\nmedian of %d rounds of %ss runs, %d connections; each ratio against the (a) run next to it\n' "$rounds" "$secs" "$conns"
printf '%-44s %10s %9s %9s %8s %9s %9s %10s\n' case "req/s" "p50 ms" "p99 ms" "÷ (a)" "p99 ÷ (a)" "site CPU" "Amazon CPU"
labels=("(a) bare reverse_proxy" "(b) module, request not matched" "(c) module, matched checkout, spool" "(d) as (c), Amazon answers after 2 s" "(e) as (c), Amazon down")
i=0
for c in a b c d e; do
	printf '%-44s %10.0f %9.2f %9.2f %8.3f %9.2f %9s %10s\n' "${labels[$i]}" \
		"$(column $c pick_rps | median)" "$(column $c pick_p50 | median)" "$(column $c pick_p99 | median)" \
		"$(column $c pick_ratio | median)" "$(column $c pick_p99ratio | median)" \
		"$(column $c pick_cpu | median)" "$(column $c pick_amazon | median)"
	i=$((i + 1))
done
echo "(site CPU and Amazon CPU: µs of CPU per request, of the site's Caddy and of the sandbox's process)"

# Every request of (c) must become an event that reaches the sandbox, once.
# wrk counts the requests answered within each run; the module counts every
# request it matched, including those still in flight when wrk stopped.
sent_c=$(column c pick_reqs | awk '{s += $1} END {print s}')
matched_c() { curl -fs "http://127.0.0.1:$ADMIN/amazon_capi/" | sed 's/"destination"/\n/g' | grep '^:"BENCH-c@' | sed -n 's/.*"matched":\([0-9]*\).*/\1/p'; }
accepted_c() { curl -fs "http://127.0.0.1:$SB/sandbox/events" | sed -n 's/.*"accepted":\([0-9]*\).*/\1/p' | head -1; }
for _ in $(seq 1 120); do
	[ "$(accepted_c)" -ge "$(matched_c)" ] && break
	sleep 0.5
done
dropped=$(curl -fs "http://127.0.0.1:$ADMIN/amazon_capi/" | tr ',' '\n' | grep -c '"dropped":[1-9]' || true)
echo
echo "(c): wrk saw $sent_c requests answered; the module matched $(matched_c); the sandbox accepted $(accepted_c) events; destinations with drops: $dropped"
