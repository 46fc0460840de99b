#!/usr/bin/env bash
# Memory with Amazon down: accepts N conversions (default 1,000,000) while
# Amazon (the sandbox) is down, samples Caddy's RSS all along, then brings
# Amazon back and checks that every event is delivered.
#
#   bash bench/memory.sh [events, default 1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
n=${1:-1000000}
out=bench/out/memory
rm -rf "$out" && mkdir -p "$out"
need_wrk
go build -o "$out/caddy" ./cmd/caddy
base=$(free_ports 4)
SITE=$base SB=$((base + 1)) ADMIN=$((base + 2)) SBADMIN=$((base + 3))

cat > "$out/Caddyfile" <<CONF
$(globals "$ADMIN")
http://127.0.0.1:$SITE {
	amazon_capi {
		endpoint       http://127.0.0.1:$SB
		token_url      http://127.0.0.1:$SB/auth/o2/token
		account_id     MEMORY
		client_id      c
		client_secret  s
		refresh_token  r
		spool          $PWD/$out/spool
		event purchase {
			match {
				path /checkout
			}
			type      OFF_AMAZON_PURCHASES
			currency  USD
			value     query.v
			country   US
			match_key EMAIL query.email
			match_key FIP   request.remote_ip
		}
	}
	respond "ok"
}
CONF
cat > "$out/Sandbox" <<CONF
$(globals "$SBADMIN")
http://127.0.0.1:$SB {
	amazon_capi_sandbox {
		keep 10
	}
}
CONF
"$out/caddy" run --config "$out/Caddyfile" --adapter caddyfile >"$out/caddy.log" 2>&1 &
pid=$!
trap 'kill $pid ${sb_pid:-} 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$ADMIN/config/" && break; sleep 0.1; done

admin_json() { curl -fs "http://127.0.0.1:$ADMIN/amazon_capi/"; }
# RSS and the process's own memory (RssAnon, which leaves out mapped files)
# are both reported; the spool is read with pread, so its file's pages are
# page cache, not RSS.
peak=0 peak_anon=0
sample() {
	local r a
	r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
	a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status")
	[ "$r" -gt "$peak" ] && peak=$r
	[ "$a" -gt "$peak_anon" ] && peak_anon=$a
	return 0
}

echo "accepting $n conversions while Amazon is down…"
cat > "$out/req.lua" <<'LUA'
request = function() return wrk.format("GET", "/checkout?v=12.5&email=jane.doe%40example.com") end
LUA
start=$(date +%s)
while :; do
	queued=$(admin_json | field queued)
	[ "${queued:-0}" -ge "$n" ] && break
	wrk -t2 -c16 -d5s -s "$out/req.lua" "http://127.0.0.1:$SITE" >/dev/null 2>&1 &
	wrk_pid=$!
	while kill -0 $wrk_pid 2>/dev/null; do sample; sleep 1; done
done
queued=$(admin_json | field queued)
for _ in $(seq 1 30); do sample; sleep 0.2; done
spooled=$(admin_json | field spooled)
echo "queued $queued events in $(( $(date +%s) - start ))s; $spooled spooled; peak RSS $((peak / 1024)) MiB (own memory $((peak_anon / 1024)) MiB); spool file $(du -sm "$out/spool" | cut -f1) MiB"

echo "Amazon is back…"
"$out/caddy" run --config "$out/Sandbox" --adapter caddyfile >"$out/sandbox.log" 2>&1 &
sb_pid=$!
start=$(date +%s)
while :; do
	sample
	left=$(admin_json | field spooled)
	[ "${left:-1}" -eq 0 ] && break
	sleep 1
done
accepted=$(curl -fs "http://127.0.0.1:$SB/sandbox/events" | field accepted)
echo "delivered in $(( $(date +%s) - start ))s: the sandbox accepted $accepted of $queued; peak over the whole run: RSS $((peak / 1024)) MiB, own memory (RssAnon) $((peak_anon / 1024)) MiB"
