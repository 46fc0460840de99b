# Shared by the bench scripts (source it; it runs nothing by itself).

# need_wrk installs wrk from Debian when it is missing.
need_wrk() {
	command -v wrk >/dev/null 2>&1 && return
	echo "installing wrk (Debian)…"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}

# need_nginx installs nginx from Debian (nginx-light: it has the mirror
# module) when it is missing. Debian's package may try to start its own
# service; nothing here uses it.
need_nginx() {
	command -v nginx >/dev/null 2>&1 && return
	echo "installing nginx-light (Debian)…"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
}

# free_ports N prints the first of N consecutive loopback ports nobody
# listens on, below the kernel's ephemeral range: a port there can be the
# local end of a connection (wrk's, a proxy's, one in TIME-WAIT), and then
# nothing can listen on it.
free_ports() {
	local base p taken low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
	while :; do
		base=$((10000 + RANDOM % (low - 10000 - $1))) taken=
		for p in $(seq "$base" $((base + $1 - 1))); do
			(: <"/dev/tcp/127.0.0.1/$p") 2>/dev/null && taken=1 && break
		done
		[ -z "$taken" ] && echo "$base" && return
	done
}

# globals ADMIN prints the global options of a bench Caddyfile; ADMIN is the
# admin listener's port, or "off".
globals() {
	local admin="admin off"
	[ "$1" != off ] && admin="admin 127.0.0.1:$1"
	cat <<CONF
{
	$admin
	persist_config off
	default_bind 127.0.0.1
	auto_https off
	log {
		level ERROR
	}
}
CONF
}

# capi ENDPOINT-PORT ACCOUNT SPOOL-DIR prints the module's block with the
# checkout event every speed bench measures: a 1 KiB JSON body, three match
# keys. (caddymodule/bench_test.go has the same rule for the Go benchmark.)
capi() {
	cat <<CONF
	amazon_capi {
		endpoint       http://127.0.0.1:$1
		token_url      http://127.0.0.1:$1/auth/o2/token
		account_id     $2
		client_id      c
		client_secret  s
		refresh_token  r
		spool          $3
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
CONF
}

# sites UP BARE [PORT ENDPOINT ACCOUNT SPOOL]... prints the sites every bench
# Caddyfile has: the upstream (respond "ok") on UP, bare reverse_proxy to it
# on BARE, and, for each group of four, the module (capi) in front of
# reverse_proxy on PORT, sending to ENDPOINT as ACCOUNT, spooling to SPOOL.
sites() {
	local up=$1
	printf 'http://127.0.0.1:%s {\n\trespond "ok"\n}\n' "$up"
	printf 'http://127.0.0.1:%s {\n\treverse_proxy 127.0.0.1:%s\n}\n' "$2" "$up"
	shift 2
	while [ $# -ge 4 ]; do
		printf 'http://127.0.0.1:%s {\n%s\n\treverse_proxy 127.0.0.1:%s\n}\n' "$1" "$(capi "$2" "$3" "$4")" "$up"
		shift 4
	done
}

# checkout_lua FILE writes the wrk script that posts the checkout, as a
# single-page shop posts it.
checkout_lua() {
	local pad
	pad=$(printf 'x%.0s' $(seq 1 700))
	cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"order":{"total":"129.95","currency":"USD"},"customer":{"email":"Jane.Doe@example.com","phone":"+1 206 555 0100"},"shipping":{"country":"US"},"items":[{"sku":"A1","qty":2},{"sku":"B2","qty":1}],"note":"$pad"}'
LUA
}

# mix_lua FILE writes the wrk script of the realistic mix: on each wrk
# thread one request in ten is the checkout POST above (to /checkout), the
# other nine are page GETs to /page, which no event matches.
mix_lua() {
	checkout_lua "$1"
	cat >>"$1" <<'LUA'
local n, checkout, page = 0
init = function()
	checkout = wrk.format("POST", "/checkout", wrk.headers, wrk.body)
	page = wrk.format("GET", "/page", {}, "")
end
request = function()
	n = n + 1
	if n % 10 == 0 then return checkout end
	return page
end
LUA
}

# sink_site PORT prints a Caddyfile site that stands in for Amazon as a
# cheap accepting sink, validating nothing: an LWA token for any grant, and
# a v2 success answer (207, nothing in its "error" list) for any events call.
# The matcher reads the whole batch first (the {http.request.body}
# placeholder), as a real endpoint does, so that Go's server never closes a
# connection on a body it left unread (it gives up past 256 KiB; a batch of
# 500 events is about 325 KB).
sink_site() {
	cat <<CONF
http://127.0.0.1:$1 {
	header Content-Type application/json
	@token path /auth/o2/token
	respond @token \`{"access_token":"bench","token_type":"bearer","expires_in":3600}\` 200
	@events expression path('/adsApi/v1/create/events') && {http.request.body} != ""
	respond @events \`{"success":[],"error":[]}\` 207
	respond 404
}
CONF
}

# nginx_conf OUT-DIR UPSTREAM-PORT "PORT [MIRROR-PORT]"… prints an nginx.conf
# with everything (pid, logs, temp files) under OUT-DIR: 2 workers, one
# server per argument listening on loopback PORT and proxying to the
# upstream with keep-alive connections, as Caddy's reverse_proxy does; with a
# MIRROR-PORT, the checkout POST is mirrored there, body included, as a v2
# events call (Host 127.0.0.1:MIRROR-PORT, which the stand-in's site
# answers; its upstream's name would reach no site).
nginx_conf() {
	local dir=$1 up=$2 port mirror
	shift 2
	cat <<CONF
worker_processes 2;
pid $dir/nginx.pid;
error_log $dir/error.log error;
user root;
events {
	worker_connections 4096;
}
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	keepalive_requests 1000000;
	upstream up {
		server 127.0.0.1:$up;
		keepalive 64;
	}
	proxy_http_version 1.1;
	proxy_set_header Connection "";
CONF
	for arg in "$@"; do
		read -r port mirror <<<"$arg"
		if [ -z "$mirror" ]; then
			cat <<CONF
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass http://up;
		}
	}
CONF
			continue
		fi
		cat <<CONF
	upstream mirror$port {
		server 127.0.0.1:$mirror;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$port;
		location / {
			proxy_pass http://up;
		}
		location = /checkout {
			mirror /mirror;
			mirror_request_body on;
			proxy_pass http://up;
		}
		location = /mirror {
			internal;
			proxy_pass http://mirror$port/adsApi/v1/create/events;
			proxy_set_header Host 127.0.0.1:$mirror;
			proxy_set_header Connection "";
		}
	}
CONF
	done
	echo "}"
}

# cpu PID prints the process's CPU time so far (user + system), in clock ticks.
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# median prints the median of the numbers on stdin, one per line.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# status ACCOUNT prints the admin API's entry (the admin listener on port
# $ADMIN) for the destination of that account; field NAME reads a number
# from it.
status() { curl -fs "http://127.0.0.1:$ADMIN/amazon_capi/" | sed 's/"destination"/\n/g' | grep "^:\"$1@"; }
field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" | head -1; }

# settle ACCOUNT waits (at most two minutes) until that destination has
# delivered everything it queued (queue_depth 0, sent + rejected = queued),
# so that the run's CPU counts that work and the next case does not pay for
# it. "-" returns at once.
settle() {
	[ "$1" = - ] && return
	local s depth handled queued
	for _ in $(seq 1 480); do
		s=$(status "$1" || true)
		depth=$(field queue_depth <<<"$s") queued=$(field queued <<<"$s")
		handled=$((${s:+$(field sent <<<"$s") + $(field rejected <<<"$s")}))
		[ "${depth:-1}" = 0 ] && [ "$handled" -ge "${queued:-1}" ] && return
		sleep 0.25
	done
	echo "warning: $1 did not settle in two minutes" >&2
}
